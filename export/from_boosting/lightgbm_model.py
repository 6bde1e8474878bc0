"""LightGBM text models (`Booster.save_model`, `model_to_string`) -> BoostedForest.

Semantics (boosting-semantics.md §3, read in `include/LightGBM/tree.h` NumericalDecision, `src/c_api.cpp`,
`src/io/tree.cpp` @bae0b7ba): the C API first maps |x| <= kZero = (double)1e-35f to 0; a NaN under missing type None
becomes 0; under missing type Zero, 0 and NaN take the default child, under NaN only NaN does; otherwise left iff the
double `x <= threshold`. Raw score = double sum of `leaf_value` from 0 in tree order (the init score is folded into
the first trees' leaves); tree i adds to class i % num_tree_per_iteration.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np

from export import ir
from export.errors import InputFileError, UnsupportedEstimatorError, describe_exception
from export.from_boosting.forest import BoostedForest, BoostingHead, Op, check_structure, concatenate_trees

K_ZERO = float(np.float32(1e-35))  # kZeroThreshold (include/LightGBM/meta.h), compared as a double
_MISSING_NONE, _MISSING_ZERO, _MISSING_NAN = 0, 1, 2

IDENTITY_OBJECTIVES = ("regression", "regression_l1", "huber", "fair", "quantile", "mape")
EXP_OBJECTIVES = ("poisson", "gamma", "tweedie")
SUPPORTED = ("binary", "multiclass", *IDENTITY_OBJECTIVES, *EXP_OBJECTIVES, "cross_entropy")


def _corrupt(source: str, what: str) -> InputFileError:
    return InputFileError(f"model file '{source}' is not a valid LightGBM text model: {what}")


def _sections(text: str, source: str) -> tuple[dict[str, str], list[dict[str, str]], str]:
    """(header key=values, one dict per `Tree=` block, the text after `end of trees`)."""
    if "end of trees" not in text:
        raise _corrupt(source, "no 'end of trees' line (the file is truncated)")
    body, tail = text.split("end of trees", 1)
    header: dict[str, str] = {}
    trees: list[dict[str, str]] = []
    current = header
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("Tree="):
            current = {"Tree": line[5:]}
            trees.append(current)
            continue
        key, sep, value = line.partition("=")
        current[key] = value if sep else ""
    return header, trees, tail


def _numbers(block: dict[str, str], key: str, dtype: Any, count: int, source: str, where: str) -> np.ndarray:
    if count == 0:
        return np.zeros(0, dtype=dtype)
    raw = block.get(key)
    if raw is None:
        raise _corrupt(source, f"{where} has no '{key}'")
    try:
        values = np.array([float(v) for v in raw.split()], dtype=np.float64)
    except ValueError:
        raise _corrupt(source, f"{where} '{key}' holds a value that is not a number") from None
    if values.size != count:
        raise _corrupt(source, f"{where} '{key}' has {values.size} values, expected {count}")
    if dtype is not np.float64:
        if not np.all(values == np.round(values)):
            raise _corrupt(source, f"{where} '{key}' holds a non-integer")
        return values.astype(dtype)
    return values


def _objective(line: str, source: str) -> tuple[str, dict[str, str]]:
    tokens = line.split()
    if not tokens:
        raise _corrupt(source, "no objective")
    params = dict(t.split(":", 1) for t in tokens[1:] if ":" in t)
    flags = [t for t in tokens[1:] if ":" not in t]
    name = {"xentropy": "cross_entropy", "mean_absolute_error": "regression_l1", "l1": "regression_l1"}.get(
        tokens[0], tokens[0])
    if name == "regression" and "sqrt" in flags:
        raise UnsupportedEstimatorError(f"model file '{source}': LightGBM objective 'regression' with reg_sqrt=True "
                                        "(predictions are squared) is not supported; supported: reg_sqrt=False")
    if name not in SUPPORTED:
        raise UnsupportedEstimatorError(f"model file '{source}': LightGBM objective {tokens[0]!r} is not supported; "
                                        f"supported: {', '.join(SUPPORTED)}")
    return name, params


def _category_sets(block: dict[str, str], n_cat: int, source: str, where: str) -> list[frozenset[int]]:
    """The tree's bitsets (`cat_boundaries`, `cat_threshold`: bit b of word w is category 32w + b, tree.h
    CategoricalDecision) as sets of the codes going left."""
    boundaries = _numbers(block, "cat_boundaries", np.int64, n_cat + 1, source, where)
    words = block.get("cat_threshold", "").split()
    if boundaries[0] != 0 or np.any(np.diff(boundaries) < 0) or int(boundaries[-1]) != len(words):
        raise _corrupt(source, f"{where} cat_boundaries do not index cat_threshold")
    try:
        bits = [int(w) for w in words]
    except ValueError:
        raise _corrupt(source, f"{where} cat_threshold holds a value that is not an integer") from None
    if any(not 0 <= b < 1 << 32 for b in bits):
        raise _corrupt(source, f"{where} cat_threshold holds a value that is not a 32-bit word")
    return [frozenset(32 * (w - lo) + b for w in range(lo, hi) for b in range(32) if bits[w] >> b & 1)
            for lo, hi in itertools.pairwise(boundaries.tolist())]


def _tree_columns(block: dict[str, str], n_per_iteration: int, index: int, source: str, scale: float,
                  sets: list[frozenset[int]]) -> dict[str, np.ndarray]:
    """One tree's columns; its categorical bitsets are appended to `sets` (node threshold = index there)."""
    where = f"Tree={block['Tree']}"
    try:
        n_leaves = int(block.get("num_leaves", ""))
        n_cat = int(block.get("num_cat", "0"))
    except ValueError:
        raise _corrupt(source, f"{where} has no integer num_leaves/num_cat") from None
    if n_leaves < 1:
        raise _corrupt(source, f"{where} num_leaves={n_leaves}")
    if block.get("is_linear", "0").strip() not in ("", "0"):
        raise UnsupportedEstimatorError(
            f"model file '{source}': {where} is a linear tree (linear_tree=True: a linear model in every leaf), "
            "which a tree ensemble cannot express; supported: linear_tree=False")
    n_inner = n_leaves - 1
    feature = _numbers(block, "split_feature", np.int64, n_inner, source, where)
    threshold = _numbers(block, "threshold", np.float64, n_inner, source, where)
    decision = _numbers(block, "decision_type", np.int64, n_inner, source, where)
    left = _numbers(block, "left_child", np.int64, n_inner, source, where)
    right = _numbers(block, "right_child", np.int64, n_inner, source, where)
    leaf_value = _numbers(block, "leaf_value", np.float64, n_leaves, source, where)
    categorical = decision & 1 == 1
    tree_sets = _category_sets(block, n_cat, source, where) if n_cat > 0 else []
    cat_index = threshold[categorical]
    if np.any((cat_index < 0) | (cat_index >= len(tree_sets)) | (cat_index != np.round(cat_index))):
        raise _corrupt(source, f"{where} a categorical split's threshold is not a cat_boundaries index")
    if not (np.all(np.isfinite(threshold)) and np.all(np.isfinite(leaf_value))):
        raise _corrupt(source, f"{where} has a non-finite threshold or leaf value")
    # one node numbering: internal node i -> i, leaf j (stored as child ~j) -> n_inner + j
    def child(c: np.ndarray) -> np.ndarray:
        return np.where(c >= 0, c, n_inner + (-c - 1))

    default_left = (decision >> 1) & 1 == 1
    missing_type = (decision >> 2) & 3
    if np.any(missing_type > _MISSING_NAN):
        raise _corrupt(source, f"{where} has an unknown missing type in decision_type")
    t, op = _zero_band(threshold)
    zero_goes_left = threshold >= 0.0  # where 0 (and so every |x| <= kZero) goes after the band rewrite
    zero_missing = (missing_type == _MISSING_ZERO) & ~categorical
    if np.any(zero_missing & (default_left != zero_goes_left)):
        raise UnsupportedEstimatorError(
            f"model file '{source}': {where} sends zeros to the default child against the threshold "
            "(zero_as_missing=True), which a single comparison per node cannot express; supported: "
            "zero_as_missing=False")
    missing_true = np.where(missing_type == _MISSING_NONE, zero_goes_left, default_left)
    # Categorical (CategoricalDecision): trunc(x) in the bitset -> left; NaN, negative and unseen codes -> right,
    # whatever the missing type (boosting-semantics.md §3.3); the forest's code rule "lightgbm" says the same.
    t = np.where(categorical, len(sets) + threshold, t)
    op = np.where(categorical, Op.IN, op)
    missing_true = np.where(categorical, False, missing_true)
    sets.extend(tree_sets)
    n = n_inner + n_leaves
    leaves = np.zeros(n)
    leaves[n_inner:] = leaf_value * scale
    return {
        "feature": np.r_[feature, np.full(n_leaves, -1)],
        "threshold": np.r_[t, np.zeros(n_leaves)],
        "op": np.r_[op, np.full(n_leaves, Op.LE)],
        "true_child": np.r_[child(left), np.full(n_leaves, -1)],
        "false_child": np.r_[child(right), np.full(n_leaves, -1)],
        "missing_true": np.r_[missing_true, np.zeros(n_leaves, dtype=bool)],
        "leaf": leaves,
        "target": np.full(n, index % n_per_iteration),
    }


