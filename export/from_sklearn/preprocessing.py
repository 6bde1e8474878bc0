"""sklearn transformers (scalers, Normalizer, SimpleImputer, OneHotEncoder, PCA) → IR transform nodes."""

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
    """sklearn: `X *= scale_; X += min_` — the IR's multiply-then-add form with bias = min_, the same two roundings.
    clip=True clamps to feature_range, which no IR transform expresses → refused."""
    require_param(est, "clip", (False,))
    scale = dense(est.scale_)
    return Converted(ir.Scaler(offset=np.zeros(scale.size), scale=scale, bias=dense(est.min_)), ir.Transformed())


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
    """Entries equal to `missing_values` become `statistics_[i]` (mean/median/most_frequent/constant)."""
    require_param(est, "add_indicator", (False,))  # the indicator columns would change the output width
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
    return Converted(ir.Imputer(missing_value=_missing_value(est), fill=fill), ir.Transformed())


def column_label(est: Any, column: int) -> str:
    """A fitted encoder's input column as the user knows it: its DataFrame name, else its position."""
    names = getattr(est, "feature_names_in_", None)
    return f"column {str(names[column])!r}" if names is not None and column < len(names) else f"column {column}"


def _integer_categories(est: Any, column: int, categories: np.ndarray) -> np.ndarray:
    label = column_label(est, column)
    if categories.dtype.kind in "iub":
        return categories.astype(np.int64)
    if categories.dtype.kind == "f" and np.all(np.isfinite(categories)) and np.all(categories == np.round(categories)):
        return categories.astype(np.int64)
    if categories.dtype.kind == "f" and np.any(np.isnan(categories)):
        raise refuse(est, f"{label} has NaN as a category (a numeric column with missing values); supported: "
                          "integer-valued categories without NaN (impute the column first, or encode it as strings)")
    if categories.dtype.kind in "OU":
        raise refuse(est, f"{label} has string categories; supported here: integer-valued numeric columns "
                          "(string columns are supported as a ColumnTransformer part on a DataFrame)")
    raise refuse(est, f"{label} has non-integer float categories; supported: integer-valued categories")


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
    names = getattr(est, "feature_names_in_", None)
    numeric = f" (here on numeric {'column' if names is not None and len(names) == 1 else 'columns'} " \
              f"{', '.join(repr(str(n)) for n in names)})" if names is not None else " (here on a numpy array)"
    raise refuse(est, f"is supported on string columns of a DataFrame, as a ColumnTransformer part (optionally after "
                      f"a SimpleImputer); numeric columns and numpy input are not supported{numeric} — encode "
                      "numeric codes as strings before fitting (df[col].astype(str)), or use OneHotEncoder")


def truncated_svd_to_ir(est: Any) -> Converted:
    """sklearn TruncatedSVD.transform = X @ components_.T (no centring)."""
    weights = dense(est.components_)
    return Converted(ir.Linear(weights=weights, bias=np.zeros(weights.shape[0])), ir.Transformed())
