"""Probe step of the parity flow: the named input sets every artifact is checked on, built from model + user data.

Probe set names (golden.md `rows[].probe`): user-data, model-derived, thresholds, float32-neighbours,
rounding-boundaries, critical-points, nan, extremes, unseen-categories, string-categories, text, one-row, large-batch.

Critical-point probes put a feature of a real row exactly at a transformer's critical point c — where its output
jumps or changes formula (a Binarizer threshold, a KBinsDiscretizer bin edge, a clip bound; the reference adapter's
`critical_points`) — and at c's float64 neighbours, so a comparison off by one ulp (> for >=) changes an output.

With string columns (an InputSchema, parity/columns.py) the numeric probes touch numeric columns only, and
`string-categories` sets each string column of a real row to every category the artifacts know, to an unseen
string and to missing (fed to artifacts as "", to the Python model as the column's NaN/None). A text column (read by
a CountVectorizer / TfidfVectorizer / HashingVectorizer, parity/text_inputs.py) is probed with documents instead:
`text` sets it to each probe document of parity.text_probes.

Threshold probes put a feature of a real row exactly at a split threshold t of a tree (scikit-learn `tree_`, HGB
`_predictors` nodes) and at the values around it where float32/float64 routing can differ: t, float32(t), the float64
neighbours of t, the float32 values bracketing t, and the float32 rounding boundary between those (the double value
where float32(x) changes — where a double artifact snapped to scikit-learn's float32 routing switches branch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parity.columns import InputSchema
from parity.references import adapter_for, family

F32_MAX = float(np.finfo(np.float32).max)
EXTREME_VALUES = (0.0, -0.0, 1e30, -1e30, F32_MAX, -F32_MAX)
MAX_THRESHOLDS = 2000
MAX_FEATURES_PER_ROW_PROBE = 64  # NaN/extreme probes: one feature per row, on at most this many features
LARGE_BATCH_ROWS = 2000
ROWS_PER_SPLIT = 8  # at most this many real rows carry each threshold probe (small models)
MODEL_DERIVED_ROWS = 200
MAX_CATEGORIES_PER_COLUMN = 256  # string-category probes: at most this many known categories per column


@dataclass
class ProbeSet:
    """A named set of probe rows (raw float64 inputs, before rounding to the contract dtype)."""

    name: str
    X: np.ndarray
    description: str
    # For threshold-type probes: the split each row targets (raw input column, threshold), for diagnosis.
    split_feature: np.ndarray | None = None
    split_threshold: np.ndarray | None = None


@dataclass
class Probes:
    sets: list[ProbeSet] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def by_name(self, name: str) -> ProbeSet | None:
        return next((s for s in self.sets if s.name == name), None)


# ----------------------------------------------------------------------------------------------------------------
# Trees and where they read the raw input


@dataclass(frozen=True)
class TreeSplits:
    """Numerical splits of the tree model(s) in raw-input coordinates."""

    feature: np.ndarray  # raw input column per split
    threshold: np.ndarray
    tree: np.ndarray  # index of the tree (flattened estimators_ order) holding the split
    node: np.ndarray  # node index within that tree
    compares_float32: bool  # scikit-learn.tree models compare float32(x); HGB compares float64 x
    model: Any = None  # the tree model (last pipeline step)
    head: Any = None  # the pipeline steps before it (None: the model reads raw input)


def tree_arrays(model: Any) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
    """(feature, threshold, node index) of the internal numerical nodes of every tree, or None if not a tree model."""
    trees = adapter_for(model).trees(model)
    if trees is None:
        return None
    return [(tree.feature[~tree.leaf], tree.threshold[~tree.leaf], np.flatnonzero(~tree.leaf)) for tree in trees]


def tree_splits(estimator: Any, n_features: int) -> tuple[TreeSplits | None, str | None]:
    """Splits of the tree model in raw-input coordinates, or (None, reason the probes are skipped)."""
    steps = list(estimator.steps) if hasattr(estimator, "steps") else [("model", estimator)]
    if tree_arrays(steps[-1][1]) is None:
        return None, None  # not a tree model: no thresholds to probe
    adapter = adapter_for(estimator)
    mapping = np.arange(n_features)
    for step_name, step in steps[:-1]:
        step_map = adapter.raw_columns(step, len(mapping))
        if step_map is None:
            return None, (
                f"threshold probes skipped: the tree reads the output of step {step_name!r} "
                f"({type(step).__name__}), not raw input; raw-space probes are only exact where the tree reads raw "
                f"columns (directly, after passthrough/column selection or SimpleImputer)"
            )
        mapping = mapping[step_map]
    model = steps[-1][1]
    arrays = tree_arrays(model)
    if arrays is None:
        return None, None
    if not arrays:
        return None, None
    categorical = getattr(model, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        # HGB moves categorical columns to the front of its internal order; node.feature_idx indexes that order
        # (categorical-semantics.md §2.2), so map it back to the column the node reads.
        categorical = np.asarray(categorical, dtype=bool)
        mapping = mapping[np.concatenate([np.flatnonzero(categorical), np.flatnonzero(~categorical)])]
    features = np.concatenate([a[0] for a in arrays])
    thresholds = np.concatenate([a[1] for a in arrays])
    nodes = np.concatenate([a[2] for a in arrays])
    trees = np.repeat(np.arange(len(arrays)), [len(a[0]) for a in arrays])
    compares_float32 = adapter.compares_float32(model)
    head = estimator[:-1] if len(steps) > 1 else None
    return TreeSplits(mapping[features], thresholds, trees, nodes, compares_float32, model, head), None


# ----------------------------------------------------------------------------------------------------------------
# Values around a threshold


def float32_bracket(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lo = largest float32 <= t, hi = next float32 above lo (as float64)."""
    with np.errstate(over="ignore"):  # thresholds at ±FLT_MAX (CatBoost's NaN border) step to ±inf
        nearest = t.astype(np.float32)
        lo = np.where(nearest.astype(np.float64) <= t, nearest, np.nextafter(nearest, np.float32(-np.inf)))
        hi = np.nextafter(lo.astype(np.float32), np.float32(np.inf))
    return lo.astype(np.float64), hi.astype(np.float64)


