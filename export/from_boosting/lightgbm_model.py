"""LightGBM text models (`Booster.save_model`, `model_to_string`) -> BoostedForest.

Semantics (boosting-semantics.md §3, read in `include/LightGBM/tree.h` NumericalDecision, `src/c_api.cpp`,
`src/io/tree.cpp` @bae0b7ba): the C API first maps |x| <= kZero = (double)1e-35f to 0; a NaN under missing type None
becomes 0; under missing type Zero, 0 and NaN take the default child, under NaN only NaN does; otherwise left iff the
double `x <= threshold`. Raw score = double sum of `leaf_value` from 0 in tree order (the init score is folded into
the first trees' leaves); tree i adds to class i % num_tree_per_iteration.
"""

from __future__ import annotations

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


def _tree_columns(block: dict[str, str], n_per_iteration: int, index: int, source: str, scale: float
                  ) -> dict[str, np.ndarray]:
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
    if n_cat > 0 or np.any(decision & 1):
        raise UnsupportedEstimatorError(
            f"model file '{source}': {where} has categorical splits (categorical_feature=...); supported: "
            "numerical splits (categorical features are not supported yet)")
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
    zero_missing = missing_type == _MISSING_ZERO
    if np.any(zero_missing & (default_left != zero_goes_left)):
        raise UnsupportedEstimatorError(
            f"model file '{source}': {where} sends zeros to the default child against the threshold "
            "(zero_as_missing=True), which a single comparison per node cannot express; supported: "
            "zero_as_missing=False")
    missing_true = np.where(missing_type == _MISSING_NONE, zero_goes_left, default_left)
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
    if pandas_categorical:
        raise UnsupportedEstimatorError(f"model file '{source}': categorical pandas columns (pandas_categorical) "
                                        "are not supported yet; supported: numerical features")
    scale = 1.0
    if objective == "binary":
        scale = float(params.get("sigmoid", "1"))  # p = 1/(1+exp(-s*raw)): s folded into the leaves
    columns = concatenate_trees([_tree_columns(b, n_per_iteration, i, source, scale) for i, b in enumerate(blocks)])
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
        base=np.zeros(n_outputs), head=task, notes=notes)
