"""sklearn transformers (scalers, Normalizer, imputers and missing indicators, OneHotEncoder, discretizers, PCA,
FastICA) → IR transform nodes."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from export import ir
from export.from_sklearn.estimator_checks import dense, refuse, require_param
from export.frontends import Converted

# Scalers reproduce scikit-learn's dense `transform` operation by operation (sklearn/preprocessing/_data.py): it
# subtracts, then divides by `scale_` in place, so the IR divides too (Scaler.divide) rather than multiplying by a
# reciprocal. A skipped step becomes offset 0 / divisor 1, both exact identities (x - 0 == x, x / 1 == x, NaN
# and -0.0 included). Zero-variance / zero-range features already have scale_ = 1 (_handle_zeros_in_scale).


def standard_scaler_to_ir(est: Any) -> Converted:
    """sklearn: `X -= mean_` if with_mean, then `X /= scale_` if with_std (scale_ is None when with_std=False;
    mean_ is fitted but unused when with_mean=False)."""
    n = int(est.n_features_in_)
    offset = dense(est.mean_) if est.with_mean else np.zeros(n)
    divisor = dense(est.scale_) if est.with_std else np.ones(n)
    return Converted(ir.Scaler(offset=offset, scale=divisor, divide=True), ir.Transformed())


def min_max_scaler_to_ir(est: Any) -> Converted:
    """sklearn: `X *= scale_; X += min_` — the IR's multiply-then-add form with bias = min_, the same two roundings;
    clip=True then `np.clip(X, feature_range[0], feature_range[1])`, the Scaler's clip."""
    scale = dense(est.scale_)
    clip = (float(est.feature_range[0]), float(est.feature_range[1])) if est.clip else None
    return Converted(ir.Scaler(offset=np.zeros(scale.size), scale=scale, bias=dense(est.min_), clip=clip),
                     ir.Transformed())


def max_abs_scaler_to_ir(est: Any) -> Converted:
    """sklearn: `X /= scale_` (scale_ = max|x|, 1 for all-zero columns)."""
    scaler = ir.Scaler(offset=np.zeros(int(est.n_features_in_)), scale=dense(est.scale_), divide=True)
    return Converted(scaler, ir.Transformed())


def robust_scaler_to_ir(est: Any) -> Converted:
    """sklearn: `X -= center_` if with_centering, then `X /= scale_` if with_scaling (either attribute is None when
    its flag is False)."""
    n = int(est.n_features_in_)
    offset = dense(est.center_) if est.with_centering else np.zeros(n)
    divisor = dense(est.scale_) if est.with_scaling else np.ones(n)
    return Converted(ir.Scaler(offset=offset, scale=divisor, divide=True), ir.Transformed())


def normalizer_to_ir(est: Any) -> Converted:
    """Row-wise x / norm(x) with l1, l2 or max (= max|x_i|); zero rows unchanged."""
    require_param(est, "norm", ("l1", "l2", "max"))
    return Converted(ir.Normalizer(norm=est.norm, n_features=int(est.n_features_in_)), ir.Transformed())


def _missing_value(est: Any) -> float:
    missing = est.missing_values
    if isinstance(missing, numbers.Real) and not isinstance(missing, bool):
        return float(missing)
    raise refuse(est, f"missing_values={missing!r} is not supported; allowed: np.nan or a number")


def simple_imputer_to_ir(est: Any) -> Converted:
    """Entries equal to `missing_values` become `statistics_[i]` (mean/median/most_frequent/constant). With
    add_indicator=True sklearn appends `indicator_.transform` of the same input (np.hstack((X_imputed, X_indicator)),
    `_concatenate_indicator`): a Concat of the Imputer and the MissingIndicator, both reading the raw row."""
    if not isinstance(est.strategy, str):
        raise refuse(est, "a callable strategy is not supported; allowed: 'mean', 'median', 'most_frequent', "
                          "'constant'")
    statistics = np.asarray(est.statistics_)
    # strategy='constant' stores statistics_ as an object array even for a numeric fill_value
    numeric_objects = statistics.dtype.kind == "O" and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in statistics.tolist())
    if statistics.dtype.kind not in "iuf" and not numeric_objects:
        raise refuse(est, f"statistics_ of dtype {statistics.dtype} (non-numeric columns) is not supported; "
                          "supported: numeric columns")
    fill = statistics.astype(np.float64)
    empty = np.flatnonzero(np.isnan(fill))
    if empty.size:
        # keep_empty_features=False: sklearn drops columns that were all missing in training (NaN statistic).
        raise refuse(est, f"columns {empty.tolist()} were all missing in training and are dropped by sklearn "
                          "(keep_empty_features=False); supported: no such columns, or keep_empty_features=True")
    imputer = ir.Imputer(missing_value=_missing_value(est), fill=fill)
    indicator = est.indicator_ if est.add_indicator else None
    if indicator is None or indicator.features_.size == 0:  # no column was missing in training: no indicator block
        return Converted(imputer, ir.Transformed())
    return Converted(ir.Concat(parts=(imputer, _indicator(indicator, imputer.missing_value))), ir.Transformed())