def threshold_values(t: np.ndarray) -> dict[str, list[np.ndarray]]:
    """Probe values per probe-set name for thresholds t."""
    with np.errstate(over="ignore"):
        f32 = t.astype(np.float32).astype(np.float64)
    lo, hi = float32_bracket(t)
    representable = lo == t
    with np.errstate(over="ignore"):
        below = np.where(representable, np.nextafter(lo.astype(np.float32), np.float32(-np.inf)).astype(np.float64),
                         lo)
    boundary = lo + (hi - lo) / 2.0  # exact: the midpoint of two adjacent float32 values is a double
    return {
        "thresholds": [t, f32, np.nextafter(t, -np.inf), np.nextafter(t, np.inf)],
        "float32-neighbours": [below, hi],
        "rounding-boundaries": [boundary, np.nextafter(boundary, -np.inf), np.nextafter(boundary, np.inf)],
    }


# ----------------------------------------------------------------------------------------------------------------
# Building the probe sets


def _base_rows(X_user: np.ndarray | None, model_rows: np.ndarray) -> np.ndarray:
    return X_user if X_user is not None and len(X_user) else model_rows


def model_derived_rows(estimator: Any, n_features: int, rng: np.random.Generator,
                       schema: InputSchema | None = None) -> tuple[np.ndarray, str]:
    """Rows built from the model alone when the user gives no data."""
    if schema is not None and schema.has_strings:
        rows = rng.standard_normal((MODEL_DERIVED_ROWS, n_features))
        for j in schema.string_indices():
            column = schema.columns[j]
            if column.documents:  # a text column: its probe documents
                codes = [column.vocabulary.index(d) for d in column.documents]
                rows[:, j] = np.asarray(codes, dtype=np.float64)[rng.integers(0, len(codes), MODEL_DERIVED_ROWS)]
                continue
            known = len(column.categories)
            rows[:, j] = rng.integers(0, known, MODEL_DERIVED_ROWS) if known else np.nan
        return rows, "string columns drawn from the artifacts' categories, numeric columns standard normal"
    steps = [s for _, s in estimator.steps] if hasattr(estimator, "steps") else [estimator]
    first, last = steps[0], steps[-1]
    n = MODEL_DERIVED_ROWS
    if hasattr(first, "mean_") and hasattr(first, "scale_") and first.mean_ is not None:
        scale = np.where(np.asarray(first.scale_) > 0, first.scale_, 1.0)
        return rng.normal(first.mean_, scale, size=(n, n_features)), "normal sample around the scaler's mean_/scale_"
    for attribute in ("support_vectors_", "_fit_X"):
        samples = getattr(last, attribute, None)
        if samples is not None and len(steps) == 1 and np.ndim(samples) == 2 and samples.shape[1] == n_features:
            rows = np.asarray(samples, dtype=np.float64)[rng.integers(0, len(samples), n)]
            return rows, f"rows resampled from the model's {attribute}"
    if hasattr(first, "categories_") and len(first.categories_) == n_features:
        columns = [np.asarray(c, dtype=np.float64)[rng.integers(0, len(c), n)] for c in first.categories_]
        return np.column_stack(columns), "rows drawn from the encoder's categories_"
    splits, _ = tree_splits(estimator, n_features)
    if splits is not None and len(splits.threshold):
        rows = rng.standard_normal((n, n_features))
        for j in range(n_features):  # one loop per feature (not per row): centre each on its thresholds
            t = splits.threshold[splits.feature == j]
            if len(t):
                spread = max(float(np.std(t)), 1e-3)
                rows[:, j] = float(np.median(t)) + spread * rows[:, j]
        return rows, "normal sample centred on each feature's split thresholds"
    return rng.standard_normal((n, n_features)), "standard normal sample (no data and nothing in the model to use)"