def _zero_band(threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`x <= t` after LightGBM's |x| <= kZero -> 0 rewrite, as one comparison on the raw double x: inside the band
    every x acts as 0, so t in [-kZero, 0) is `x < -kZero` and t in [0, kZero) is `x <= kZero`; elsewhere the band
    already falls on the side 0 falls on (§3.2)."""
    below = (threshold >= -K_ZERO) & (threshold < 0.0)
    above = (threshold >= 0.0) & (threshold < K_ZERO)
    t = np.where(below, -K_ZERO, np.where(above, K_ZERO, threshold))
    op = np.where(below, Op.LT, Op.LE).astype(np.int64)
    return t, op


def _categorical_features(tail_lines: list[str], source: str) -> list[int]:
    """The `[categorical_feature: 0,3]` training parameter (feature indices), [] when absent."""
    line = next((line for line in tail_lines if line.startswith("[categorical_feature:")), "")
    value = line[len("[categorical_feature:"):].rstrip("]").strip()
    try:
        return sorted({int(v) for v in value.split(",") if v.strip()})
    except ValueError:
        raise _corrupt(source, f"categorical_feature {value!r} is not a list of feature indices") from None


def _string_categories(pandas_categorical: Any, tail_lines: list[str], n_features: int,
                       source: str) -> tuple[tuple[str, ...] | None, ...]:
    """Per feature, the categories of a pandas `category` column (the app feeds strings), from the
    `pandas_categorical` line the Python package appends (basic.py `_dump_pandas_categorical`): one list per
    category-dtype column of the training DataFrame, in column order; LightGBM maps a category to its position there
    and an unknown one to NaN (basic.py `_data_from_pandas`). () when the model was trained on numbers."""
    if not pandas_categorical:
        return ()
    if not isinstance(pandas_categorical, list) or not all(isinstance(c, list) for c in pandas_categorical):
        raise _corrupt(source, "pandas_categorical is not a list of category lists")
    features = _categorical_features(tail_lines, source)
    if len(features) != len(pandas_categorical) or any(not 0 <= f < n_features for f in features):
        raise UnsupportedEstimatorError(
            f"model file '{source}': {len(pandas_categorical)} pandas category columns but categorical_feature="
            f"{features} (ordered categories, or integer-coded categorical columns next to pandas category "
            "columns); supported: every categorical feature a pandas category column, or every one integer codes "
            "on a numpy array")
    from export.from_sklearn.dataframe import string_category_problem

    out: list[tuple[str, ...] | None] = [None] * n_features
    for f, categories in zip(features, pandas_categorical, strict=True):
        if not all(isinstance(c, str) for c in categories):
            raise UnsupportedEstimatorError(
                f"model file '{source}': pandas category column {f} has non-string categories {categories[:5]!r}; "
                "supported: string categories (or integer codes on a numpy array)")
        problem = next((p for p in (string_category_problem(f"feature {f}", c) for c in categories) if p), None)
        if problem or len(set(categories)) != len(categories):
            raise UnsupportedEstimatorError(f"model file '{source}': {problem or f'feature {f} repeats a category'}")
        out[f] = tuple(categories)
    return tuple(out)


def parse_lightgbm(text: str, source: str, labels: np.ndarray | None = None) -> BoostedForest:
    if not text.startswith("tree"):
        raise _corrupt(source, "the first line is not 'tree'")
    header, blocks, tail = _sections(text, source)
    if "average_output" in header:
        raise UnsupportedEstimatorError(f"model file '{source}': boosting='rf' (averaged trees) is not supported; "
                                        "supported: gbdt, dart, goss")
    try:
        n_class = int(header.get("num_class", "1"))
        n_per_iteration = int(header.get("num_tree_per_iteration", "1"))
        n_features = int(header.get("max_feature_idx", "-1")) + 1
    except ValueError:
        raise _corrupt(source, "the header has a non-integer count") from None
    objective, params = _objective(header.get("objective", ""), source)
    if n_features < 1 or n_per_iteration < 1 or not blocks:
        raise _corrupt(source, "no features or no trees")
    tail_lines = [line.strip() for line in tail.splitlines()]
    categorical = next((line[len("pandas_categorical:"):] for line in tail_lines
                        if line.startswith("pandas_categorical:")), "null")
    try:
        pandas_categorical = json.loads(categorical)
    except ValueError as exc:
        raise _corrupt(source, f"pandas_categorical is not JSON ({describe_exception(exc)})") from None
    string_categories = _string_categories(pandas_categorical, tail_lines, n_features, source)
    scale = 1.0
    if objective == "binary":
        scale = float(params.get("sigmoid", "1"))  # p = 1/(1+exp(-s*raw)): s folded into the leaves
    sets: list[frozenset[int]] = []
    columns = concatenate_trees([_tree_columns(b, n_per_iteration, i, source, scale, sets)
                                 for i, b in enumerate(blocks)])
    check_structure(source, columns["tree"], columns["node"], columns["feature"], columns["true_child"],
                    columns["false_child"], n_features)
    n_outputs = n_class if objective == "multiclass" else 1
    if objective == "multiclass" and n_per_iteration != n_class:
        raise _corrupt(source, f"multiclass with num_class={n_class} but {n_per_iteration} trees per iteration")
    leaf_value = np.zeros((columns["leaf"].size, n_outputs))
    leaf_value[np.arange(columns["leaf"].size), np.minimum(columns["target"], n_outputs - 1)] = columns["leaf"]
    task: BoostingHead
    if objective in ("binary", "multiclass"):
        classes = labels if labels is not None else np.arange(max(n_class, 2), dtype=np.int64)
        task = ir.Classification(labels=classes, link="logistic" if objective == "binary" else "softmax",
                                 has_proba=True)
    else:
        link = "exp" if objective in EXP_OBJECTIVES else "logistic" if objective == "cross_entropy" else "identity"
        task = ir.Regression(n_targets=1, link=link)  # type: ignore[arg-type]
    names = header.get("feature_names", "").split()
    if names == [f"Column_{j}" for j in range(n_features)]:
        names = []  # LightGBM's own placeholders for a numpy-trained model: there are no real names
    notes = (f"binary sigmoid={scale:g} folded into the leaves (≤ 1 ulp per leaf)",) if scale != 1.0 else ()
    return BoostedForest(
        library="lightgbm", objective=objective, n_features=n_features,
        feature_names=tuple(names) if len(names) == n_features else None, precision="float64", sums_float32=False,
        tree=columns["tree"], node=columns["node"], feature=columns["feature"], threshold=columns["threshold"],
        op=columns["op"], true_child=columns["true_child"], false_child=columns["false_child"],
        missing_true=columns["missing_true"], leaf_value=leaf_value,
        leaf_target=columns["target"] if n_outputs > 1 else np.full(columns["leaf"].size, -1, dtype=np.int64),
        base=np.zeros(n_outputs), head=task, notes=notes, category_sets=tuple(sets),
        string_categories=string_categories, code_rule="lightgbm")