def _indicator(est: Any, missing_value: float) -> ir.MissingIndicator:
    return ir.MissingIndicator(missing_value=missing_value, features=np.asarray(est.features_, dtype=np.int64),
                               n_features=int(est._n_features))


def missing_indicator_to_ir(est: Any) -> Converted:
    """sklearn: the missing mask of X (`_get_mask`: isnan, or == missing_values) restricted to `features_` (the
    columns with a missing value in training for features='missing-only', all columns for 'all'), as 0/1."""
    if est._precomputed:
        raise refuse(est, "a precomputed (boolean mask) input is not supported; supported: the numeric rows")
    if est.features_.size == 0:
        raise refuse(est, "no feature had missing values in training (transform returns an empty array); "
                          "supported: at least one indicated feature (or features='all')")
    return Converted(_indicator(est, _missing_value(est)), ir.Transformed())


def binarizer_to_ir(est: Any) -> Converted:
    """sklearn `binarize`: 1 where x > threshold, else 0 (strictly greater; NaN is refused by its check_array). For
    doubles x > t <=> x >= nextafter(t, +inf): one Bins edge per feature."""
    threshold = float(est.threshold)
    if not np.isfinite(threshold):
        raise refuse(est, f"threshold={est.threshold!r} is not supported; supported: a finite number")
    edge = np.nextafter(threshold, np.inf)
    return Converted(ir.Bins(edges=tuple(np.array([edge]) for _ in range(int(est.n_features_in_)))),
                     ir.Transformed())


def k_bins_discretizer_to_ir(est: Any) -> Converted:
    """sklearn 1.9 `transform`: code_j = np.searchsorted(bin_edges_[j][1:-1], x_j, side='right') — the IR Bins
    over the inner edges, whatever the strategy (uniform / quantile / kmeans fix only bin_edges_); encode='onehot'
    / 'onehot-dense' then one-hot the codes with the fitted `_encoder` (categories 0..n_bins_[j]-1; sparse output is
    the same values, densified)."""
    if est.dtype not in (None, np.float64):
        raise refuse(est, f"dtype={est.dtype!r} is not supported (the codes would be computed on float32 rows); "
                          "supported: None, np.float64")
    bins = ir.Bins(edges=tuple(dense(edges)[1:-1] for edges in est.bin_edges_))
    if est.encode == "ordinal":
        return Converted(bins, ir.Transformed())
    encoder = ir.OneHotEncoder(categories=tuple(np.asarray(c) for c in est._encoder.categories_))
    return Converted(ir.Pipeline(steps=(bins, encoder)), ir.Transformed())


def _integer_categories(est: Any, column: int, categories: np.ndarray) -> np.ndarray:
    if categories.dtype.kind in "iub":
        return categories.astype(np.int64)
    if categories.dtype.kind == "f" and np.all(np.isfinite(categories)) and np.all(categories == np.round(categories)):
        return categories.astype(np.int64)
    if categories.dtype.kind == "f" and np.any(np.isnan(categories)):
        raise refuse(est, f"column {column} has NaN as a category; supported: integer-valued categories")
    if categories.dtype.kind in "OU":
        raise refuse(est, f"column {column} has string categories; supported here: integer-valued numeric columns "
                          "(string columns are supported as a ColumnTransformer part on a DataFrame)")
    raise refuse(est, f"column {column} has non-integer float categories; supported: integer-valued categories")


def one_hot_encoder_to_ir(est: Any) -> Converted:
    """One indicator block per column in `categories_` order. Unknown values give all zeros in the export:
    sklearn does the same for handle_unknown='ignore' (and 'warn' / 'infrequent_if_exist' without infrequent
    categories) but raises for handle_unknown='error' — see the SUPPORTED notes."""
    if est.drop_idx_ is not None:
        raise refuse(est, f"parameter drop={est.drop!r} is not supported; allowed: None")
    if getattr(est, "_infrequent_enabled", False):
        raise refuse(est, "infrequent categories (min_frequency / max_categories) are not supported; allowed: None")
    encoder = ir.OneHotEncoder(categories=tuple(_integer_categories(est, j, np.asarray(c))
                                                for j, c in enumerate(est.categories_)))
    return Converted(encoder, ir.Transformed())


def pca_to_ir(est: Any) -> Converted:
    """sklearn: (X @ components_.T - mean_ @ components_.T) / sqrt(explained_variance_) (whiten; variances below
    float eps are clipped to eps first). Folded into one affine map; rounding differs from sklearn by a few ulp."""
    weights = dense(est.components_)
    bias = -(dense(est.mean_) @ weights.T)
    if est.whiten:
        scale = np.sqrt(dense(est.explained_variance_))
        eps = np.finfo(np.asarray(est.explained_variance_).dtype).eps  # sklearn clips at eps of the fitted dtype
        scale[scale < eps] = eps
        weights = weights / scale[:, np.newaxis]
        bias = bias / scale
    return Converted(ir.Linear(weights=weights, bias=bias), ir.Transformed())