def _place(base: np.ndarray, rng: np.random.Generator, features: np.ndarray, values: np.ndarray) -> np.ndarray:
    rows = base[rng.integers(0, len(base), len(features))].copy()
    rows[np.arange(len(features)), features] = values
    return rows


def refusal_reason(estimator: Any, rows: np.ndarray, schema: InputSchema | None = None) -> str | None:
    """None if the Python model predicts on rows (decoded through `schema` when it has string columns), else the
    one-line reason it refuses."""
    return adapter_for(estimator).nan_refusal(estimator, rows if schema is None else schema.python_rows(rows))


def _feature_subset(n_features: int, rng: np.random.Generator, schema: InputSchema | None = None) -> np.ndarray:
    """The numeric columns a per-feature probe touches (all of them up to MAX_FEATURES_PER_ROW_PROBE)."""
    numeric = np.arange(n_features) if schema is None else schema.numeric_indices()
    if len(numeric) <= MAX_FEATURES_PER_ROW_PROBE:
        return numeric
    return np.sort(rng.choice(numeric, MAX_FEATURES_PER_ROW_PROBE, replace=False))


def build_probes(
    estimator: Any, X_user: np.ndarray | None, n_features: int, seed: int = 0, max_thresholds: int = MAX_THRESHOLDS,
    schema: InputSchema | None = None,
    chain: Any = None,
) -> Probes:
    """Every probe set for this estimator; `notes` say which sets were skipped and why. With a `schema`, X holds
    string columns as vocabulary codes (parity/columns.py)."""
    rng = np.random.default_rng(seed)
    probes = Probes()
    if X_user is not None and len(X_user):
        probes.sets.append(ProbeSet("user-data", np.asarray(X_user, dtype=np.float64), "the user's rows"))
        model_rows = X_user
    else:
        model_rows, how = model_derived_rows(estimator, n_features, rng, schema)
        probes.sets.append(ProbeSet("model-derived", model_rows, how))
        probes.notes.append(f"no user data: probes built from the model ({how})")
    base = _base_rows(X_user, model_rows)
    finite_base = base[np.all(np.isfinite(base), axis=1)]
    if len(finite_base) == 0:
        finite_base = np.nan_to_num(np.nanmedian(base, axis=0), nan=0.0)[None, :]
        if schema is not None:  # a string column's median code is no code: take its first vocabulary value
            finite_base[:, schema.string_indices()] = 0.0

    _threshold_probes(estimator, n_features, finite_base, rng, max_thresholds, probes, schema)
    _critical_point_probes(estimator, n_features, finite_base, rng, max_thresholds, probes, schema)
    _sensitivity_probes(chain, n_features, probes)
    _nan_probes(estimator, finite_base, rng, probes, schema)
    _missing_value_probes(estimator, finite_base, rng, probes, schema)
    _extreme_probes(estimator, finite_base, rng, probes, schema)
    _unseen_category_probes(estimator, finite_base, rng, probes, schema)
    if schema is not None:
        _string_probes(estimator, schema, finite_base, rng, probes)
        _text_probes(schema, finite_base, rng, probes)

    probes.sets.append(ProbeSet("one-row", base[:1].copy(), "a single row (batch of one)"))
    batch = base[rng.integers(0, len(base), LARGE_BATCH_ROWS)]
    probes.sets.append(ProbeSet("large-batch", batch, f"{LARGE_BATCH_ROWS} rows resampled (one batch)"))
    return probes


