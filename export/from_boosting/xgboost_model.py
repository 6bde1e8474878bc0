"""XGBoost model files (`.json`, `.ubj`: Booster.save_model and the sklearn wrappers' save_model) -> BoostedForest.

Semantics (boosting-semantics.md §2, read in `src/predictor/predict_fn.h`, `cpu_predictor.cc`, `learner.cc` @v3.2.0):
a row goes left iff `float32(x) < split_condition` (float32), NaN takes `default_left`; the margin is the float32
`base_score` mapped to margin space (ProbToMargin, float32) plus the float32 leaves (`split_conditions` at leaves,
times the DART `weight_drop`, rounded to float32), summed in float32 in tree order into output `tree_info[i]`.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np

from export import ir
from export.errors import InputFileError, UnsupportedEstimatorError
from export.from_boosting.forest import BoostedForest, BoostingHead, Op, check_structure, concatenate_trees

MAX_CATEGORY = 1 << 24  # XGBoost's OutOfRangeCat (src/common/categorical.h): codes are float32-exact integers

# objective -> (task kind, margin start rule). Margin rules follow `ProbToMargin` of each objective class.
_LOGIT, _LOG, _IDENTITY = "logit", "log", "identity"
OBJECTIVES: dict[str, tuple[str, str]] = {
    "binary:logistic": ("binary-logistic", _LOGIT),
    "binary:logitraw": ("regression-identity", _IDENTITY),  # margin output; starts from the *probability* base
    "binary:hinge": ("binary-hinge", _IDENTITY),
    "multi:softprob": ("multi-softprob", _IDENTITY),
    "multi:softmax": ("multi-softmax", _IDENTITY),
    "reg:squarederror": ("regression-identity", _IDENTITY),
    "reg:absoluteerror": ("regression-identity", _IDENTITY),
    "reg:pseudohubererror": ("regression-identity", _IDENTITY),
    "reg:quantileerror": ("regression-identity", _IDENTITY),
    "reg:squaredlogerror": ("regression-identity", _IDENTITY),
    "reg:logistic": ("regression-logistic", _LOGIT),
    "count:poisson": ("regression-exp", _LOG),
    "reg:gamma": ("regression-exp", _LOG),
    "reg:tweedie": ("regression-exp", _LOG),
}


def _corrupt(source: str, what: str) -> InputFileError:
    return InputFileError(f"model file '{source}' is not a valid XGBoost model: {what}")


def _get(mapping: Any, key: str, source: str, where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise _corrupt(source, f"'{where}' has no '{key}'")
    return mapping[key]


def is_xgboost_document(document: Any) -> bool:
    return (isinstance(document, dict) and isinstance(document.get("learner"), dict)
            and "gradient_booster" in document["learner"])


def _base_score(param: dict[str, Any], n_outputs: int, source: str) -> np.ndarray:
    """`learner_model_param.base_score`: "5E-1" (< 3.1) or "[4.865E-1, ...]" (>= 3.1, PR #11656), float32."""
    raw = str(_get(param, "base_score", source, "learner_model_param")).strip()
    try:
        values = json.loads(raw) if raw.startswith("[") else [float(raw)]
        scores = np.asarray(values, dtype=np.float64).astype(np.float32)
    except (ValueError, TypeError):
        raise _corrupt(source, f"base_score {raw!r} is not a number or a list of numbers") from None
    if scores.size == 1:
        scores = np.repeat(scores, n_outputs)  # a scalar is broadcast (`HandleOldFormat`, src/learner.cc)
    if scores.size != n_outputs:
        raise _corrupt(source, f"base_score has {scores.size} values for {n_outputs} outputs")
    return scores


def _margin_start(scores: np.ndarray, rule: str) -> np.ndarray:
    """ProbToMargin in float32 (`InitModelState`, src/learner.cc). logf/log1p are glibc's; float32(log(double(t)))
    is the correctly rounded logf and matched glibc on every case (numpy's float32 np.log is 1 ulp off on some)."""
    if rule == _IDENTITY:
        return scores.astype(np.float32)
    if rule == _LOGIT:  # -logf(1.0f / p - 1.0f), p clamped to [1e-6, 1 - 1e-6] (logistic_obj.h)
        p = np.clip(scores, np.float32(1e-6), np.float32(1.0 - 1e-6)).astype(np.float32)
        t = (np.float32(1.0) / p - np.float32(1.0)).astype(np.float32)
        return np.array([-np.float32(math.log(float(v))) for v in t], dtype=np.float32)
    return np.array([np.float32(math.log(float(v))) for v in scores], dtype=np.float32)  # logf(p)


def _task(kind: str, n_outputs: int) -> BoostingHead:
    labels = np.arange(max(n_outputs, 2), dtype=np.int64)  # XGBClassifier requires labels 0..K-1 (>= 1.6)
    if kind == "binary-logistic":
        return ir.Classification(labels=labels, link="logistic", has_proba=True)
    if kind == "binary-hinge":
        return ir.Classification(labels=labels, link="none", has_proba=False)
    if kind == "multi-softprob":
        return ir.Classification(labels=labels, link="softmax", has_proba=True)
    if kind == "multi-softmax":
        return ir.Classification(labels=labels, link="none", has_proba=False)
    link = {"regression-identity": "identity", "regression-logistic": "logistic", "regression-exp": "exp"}[kind]
    return ir.Regression(n_targets=n_outputs, link=link)  # type: ignore[arg-type]


def _booster_model(booster: dict[str, Any], source: str) -> tuple[dict[str, Any], np.ndarray | None]:
    """(gbtree model, DART weight_drop or None) across the layouts of 3.2 (`dart.gbtree.model`), 3.3 (`weight_drop`
    beside `model`) and >= 3.4 (`model.weight_drop`)."""
    name = booster.get("name")
    if name == "gblinear":
        raise UnsupportedEstimatorError(
            f"model file '{source}': booster 'gblinear' (a linear model) is not supported; supported boosters: "
            "gbtree, dart")
    if name == "dart":
        model = _get(_get(booster, "gbtree", source, "gradient_booster"), "model", source, "gbtree")
        weights = booster.get("weight_drop")
    elif name == "gbtree":
        model = _get(booster, "model", source, "gradient_booster")
        weights = booster.get("weight_drop", model.get("weight_drop") if isinstance(model, dict) else None)
    else:
        raise UnsupportedEstimatorError(f"model file '{source}': booster {name!r} is not supported; supported "
                                        "boosters: gbtree, dart")
    return model, None if weights is None else np.asarray(weights, dtype=np.float64).astype(np.float32)


def _category_sets(tree: dict[str, Any], categorical: np.ndarray, where: str, source: str) -> dict[int, frozenset[int]]:
    """{node: the category codes it sends right}, from the tree's CSR (`categories_nodes`, `categories_segments`,
    `categories_sizes`, `categories`; src/tree/tree_model.cc)."""
    nodes = np.asarray(tree.get("categories_nodes", []), dtype=np.int64).reshape(-1)
    segments = np.asarray(tree.get("categories_segments", []), dtype=np.int64).reshape(-1)
    sizes = np.asarray(tree.get("categories_sizes", []), dtype=np.int64).reshape(-1)
    codes = np.asarray(tree.get("categories", []), dtype=np.int64).reshape(-1)
    if not (nodes.size == segments.size == sizes.size) or np.any(sizes < 0) or np.any(segments < 0) \
            or np.any(segments + sizes > codes.size):
        raise _corrupt(source, f"{where} categories_nodes/segments/sizes do not index categories")
    if set(nodes.tolist()) != set(np.flatnonzero(categorical).tolist()):
        raise _corrupt(source, f"{where} categorical splits (split_type 1) and categories_nodes differ")
    if np.any((codes < 0) | (codes >= MAX_CATEGORY)):
        raise _corrupt(source, f"{where} holds a category code outside 0..2^24")
    return {int(n): frozenset(codes[a:a + k].tolist()) for n, a, k in zip(nodes, segments, sizes, strict=True)}


def _tree_columns(tree: dict[str, Any], index: int, source: str, sets: list[frozenset[int]]
                  ) -> dict[str, np.ndarray]:
    """One tree's columns; its categorical splits' sets are appended to `sets` (node threshold = index there)."""
    where = f"trees[{index}]"
    param = _get(tree, "tree_param", source, where)
    if int(param.get("size_leaf_vector", 1) or 1) > 1:
        raise UnsupportedEstimatorError(
            f"model file '{source}': {where} is a multi-output tree (multi_strategy='multi_output_tree'); "
            "supported: one_output_per_tree (the default)")
    left = np.asarray(_get(tree, "left_children", source, where), dtype=np.int64)
    right = np.asarray(_get(tree, "right_children", source, where), dtype=np.int64)
    n = left.size
    feature = np.asarray(_get(tree, "split_indices", source, where), dtype=np.int64)
    # Values are float32 written as JSON numbers (or F32 in UBJSON): parsing to double and casting back is exact.
    conditions = np.asarray(_get(tree, "split_conditions", source, where), dtype=np.float64).astype(np.float32)
    default_left = np.asarray(_get(tree, "default_left", source, where), dtype=np.int64) != 0
    split_type = np.asarray(tree.get("split_type", np.zeros(n)), dtype=np.int64)
    if any(a.size != n for a in (right, feature, conditions, default_left, split_type)) or n == 0 \
            or str(param.get("num_nodes", n)) != str(n):
        raise _corrupt(source, f"{where} node arrays have different lengths")
    leaf = left == -1
    if np.any(leaf != (right == -1)):
        raise _corrupt(source, f"{where} has a node with exactly one child")
    if np.any(~np.isin(split_type[~leaf], (0, 1))):
        raise _corrupt(source, f"{where} has an unknown split_type")
    categorical = (split_type == 1) & ~leaf
    threshold = np.where(leaf, 0.0, conditions.astype(np.float64))
    op = np.full(n, Op.LT, dtype=np.int64)
    true_child, false_child, missing_true = left.copy(), right.copy(), default_left & ~leaf
    if categorical.any():
        # Decision (src/common/categorical.h): a code in the node's categories goes RIGHT, any other value (unseen,
        # negative, >= 2^24) left, NaN by default_left; as an `Op.IN` node the members are the true child.
        node_sets = _category_sets(tree, categorical, where, source)
        for node in np.flatnonzero(categorical):
            threshold[node] = len(sets)
            sets.append(node_sets[int(node)])
        op[categorical] = Op.IN
        true_child[categorical], false_child[categorical] = right[categorical], left[categorical]
        missing_true[categorical] = ~default_left[categorical]
    if not np.all(np.isfinite(np.where(categorical, 0.0, conditions))):
        raise _corrupt(source, f"{where} has a non-finite split condition or leaf value")
    return {"feature": np.where(leaf, -1, feature), "threshold": threshold, "op": op,
            "true_child": true_child, "false_child": false_child, "missing_true": missing_true,
            "leaf32": np.where(leaf, conditions, np.float32(0.0)).astype(np.float32)}


def _string_categories(model: dict[str, Any], learner: dict[str, Any], n_features: int,
                       source: str) -> tuple[tuple[str, ...] | None, ...]:
    """Per feature, the training categories XGBoost >= 3.1 records for a pandas category / string column
    (`gradient_booster.model.cats.enc`, src/data/cat_container.cc: UTF-8 bytes `values` cut at `offsets`; the
    trees' codes index this list), None for a numeric feature; () when the model records none (XGBoost < 3.1, or
    categorical codes from numpy / a DMatrix: the input stays numeric)."""
    cats = model.get("cats")
    encodings = cats.get("enc") if isinstance(cats, dict) else None
    if not encodings:
        return ()
    if not isinstance(encodings, list) or len(encodings) != n_features:
        raise _corrupt(source, f"cats.enc has {len(encodings) if isinstance(encodings, list) else 0} entries for "
                               f"{n_features} features")
    from export.from_sklearn.dataframe import string_category_problem

    names = learner.get("feature_names") or [str(j) for j in range(n_features)]
    out: list[tuple[str, ...] | None] = []
    for j, entry in enumerate(encodings):
        values = np.asarray(entry.get("values", []) if isinstance(entry, dict) else [], dtype=np.int64).reshape(-1)
        if not isinstance(entry, dict) or values.size == 0:
            out.append(None)
            continue
        if "offsets" not in entry:
            raise UnsupportedEstimatorError(
                f"model file '{source}': feature {names[j]!r} has numeric pandas categories "
                f"{values[:5].tolist()}; supported: string categories, or integer codes (numpy / DMatrix)")
        offsets = np.asarray(entry["offsets"], dtype=np.int64).reshape(-1)
        if offsets.size < 1 or offsets[0] != 0 or np.any(np.diff(offsets) < 0) or offsets[-1] != values.size:
            raise _corrupt(source, f"cats.enc[{j}] offsets do not cut its values")
        data = (values & 0xFF).astype(np.uint8).tobytes()  # int8 bytes (negative above 0x7F)
        try:
            categories = tuple(data[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets.tolist()))
        except UnicodeDecodeError:
            raise _corrupt(source, f"cats.enc[{j}] is not UTF-8") from None
        problem = next((p for p in (string_category_problem(str(names[j]), c) for c in categories) if p), None)
        if problem or len(set(categories)) != len(categories):
            raise UnsupportedEstimatorError(f"model file '{source}': {problem or f'{names[j]!r} repeats a category'}")
        out.append(categories)
    return tuple(out)


def _check_no_early_stopping(learner: dict[str, Any], source: str) -> None:
    """The sklearn wrappers predict with the first best_iteration + 1 rounds after early stopping
    (`XGBModel._get_iteration_range`), a Booster loaded from the file with all of them: the file does not say which
    the user means, so such a model is refused rather than exported with a silent choice."""
    attributes = learner.get("attributes") or {}
    best = attributes.get("best_iteration")
    if best is not None:
        raise UnsupportedEstimatorError(
            f"model file '{source}' was trained with early stopping (best_iteration={best}): XGBClassifier/"
            "XGBRegressor.predict use rounds 0..best_iteration, Booster.predict all of them; save the rounds you "
            "mean, e.g. model.get_booster()[: model.best_iteration + 1].save_model(...)")


def parse_xgboost(document: dict[str, Any], source: str) -> BoostedForest:
    """An XGBoost model document (JSON, or UBJSON decoded) -> BoostedForest, checked before any library loads it."""
    learner = _get(document, "learner", source, "(top level)")
    param = _get(learner, "learner_model_param", source, "learner")
    objective = str(_get(_get(learner, "objective", source, "learner"), "name", source, "objective"))
    if objective not in OBJECTIVES:
        raise UnsupportedEstimatorError(f"model file '{source}': XGBoost objective {objective!r} is not supported; "
                                        f"supported: {', '.join(OBJECTIVES)}")
    kind, rule = OBJECTIVES[objective]
    try:
        n_features = int(param.get("num_feature", 0))
        n_class = int(param.get("num_class", 0) or 0)
        n_target = int(param.get("num_target", 1) or 1)
    except (TypeError, ValueError):
        raise _corrupt(source, "learner_model_param has a non-integer count") from None
    n_outputs = n_class if kind.startswith("multi") else n_target
    if kind.startswith("multi") and n_class < 2:
        raise _corrupt(source, f"objective {objective} with num_class={n_class}")
    if n_outputs > 1 and objective == "reg:quantileerror":
        raise UnsupportedEstimatorError(
            f"model file '{source}': reg:quantileerror with {n_outputs} quantiles is not supported (XGBoost >= 3.4 "
            "sorts them per row); supported: one quantile_alpha")
    if n_features < 1:
        raise _corrupt(source, f"num_feature={n_features}")
    _check_no_early_stopping(learner, source)
    model, weights = _booster_model(_get(learner, "gradient_booster", source, "learner"), source)
    trees = _get(model, "trees", source, "gbtree model")
    if not isinstance(trees, list) or not trees:
        raise _corrupt(source, "the model has no trees")
    tree_info = np.asarray(_get(model, "tree_info", source, "gbtree model"), dtype=np.int64)
    if tree_info.size != len(trees) or np.any((tree_info < 0) | (tree_info >= n_outputs)):
        raise _corrupt(source, "tree_info does not give one output group per tree")
    if weights is not None and weights.size != len(trees):
        raise _corrupt(source, f"weight_drop has {weights.size} weights for {len(trees)} trees")
    sets: list[frozenset[int]] = []
    columns = concatenate_trees([_tree_columns(t, i, source, sets) for i, t in enumerate(trees)])
    names = learner.get("feature_names") or []
    string_categories = _string_categories(model, learner, n_features, source)
    check_structure(source, columns["tree"], columns["node"], columns["feature"], columns["true_child"],
                    columns["false_child"], n_features)
    leaf32 = columns["leaf32"]
    if weights is not None:  # DART: out += leaf * weight, the product rounded to float32 first (cpu_predictor.cc)
        leaf32 = (leaf32 * weights[columns["tree"]]).astype(np.float32)
    leaf_target = tree_info[columns["tree"]]
    base32 = _margin_start(_base_score(param, n_outputs, source), rule)
    if kind == "binary-hinge":
        # predict = margin > 0 ? 1 : 0. Written as two scores [0, margin] whose first maximum is that label (a tie
        # at 0 picks class 0, as `>` does), so both formats take their plain argmax path.
        n_outputs, leaf_target, base32 = 2, np.ones_like(leaf_target), np.r_[np.float32(0.0), base32]
    leaf_value = np.zeros((leaf32.size, n_outputs))
    leaf_value[np.arange(leaf32.size), leaf_target] = leaf32.astype(np.float64)
    return BoostedForest(
        library="xgboost", objective=objective, n_features=n_features,
        feature_names=tuple(str(n) for n in names) if len(names) == n_features else None,
        precision="float32", sums_float32=True,
        tree=columns["tree"], node=columns["node"], feature=columns["feature"], threshold=columns["threshold"],
        op=columns["op"], true_child=columns["true_child"],
        false_child=columns["false_child"], missing_true=columns["missing_true"], leaf_value=leaf_value,
        leaf_target=leaf_target if n_outputs > 1 else np.full(leaf_target.size, -1, dtype=np.int64),
        base=base32.astype(np.float64), head=_task(kind, n_outputs), category_sets=tuple(sets),
        string_categories=string_categories, code_rule="xgboost")