def string_encoder_to_ir(est: Any) -> Converted:
    """OrdinalEncoder / TargetEncoder reading a numeric row: not exported (their codes and encodings are exported as
    lookups of string columns, `export.from_sklearn.dataframe`)."""
    raise refuse(est, "is supported on string columns of a DataFrame, as a ColumnTransformer part (optionally after "
                      "a SimpleImputer); numeric columns and numpy input are not supported")


def polynomial_features_to_ir(est: Any) -> Converted:
    """sklearn's dense transform builds each degree-d term as (a degree d-1 term) * x_j with j the term's lowest
    feature: term(c0 <= c1 <= ...) = term(c1, ...) * x_c0 (`XP[:, start:end] * X[:, feature_idx]`), the bias is
    the constant 1; the output columns are `powers_` rows in order. Each term's product is reproduced as that one
    rounded multiplication, so the export equals scikit-learn bit for bit."""
    factor: list[int] = []
    rest: list[int] = []
    index: dict[tuple[int, ...], int] = {}

    def term(combination: tuple[int, ...]) -> int:
        if combination not in index:
            if not combination:
                factor.append(-1)
                rest.append(-1)
            else:
                inner = term(combination[1:]) if len(combination) > 1 else -1
                factor.append(combination[0])
                rest.append(inner)
            index[combination] = len(factor) - 1
        return index[combination]

    powers = np.asarray(est.powers_, dtype=np.int64)
    outputs = [term(tuple(int(j) for j in np.repeat(np.arange(powers.shape[1]), row))) for row in powers]
    node = ir.Monomials(n_features=int(est.n_features_in_), factor=np.array(factor), rest=np.array(rest),
                        outputs=np.array(outputs))
    return Converted(node, ir.Transformed())


_UFUNCS: dict[Any, ir.UnaryName] = {np.abs: "abs", np.negative: "negative", np.square: "square", np.sqrt: "sqrt",
                                     np.reciprocal: "reciprocal", np.exp: "exp", np.log: "log", np.log1p: "log1p",
                                     np.expm1: "expm1", np.tanh: "tanh", np.floor: "floor", np.ceil: "ceil",
                                     np.rint: "rint"}


def function_transformer_to_ir(est: Any) -> Converted:
    """FunctionTransformer.transform = func(X, **kw_args): func None is the identity; a numpy ufunc of `_UFUNCS`
    without kw_args is an IR UnaryFunction (validate / inverse_func / check_inverse do not change transform)."""
    n = int(est.n_features_in_)
    if est.kw_args:
        raise refuse(est, f"kw_args={est.kw_args!r} is not supported; allowed: None")
    if est.func is None:
        return Converted(ir.ColumnSelect(indices=np.arange(n), n_features=n), ir.Transformed())
    name = next((name for ufunc, name in _UFUNCS.items() if est.func is ufunc), None)
    if name is None:
        raise refuse(est, f"func={getattr(est.func, '__name__', est.func)!r} is not supported; allowed: None or "
                          "numpy." + ", numpy.".join(_UFUNCS.values()))
    return Converted(ir.UnaryFunction(function=name, n_features=n), ir.Transformed())


def quantile_transformer_to_ir(est: Any) -> Converted:
    """QuantileTransformer.transform (`_transform_col`), its constants read as scikit-learn computes them:
    BOUNDS_THRESHOLD and, for the normal output, the clip bounds stats.norm.ppf(BOUNDS_THRESHOLD - np.spacing(1))
    and stats.norm.ppf(1 - (BOUNDS_THRESHOLD - np.spacing(1)))."""
    from scipy import stats
    from sklearn.preprocessing._data import BOUNDS_THRESHOLD

    clip = None
    if est.output_distribution == "normal":
        clip = (float(stats.norm.ppf(BOUNDS_THRESHOLD - np.spacing(1))),
                float(stats.norm.ppf(1 - (BOUNDS_THRESHOLD - np.spacing(1)))))
    node = ir.QuantileMap(quantiles=dense(est.quantiles_), references=dense(est.references_), normal_clip=clip,
                          bounds_threshold=float(BOUNDS_THRESHOLD))
    return Converted(node, ir.Transformed())


def fast_ica_to_ir(est: Any) -> Converted:
    """sklearn FastICA.transform: `X -= mean_` (only when whiten), then `X @ components_.T` — a Scaler subtracting
    mean_ (the same subtraction) then a Linear; only the dot products' summation order differs (a few ulp)."""
    weights = dense(est.components_)
    linear = ir.Linear(weights=weights, bias=np.zeros(weights.shape[0]))
    if not est.whiten:
        return Converted(linear, ir.Transformed())
    centre = ir.Scaler(offset=dense(est.mean_), scale=np.ones(weights.shape[1]), divide=True)
    return Converted(ir.Pipeline(steps=(centre, linear)), ir.Transformed())


def truncated_svd_to_ir(est: Any) -> Converted:
    """sklearn TruncatedSVD.transform = X @ components_.T (no centring)."""
    weights = dense(est.components_)
    return Converted(ir.Linear(weights=weights, bias=np.zeros(weights.shape[0])), ir.Transformed())