def _threshold_probes(
    estimator: Any, n_features: int, base: np.ndarray, rng: np.random.Generator, max_thresholds: int, probes: Probes,
    schema: InputSchema | None = None,
) -> None:
    splits, reason = tree_splits(estimator, n_features)
    if reason:
        probes.notes.append(reason)
    if splits is None or len(splits.threshold) == 0:
        return
    finite = np.isfinite(splits.threshold)
    if not finite.all():
        # t = +inf is scikit-learn's "missing values go right" split; only NaN reaches it, and NaN probes cover it.
        probes.notes.append(f"{int((~finite).sum())} splits with an infinite threshold probed by NaN rows only")
    _, first = np.unique(np.column_stack([splits.feature.astype(np.float64), splits.threshold]), axis=0,
                         return_index=True)
    chosen = np.sort(first)
    chosen = chosen[finite[chosen]]
    if len(chosen) > max_thresholds:
        probes.notes.append(f"threshold probes: a seeded sample of {max_thresholds} of {len(chosen)} distinct splits")
        chosen = np.sort(rng.choice(chosen, max_thresholds, replace=False))
    # Several different rows per split when the budget allows: a moved threshold changes the output only for rows
    # whose two candidate leaves differ, and pure leaves (probability 0 or 1 on both sides) are common.
    rows_per_split = int(np.clip(max_thresholds // max(len(chosen), 1), 1, ROWS_PER_SPLIT))
    chosen = np.repeat(chosen, rows_per_split)
    features = splits.feature[chosen]
    thresholds = splits.threshold[chosen]
    typed = schema is not None and schema.has_strings  # the head cannot replay string codes
    base_rows = rng.integers(0, len(base), len(chosen)) if typed else _rows_reaching(splits, chosen, base, rng)
    descriptions = {
        "thresholds": "a feature of a real row set to a split threshold t, float32(t) and t's float64 neighbours",
        "float32-neighbours": "a feature set to the float32 values just below/above each split threshold",
        "rounding-boundaries": "a feature set to the float32 rounding boundary above each threshold (and ±1 ulp)",
    }
    for name, value_list in threshold_values(thresholds).items():
        if name == "rounding-boundaries" and not splits.compares_float32:
            continue  # HGB compares float64 x: the float32 rounding boundary is not a decision boundary
        values = np.concatenate(value_list)
        split_feature = np.tile(features, len(value_list))
        X = base[np.tile(base_rows, len(value_list))].copy()
        X[np.arange(len(X)), split_feature] = values
        probes.sets.append(ProbeSet(name, X, descriptions[name], split_feature, np.tile(thresholds, len(value_list))))


def critical_points(estimator: Any, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """(raw input column, value) of every critical point of the transformer steps that read raw columns (directly,
    after steps that pass/select raw columns, or as a ColumnTransformer part)."""
    adapter = adapter_for(estimator)
    steps = [s for _, s in estimator.steps] if hasattr(estimator, "steps") else [estimator]
    mapping = np.arange(n_features)
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for step in steps:
        if type(step).__name__ == "ColumnTransformer":
            indices = getattr(step, "_transformer_to_input_indices", {})
            for name, inner, _ in step.transformers_:
                if name in indices and not isinstance(inner, str):
                    first = inner.steps[0][1] if hasattr(inner, "steps") else inner
                    points = adapter.critical_points(first)
                    if points is not None:
                        found.append((mapping[np.asarray(indices[name], dtype=np.int64)[points[0]]], points[1]))
        else:
            points = adapter.critical_points(step)
            if points is not None:
                found.append((mapping[points[0]], points[1]))
        step_map = adapter.raw_columns(step, len(mapping))
        if step_map is None:
            break
        mapping = mapping[step_map]
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate([f for f, _ in found]), np.concatenate([v for _, v in found])


def _critical_point_probes(estimator: Any, n_features: int, base: np.ndarray, rng: np.random.Generator,
                           max_points: int, probes: Probes, schema: InputSchema | None = None) -> None:
    features, values = critical_points(estimator, n_features)
    if not len(values):
        return
    if len(values) > max_points:
        probes.notes.append(f"critical-point probes: a seeded sample of {max_points} of {len(values)} points")
        chosen = np.sort(rng.choice(len(values), max_points, replace=False))
        features, values = features[chosen], values[chosen]
    per_point = int(np.clip(max_points // len(values), 1, ROWS_PER_SPLIT // 2))
    features, values = np.repeat(features, per_point), np.repeat(values, per_point)
    points = np.concatenate([values, np.nextafter(values, -np.inf), np.nextafter(values, np.inf)])
    columns = np.tile(features, 3)
    X = _place(base, rng, columns, points)
    refused = refusal_reason(estimator, X, schema)
    if refused:
        probes.notes.append(f"critical-point probes skipped: the model refuses them ({refused})")
        return
    probes.sets.append(ProbeSet("critical-points", X, "a feature of a real row set to a transformer's critical point "
                                "(threshold, bin edge, clip bound) and its float64 neighbours", columns, points))


def _rows_reaching(splits: TreeSplits, chosen: np.ndarray, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each chosen split, a base row whose path in the Python model's tree passes through that node (so moving
    its feature across the threshold changes the route); a random row when none does."""
    picked = rng.integers(0, len(base), len(chosen))
    if np.any(getattr(splits.model, "is_categorical_", None) or False):
        return picked  # HGB reads categorical columns first, as its own codes: no raw-row replay
    trees = adapter_for(splits.model).trees(splits.model)
    if trees is None:
        return picked
    candidates = rng.choice(len(base), min(len(base), 256), replace=False)
    X = base[candidates]
    if splits.head is not None:
        X = np.asarray(splits.head.transform(X), dtype=np.float64)
    for tree_index in np.unique(splits.tree[chosen]):  # one path computation per tree, not per row
        at = np.flatnonzero(splits.tree[chosen] == tree_index)
        visited = trees[tree_index].visits(X)
        for k, node in zip(at, splits.node[chosen[at]], strict=True):
            reaching = np.flatnonzero(visited[:, node])
            if len(reaching):
                picked[k] = candidates[reaching[rng.integers(0, len(reaching))]]
    return picked


def _sensitivity_probes(chain: Any, n_features: int, probes: Probes) -> None:
    """Rows isolating each coefficient of the model's first weighted step (a linear/GLM/network layer: ±c·e_j in
    its input space; a kernel expansion: its support vectors), mapped back to raw inputs through the invertible
    steps before it (scalers, imputers), so one wrong weight moves an output beyond its error bound."""
    found = chain.model_space() if chain is not None else None
    if found is None:
        return
    index, layer = found
    X = chain.to_raw(layer.isolating_rows(MAX_FEATURES_PER_ROW_PROBE * 4), index)
    if X.shape[1] != n_features or not np.all(np.isfinite(X)):
        return
    what = "support vectors" if hasattr(layer, "support_vectors") else "±c·e_j per coefficient and the origin"
    probes.sets.append(ProbeSet("sensitivity", X, f"rows isolating each coefficient of the first weighted step "
                                f"({what}, mapped back through the scalers)"))


def _nan_probes(estimator: Any, base: np.ndarray, rng: np.random.Generator, probes: Probes,
                schema: InputSchema | None = None) -> None:
    n_features = base.shape[1]
    features = np.repeat(_feature_subset(n_features, rng, schema), 3)  # three real rows per feature
    if not len(features):
        return
    X = _place(base, rng, features, np.full(len(features), np.nan))
    refused = refusal_reason(estimator, X, schema)
    if refused:
        # A DataFrame model may impute some columns and not others (a passthrough column, an unimputed scaler):
        # keep the NaN probes of the columns the Python model accepts NaN in.
        keep, refusals = _accepted_groups(estimator, X, features.tolist(), schema)
        if not keep.any():
            probes.notes.append(f"NaN probes skipped: the model does not accept NaN ({refused})")
            return
        columns = ", ".join(_column_label(int(f), schema) for f, _ in refusals)
        probes.notes.append(f"NaN probes skipped for {columns}: the model does not accept NaN there "
                            f"({refusals[0][1]})")
        X, features = X[keep], features[keep]
    probes.sets.append(ProbeSet("nan", X, "one feature of a real row set to NaN (missing value)", features,
                                np.full(len(features), np.nan)))


def _accepted_groups(estimator: Any, X: np.ndarray, groups: list[Any],
                     schema: InputSchema | None) -> tuple[np.ndarray, list[tuple[Any, str]]]:
    """When the Python model refuses a probe set as a whole: (row mask of the groups it accepts, [(group, reason)]
    for the ones it refuses). One predict call per group, on that group's few rows."""
    keys = np.array([repr(g) for g in groups])
    keep = np.zeros(len(X), dtype=bool)
    refusals: list[tuple[Any, str]] = []
    for first in np.sort(np.unique(keys, return_index=True)[1]):
        rows = keys == keys[first]
        reason = refusal_reason(estimator, X[rows], schema)
        if reason is None:
            keep |= rows
        else:
            refusals.append((groups[int(first)], reason))
    return keep, refusals


def _column_label(j: int, schema: InputSchema | None) -> str:
    return repr(schema.columns[j].name) if schema is not None else f"feature {j}"
def _missing_value_probes(estimator: Any, base: np.ndarray, rng: np.random.Generator, probes: Probes,
                          schema: InputSchema | None = None) -> None:
    """A call-time missing value other than NaN (XGBoost's `missing`): one feature set to it, to the first and last
    doubles that round to the same float32 (XGBoost compares float32(x) == float32(missing)) and to the doubles just
    outside them (numbers again)."""
    from parity.references import final_model, library_reference

    reference = library_reference(final_model(estimator))
    value = getattr(reference, "missing_value", np.nan)
    if reference is None or np.isnan(value):
        return
    v32 = np.float32(value)
    below, above = np.nextafter(v32, np.float32(-np.inf)), np.nextafter(v32, np.float32(np.inf))
    first = _first_rounding_to(float(below), float(v32))
    last = -_first_rounding_to(-float(above), -float(v32))
    values = np.array([value, float(v32), first, last, np.nextafter(first, -np.inf), np.nextafter(last, np.inf)])
    features = np.repeat(_feature_subset(base.shape[1], rng, schema), values.size)
    X = _place(base, rng, features, np.tile(values, features.size // values.size))
    probes.sets.append(ProbeSet("missing-value", X, f"one feature set to the missing value {value!r}, to the first "
                                "and last doubles rounding to its float32 and to the doubles just outside",
                                features, X[np.arange(len(X)), features]))


def _first_rounding_to(below: float, target: float) -> float:
    """The smallest double that rounds to the float32 `target`, given the float32 `below` it: the midpoint between
    them when it rounds up (round-half-even), else the next double."""
    mid = (below + target) / 2  # exact in double
    return mid if np.float32(mid) == np.float32(target) else float(np.nextafter(mid, np.inf))


def _extreme_probes(estimator: Any, base: np.ndarray, rng: np.random.Generator, probes: Probes,
                    schema: InputSchema | None = None) -> None:
    n_features = base.shape[1]
    features = _feature_subset(n_features, rng, schema)
    if not len(features):
        return
    values = np.array(EXTREME_VALUES)
    if family(estimator) != "tree":
        # Arithmetic models (scalers, dot products, float32 NN weights) overflow float32 at ±FLT_MAX by construction;
        # only trees, which merely compare x, get those values.
        values = values[np.abs(values) < F32_MAX]
        probes.notes.append("extremes: ±largest float32 used only for tree models (arithmetic overflows float32 there)")
    per_feature = _place(base, rng, np.tile(features, len(values)), np.repeat(values, len(features)))
    if schema is None:
        whole_rows = np.repeat(values[:, None], n_features, axis=1)
    else:  # every numeric column at the value; string columns keep a real row's values
        whole_rows = np.repeat(base[:1], len(values), axis=0)
        whole_rows[:, schema.numeric_indices()] = values[:, None]
    X = np.vstack([per_feature, whole_rows])
    refused = refusal_reason(estimator, X, schema)
    if refused:
        # Try the finite-in-float32 values alone before giving up (1e30 and ±float32 max are all finite).
        probes.notes.append(f"extremes probes skipped: scikit-learn refuses them ({refused})")
        return
    described = ", ".join(f"{v:g}" for v in values)
    probes.sets.append(ProbeSet("extremes", X, f"{described} per feature and as whole rows"))


def _unseen_category_probes(estimator: Any, base: np.ndarray, rng: np.random.Generator, probes: Probes,
                            schema: InputSchema | None = None) -> None:
    rows = []
    for encoder, columns in adapter_for(estimator).unseen_category_columns(estimator, base.shape[1]):
        if schema is not None and all(schema.columns[int(c)].kind == "string" for c in columns):
            continue  # string categories: the string-categories probe set covers them
        if encoder.handle_unknown == "error":
            probes.notes.append("unseen-category probes skipped: OneHotEncoder(handle_unknown='error') refuses them")
            continue
        for categories, column in zip(encoder.categories_, columns, strict=True):
            if schema is not None and schema.columns[int(column)].kind == "string":
                continue
            numeric = np.asarray(categories, dtype=np.float64)
            numeric = numeric[np.isfinite(numeric)]
            unseen = (numeric.max() + 1.0) if len(numeric) else 0.0
            rows.append(_place(base, rng, np.full(3, column), np.array([unseen, -unseen - 1.0, unseen + 0.5])))
    if rows:
        probes.sets.append(ProbeSet("unseen-categories", np.vstack(rows), "a category never seen in training"))


def _string_probes(estimator: Any, schema: InputSchema, base: np.ndarray, rng: np.random.Generator,
                   probes: Probes) -> None:
    """Each string column of a real row set to every known category, to an unseen string and to missing."""
    from parity.columns import UNSEEN_CATEGORY

    features: list[int] = []
    codes: list[float] = []
    for j in schema.string_indices():
        column = schema.columns[int(j)]
        if column.documents:
            continue  # a text column: the text probe set (_text_probes)
        known = [column.vocabulary.index(c) for c in column.categories[:MAX_CATEGORIES_PER_COLUMN]]
        if len(column.categories) > MAX_CATEGORIES_PER_COLUMN:
            probes.notes.append(f"string-categories: column {column.name!r} probed on {MAX_CATEGORIES_PER_COLUMN} of "
                                f"its {len(column.categories)} categories")
        values = [float(c) for c in known] + [float(column.vocabulary.index(UNSEEN_CATEGORY)), np.nan]
        features += [int(j)] * len(values)
        codes += values
    if not features:
        return
    X = _place(base, rng, np.array(features), np.array(codes))
    refused = refusal_reason(estimator, X, schema)
    if refused:
        # The Python model refuses some of them (a scikit-learn encoder with handle_unknown='error' refuses unseen
        # strings, and missing ones unless NaN was a training category; XGBoost refuses unseen categories): keep
        # each column's known, unseen and missing probes that it accepts, and say which it refused.
        kinds = ["missing" if np.isnan(c) else "unseen" if schema.columns[f].vocabulary[int(c)] == UNSEEN_CATEGORY
                 else "known" for f, c in zip(features, codes, strict=True)]
        keep, refusals = _accepted_groups(estimator, X, list(zip(features, kinds, strict=True)), schema)
        if not keep.any():
            probes.notes.append(f"string-categories probes skipped: the Python model refuses them ({refused})")
            return
        for (column, kind), reason in refusals:
            what = {"missing": "missing (\"\")", "unseen": "unseen strings", "known": "known categories"}[kind]
            probes.notes.append(f"string-categories: {what} left out for {_column_label(column, schema)}, "
                                f"the Python model refuses them ({reason})")
        X = X[keep]
    probes.sets.append(ProbeSet("string-categories", X, "a string column of a real row set to each category the "
                                f"artifacts know, to an unseen string ({UNSEEN_CATEGORY!r}) and to missing (fed "
                                "as \"\")"))


def _text_probes(schema: InputSchema, base: np.ndarray, rng: np.random.Generator, probes: Probes) -> None:
    """Each text column of a real row set to each probe document (parity/text_inputs.py: empty, whitespace, only
    stop words, unseen and known words, Unicode edge cases, a very long document)."""
    features: list[int] = []
    codes: list[float] = []
    for j in schema.string_indices():
        column = schema.columns[int(j)]
        features += [int(j)] * len(column.documents)
        codes += [float(column.vocabulary.index(d)) for d in column.documents]
    if features:
        probes.sets.append(ProbeSet("text", _place(base, rng, np.array(features), np.array(codes)),
                                    "a text column of a real row set to each probe document: empty, whitespace, "
                                    "only stop words, unseen words, Unicode edge cases, a very long document"))

