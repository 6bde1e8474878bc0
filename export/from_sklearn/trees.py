"""Front-end for tree families: lowers fitted scikit-learn trees and tree ensembles exactly into `ir.TreeEnsemble`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from export import ir
from export.errors import ExportFailedError, NotFittedError, UnsupportedEstimatorError
from export.frontends import Converted

_FLOAT32_OVERFLOW = 2.0**128  # the float32 "value" of +inf for round-to-nearest: FLT_MAX + one ulp (2**104)

# scikit-learn's `_tree.TREE_LEAF`: children_left/right of a leaf (tree/_tree.pyx).
_SKLEARN_TREE_LEAF = -1


# ----------------------------------------------------------------------------------------------------------------
# Thresholds


def snap_threshold_float32(thresholds: np.ndarray) -> tuple[ir.FloatArray, ir.IntArray]:
    """Rewrite scikit-learn's `float32(x) <= t` (t float64) as an equivalent comparison on the double x.

    Let f be the largest float32 <= t and f' the next float32 above f. Since float32(x) is a float32,
    float32(x) <= t  <=>  float32(x) <= f  <=>  x < m, or x == m and m rounds to f,
    where m = (f + f') / 2 is the rounding boundary (exact in double: f, f' have 24-bit significands and m is far
    above the double subnormal range). Round-half-to-even sends m to whichever of f, f' has an even significand:
    f even -> `x <= m` (LEQ), f odd -> `x < m` (LT). Overflow is the same rule with +-inf standing for +-2**128
    (its bit pattern is even): f = FLT_MAX (odd) gives LT m, so x == m rounds to +inf > t; t < -FLT_MAX gives
    f = -inf (even) and LEQ at -(FLT_MAX + 2**128) / 2. Zero and subnormals need no special case (+-0.0 both have
    an even significand; nextafter steps through the float32 subnormals).

    t = +inf (scikit-learn's "missing values only go right" split, `_splitter.pyx` `current_split.threshold =
    INFINITY`) sends every non-NaN float32 left, +inf included: it stays `x <= +inf` (both formats store doubles,
    so inf is representable; the midpoint rule would give 2**128, which sends x = +inf the wrong way).

    Returns (thresholds as float64, modes as int64 `ir.BranchMode`), same shape as `thresholds`.
    """
    t = np.asarray(thresholds, dtype=np.float64)
    if np.isnan(t).any():
        raise ExportFailedError("snap_threshold_float32: a tree threshold is NaN; scikit-learn never fits one")
    with np.errstate(over="ignore"):  # FLT_MAX -> +inf is the intended overflow
        nearest = t.astype(np.float32)  # round to nearest
        # f = largest float32 <= t (nearest may have rounded up; t = +-inf maps to itself)
        below = np.where(nearest.astype(np.float64) > t, np.nextafter(nearest, np.float32(-np.inf)), nearest)
        above = np.nextafter(below, np.float32(np.inf))
    lower = np.where(np.isneginf(below), -_FLOAT32_OVERFLOW, below.astype(np.float64))
    upper = np.where(np.isposinf(above), _FLOAT32_OVERFLOW, above.astype(np.float64))
    midpoint = (lower + upper) / 2.0
    below_is_even = (below.view(np.uint32) & np.uint32(1)) == 0
    modes = np.where(below_is_even, ir.BranchMode.LEQ, ir.BranchMode.LT).astype(np.int64)
    plus_infinity = np.isposinf(t)
    snapped = np.where(plus_infinity, np.inf, midpoint)
    modes = np.where(plus_infinity, ir.BranchMode.LEQ, modes).astype(np.int64)
    return snapped.astype(np.float64), modes


def _float64_leq_threshold(thresholds: np.ndarray) -> tuple[ir.FloatArray, ir.IntArray]:
    """Thresholds of a model that compares the double x itself (`x <= t`, HistGradientBoosting): kept as they are,
    mode LEQ. t = +inf (HGB's "split on NaN": `grower.py` sets `num_threshold = np.inf`) stays +inf, so x = +inf
    goes left as in scikit-learn (HGB accepts infinite inputs at predict)."""
    t = np.asarray(thresholds, dtype=np.float64)
    if np.isnan(t).any():
        raise ExportFailedError("HistGradientBoosting predictor has a NaN num_threshold; cannot encode it")
    return t.copy(), np.full(t.shape, ir.BranchMode.LEQ, dtype=np.int64)


# ----------------------------------------------------------------------------------------------------------------
# One tree in IR layout, before the ensemble's arrays are concatenated.


@dataclass(frozen=True)
class _TreeArrays:
    feature: np.ndarray
    threshold: np.ndarray
    mode: np.ndarray
    true_child: np.ndarray
    false_child: np.ndarray
    missing_tracks_true: np.ndarray
    leaf_value: np.ndarray  # (n_nodes, n_outputs)
    leaf_target: int  # -1: every output; k: only output k
    hit_rate: np.ndarray


def _sklearn_tree_arrays(tree: Any, leaf_value: np.ndarray, leaf_target: int) -> _TreeArrays:
    """An `sklearn.tree._tree.Tree` (`est.tree_`): left child = the true side of `float32(x) <= threshold`."""
    left = np.asarray(tree.children_left, dtype=np.int64)
    right = np.asarray(tree.children_right, dtype=np.int64)
    is_leaf = left == _SKLEARN_TREE_LEAF
    branch_thresholds = np.where(is_leaf, 0.0, np.asarray(tree.threshold, dtype=np.float64))
    threshold, mode = snap_threshold_float32(branch_thresholds)
    # `tree_.missing_go_to_left` (sklearn >= 1.3): `_tree.pyx` `_apply_dense` sends NaN left iff it is set, at every
    # node. A split fitted without missing values sets it to `n_left > n_right` (`_splitter.pyx`: "we send missing
    # values to the branch that contains the most samples during training time"), so this one field is exact for
    # trees trained with or without NaN. Where scikit-learn refuses NaN at predict (GradientBoosting*, or trees whose
    # tags say allow_nan=False) the routing is still the fitted flag; there is no sklearn behaviour to match there.
    missing_left = np.asarray(tree.missing_go_to_left, dtype=bool)
    weights = np.asarray(tree.weighted_n_node_samples, dtype=np.float64)
    return _TreeArrays(
        feature=np.where(is_leaf, -1, np.asarray(tree.feature, dtype=np.int64)),
        threshold=np.where(is_leaf, 0.0, threshold),
        mode=np.where(is_leaf, ir.BranchMode.LEQ, mode),
        true_child=np.where(is_leaf, -1, left),
        false_child=np.where(is_leaf, -1, right),
        missing_tracks_true=missing_left & ~is_leaf,
        leaf_value=np.where(is_leaf[:, None], leaf_value, 0.0),
        leaf_target=leaf_target,
        hit_rate=weights / weights[0] if weights[0] > 0 else np.ones_like(weights),
    )


def _assemble(trees: Sequence[_TreeArrays], n_features: int, base: np.ndarray, head: ir.Head,
              compares_float32: bool) -> Converted:
    """Concatenate trees in order (tree_id = position), which is also scikit-learn's summation order."""
    sizes = [t.feature.size for t in trees]
    return Converted(ir.TreeEnsemble(
        n_features=n_features,
        tree_id=np.repeat(np.arange(len(trees), dtype=np.int64), sizes),
        node_id=np.concatenate([np.arange(size, dtype=np.int64) for size in sizes]),
        feature=np.concatenate([t.feature for t in trees]),
        threshold=np.concatenate([t.threshold for t in trees]),
        mode=np.concatenate([t.mode for t in trees]),
        true_child=np.concatenate([t.true_child for t in trees]),
        false_child=np.concatenate([t.false_child for t in trees]),
        missing_tracks_true=np.concatenate([t.missing_tracks_true for t in trees]),
        leaf_value=np.concatenate([t.leaf_value for t in trees]),
        leaf_target=np.repeat(np.array([t.leaf_target for t in trees], dtype=np.int64), sizes),
        base=np.asarray(base, dtype=np.float64),
        compares_float32=compares_float32,
        hit_rate=np.concatenate([t.hit_rate for t in trees]),
    ), head)


# ----------------------------------------------------------------------------------------------------------------
# Checks shared by every family


def _require_fitted(est: Any, attribute: str) -> None:
    if not hasattr(est, attribute):
        raise NotFittedError(f"{type(est).__name__} is not fitted (no `{attribute}`); call fit() before exporting")


def _require_single_output(est: Any) -> None:
    n_outputs = int(getattr(est, "n_outputs_", 1))
    if n_outputs != 1:
        raise UnsupportedEstimatorError(
            f"{type(est).__name__} was fitted on {n_outputs} targets (n_outputs_={n_outputs}); "
            "supported: single-target trees (y of shape (n_samples,))")


def _class_labels(est: Any) -> np.ndarray:
    labels = np.asarray(est.classes_)
    if labels.dtype.kind == "f":
        raise UnsupportedEstimatorError(
            f"{type(est).__name__}.classes_ has dtype {labels.dtype}; supported class labels: integers or strings")
    return labels


def _classifier_leaf_probabilities(tree: Any, n_classes: int, scale: float) -> np.ndarray:
    """Per-node class probabilities of a classification tree, times `scale`.

    `tree_.value` holds weighted class fractions since scikit-learn 1.4 (counts before); dividing by the row sum is
    exact for both (predict_proba returns `tree_.value` unnormalised in 1.9, whose rows sum to 1 within an ulp)."""
    value = np.asarray(tree.value, dtype=np.float64)[:, 0, :n_classes]
    totals = value.sum(axis=1, keepdims=True)
    totals[totals == 0.0] = 1.0  # a zero-weight node: keep zeros (sklearn's old normaliser did the same)
    proba = value / totals
    if n_classes == 2:
        # Binary: ONE output = P(classes_[1]), link 'identity'. The IR label rule "labels[1] iff p > 0.5" is
        # scikit-learn's `argmax([p0, p1])`, which takes classes_[0] on a tie.
        proba = proba[:, 1:]
    return proba * scale if scale != 1.0 else proba


def _classification_task(est: Any, link: ir.Link) -> ir.Classification:
    return ir.Classification(labels=_class_labels(est), link=link, has_proba=True)


# ----------------------------------------------------------------------------------------------------------------
# DecisionTree, RandomForest, ExtraTrees


def decision_tree_to_ir(est: Any) -> Converted:
    """DecisionTreeClassifier / DecisionTreeRegressor -> one tree; thresholds snapped for `float32(x)`."""
    _require_fitted(est, "tree_")
    _require_single_output(est)
    return _averaged_trees_to_ir(est, [est])


def forest_to_ir(est: Any) -> Converted:
    """RandomForest / ExtraTrees Classifier / Regressor -> sum of trees whose leaves are divided by n_estimators,
    so the IR's plain sum is scikit-learn's mean (`_forest.py`: accumulate predict_proba / predict, then divide)."""
    _require_fitted(est, "estimators_")
    _require_single_output(est)
    return _averaged_trees_to_ir(est, list(est.estimators_))


def _averaged_trees_to_ir(est: Any, members: Sequence[Any]) -> Converted:
    scale = 1.0 / len(members) if len(members) > 1 else 1.0
    n_features = int(est.n_features_in_)
    trees: list[_TreeArrays] = []
    if hasattr(est, "classes_"):
        n_classes = len(est.classes_)
        for member in members:
            leaf = _classifier_leaf_probabilities(member.tree_, n_classes, scale)
            trees.append(_sklearn_tree_arrays(member.tree_, leaf, leaf_target=-1))
        n_outputs = 1 if n_classes == 2 else n_classes
        return _assemble(trees, n_features, np.zeros(n_outputs), _classification_task(est, "identity"),
                         compares_float32=True)
    for member in members:
        leaf = np.asarray(member.tree_.value, dtype=np.float64)[:, 0, :1] * scale
        trees.append(_sklearn_tree_arrays(member.tree_, leaf, leaf_target=-1))
    return _assemble(trees, n_features, np.zeros(1), ir.Regression(n_targets=1), compares_float32=True)


# ----------------------------------------------------------------------------------------------------------------
# GradientBoosting


_GB_REGRESSION_LOSSES = ("squared_error", "absolute_error", "huber", "quantile")  # all IdentityLink in sklearn._loss
_GB_CLASSIFICATION_LOSSES = ("log_loss", "exponential")
# init_ estimators whose prediction does not depend on x (so it is one base vector). DummyClassifier 'stratified'
# draws random labels and is refused.
_DETERMINISTIC_DUMMY_STRATEGIES = {
    "DummyRegressor": ("mean", "median", "quantile", "constant"),
    "DummyClassifier": ("prior", "most_frequent", "uniform", "constant"),
}


def _gradient_boosting_base(est: Any) -> np.ndarray:
    """The init estimator's raw prediction, which is constant in x for 'zero' and deterministic Dummy* inits."""
    init = est.init_
    if not (isinstance(init, str) and init == "zero"):
        kind = type(init).__name__
        strategies = _DETERMINISTIC_DUMMY_STRATEGIES.get(kind)
        if type(init).__module__ != "sklearn.dummy" or strategies is None or init.strategy not in strategies:
            detail = f"{kind}(strategy={init.strategy!r})" if hasattr(init, "strategy") else kind
            raise UnsupportedEstimatorError(
                f"{type(est).__name__} init={detail} predicts a start value that depends on x; supported: "
                "init=None, 'zero', DummyRegressor (any strategy), DummyClassifier(strategy in "
                f"{_DETERMINISTIC_DUMMY_STRATEGIES['DummyClassifier']})")
    # `_raw_predict_init` is what `_raw_predict` starts from (`_gb.py`); it only reads the estimator.
    base = est._raw_predict_init(np.zeros((1, int(est.n_features_in_)), dtype=np.float64))
    return np.asarray(base, dtype=np.float64).reshape(-1)


def gradient_boosting_to_ir(est: Any) -> Converted:
    """GradientBoostingClassifier / GradientBoostingRegressor -> base + sum of trees with leaves x learning_rate.

    scikit-learn's `predict_stages` adds `learning_rate * value[leaf]` per stage, so folding the product into the
    leaf is the same double. Multiclass: `estimators_[stage, k]` adds to column k only (leaf_target = k)."""
    _require_fitted(est, "estimators_")
    is_classifier = hasattr(est, "classes_")
    allowed = _GB_CLASSIFICATION_LOSSES if is_classifier else _GB_REGRESSION_LOSSES
    if est.loss not in allowed:
        raise UnsupportedEstimatorError(
            f"{type(est).__name__} loss={est.loss!r} is not supported; supported: {', '.join(allowed)}")
    base = _gradient_boosting_base(est)
    stages = np.asarray(est.estimators_, dtype=object)
    n_stages, n_per_stage = stages.shape
    learning_rate = float(est.learning_rate)
    doubling = 1.0
    if is_classifier and est.loss == "exponential":
        # ExponentialLoss uses HalfLogitLink: predict_proba = expit(2 * raw) (`sklearn/_loss/link.py`). Doubling the
        # base and every leaf gives score 2 * raw exactly (x2 commutes with rounding), so link 'logistic' is exact;
        # the label rule (raw >= 0 in sklearn) keeps its sign.
        doubling = 2.0
        base = base * doubling
    trees: list[_TreeArrays] = []
    for stage in range(n_stages):
        for k in range(n_per_stage):
            tree = stages[stage, k].tree_
            # sklearn adds `learning_rate * value` (`_gradient_boosting.pyx`); the same product, then the exact x2
            values = (learning_rate * np.asarray(tree.value, dtype=np.float64)[:, 0, 0]) * doubling
            leaf = np.zeros((values.size, n_per_stage))
            leaf[:, k] = values
            trees.append(_sklearn_tree_arrays(tree, leaf, leaf_target=k if n_per_stage > 1 else -1))
    task: ir.Head
    if is_classifier:
        # Binary: sklearn predicts classes_[1] iff raw >= 0 (`_gb.py` predict) while the IR's 'logistic' rule is
        # z > 0: they differ only when the raw score is exactly 0.0, a reference tie (predict_proba is [0.5, 0.5]
        # there and its argmax agrees with the IR). The IR has no ">=" link, and nudging the base would change
        # probabilities, so the tie is left as documented.
        task = _classification_task(est, "logistic" if n_per_stage == 1 else "softmax")
    else:
        task = ir.Regression(n_targets=1)
    return _assemble(trees, int(est.n_features_in_), base, task, compares_float32=True)


# ----------------------------------------------------------------------------------------------------------------
# HistGradientBoosting


_HGB_IDENTITY_LINK_LOSSES = ("squared_error", "absolute_error", "quantile")


def _hgb_predictor_arrays(nodes: np.ndarray, n_outputs: int, target: int) -> _TreeArrays:
    """One `TreePredictor.nodes` record array (`_predictor.pyx`): `x <= num_threshold` in float64 -> left; NaN ->
    left iff missing_go_to_left; leaf `value` is already multiplied by the learning rate."""
    is_leaf = np.asarray(nodes["is_leaf"], dtype=bool)
    threshold, mode = _float64_leq_threshold(np.where(is_leaf, 0.0, nodes["num_threshold"]))
    values = np.asarray(nodes["value"], dtype=np.float64)
    leaf = np.zeros((values.size, n_outputs))
    leaf[:, max(target, 0)] = np.where(is_leaf, values, 0.0)
    counts = np.asarray(nodes["count"], dtype=np.float64)
    return _TreeArrays(
        feature=np.where(is_leaf, -1, np.asarray(nodes["feature_idx"], dtype=np.int64)),
        threshold=np.where(is_leaf, 0.0, threshold),
        mode=mode,
        true_child=np.where(is_leaf, -1, np.asarray(nodes["left"], dtype=np.int64)),
        false_child=np.where(is_leaf, -1, np.asarray(nodes["right"], dtype=np.int64)),
        missing_tracks_true=np.asarray(nodes["missing_go_to_left"], dtype=bool) & ~is_leaf,
        leaf_value=leaf,
        leaf_target=target,
        hit_rate=counts / counts[0] if counts[0] > 0 else np.ones_like(counts),
    )


def _check_hgb_encodable(est: Any, categorical: bool = False) -> None:
    # Categorical features: `_preprocessor` (an OrdinalEncoder ColumnTransformer that reorders columns) rewrites the
    # raw input and nodes branch on bitsets, which LEQ/LT nodes cannot express on a numeric row; a DataFrame model
    # with string category columns is lowered by `export.from_sklearn.dataframe` (membership columns) instead.
    if (not categorical and getattr(est, "_preprocessor", None) is not None) or (not categorical and any(
            bool(np.any(p.nodes["is_categorical"])) for stage in est._predictors for p in stage)):
        raise UnsupportedEstimatorError(
            f"{type(est).__name__} with categorical features (categorical_features={est.categorical_features!r}, "
            "is_categorical_ set) is supported on a DataFrame whose categorical columns hold strings (pandas "
            "category / str); here: numeric features only (categorical_features=None or no categorical columns)")
    if not hasattr(est, "classes_"):
        link = type(est._loss.link).__name__
        if link != "IdentityLink":
            raise UnsupportedEstimatorError(
                f"{type(est).__name__} loss={est.loss!r} predicts through {link} (e.g. exp for poisson/gamma), "
                f"which the tree IR cannot apply; supported: loss in {_HGB_IDENTITY_LINK_LOSSES}")


def hist_gradient_boosting_to_ir(est: Any) -> Converted:
    """HistGradientBoostingClassifier / Regressor -> base + sum of predictors; compares float64, so no snapping."""
    _require_fitted(est, "_predictors")
    _check_hgb_encodable(est)
    n_outputs = int(est.n_trees_per_iteration_)
    trees = [
        _hgb_predictor_arrays(predictor.nodes, n_outputs, k if n_outputs > 1 else -1)
        for stage in est._predictors
        for k, predictor in enumerate(stage)
    ]
    return hgb_assemble(est, trees, int(est.n_features_in_))


def hgb_predictor_trees(est: Any) -> list[tuple[Any, _TreeArrays]]:
    """(TreePredictor, its arrays) in scikit-learn's summation order; categorical nodes still hold their internal
    feature index and `num_threshold` (the caller rewrites them)."""
    _require_fitted(est, "_predictors")
    _check_hgb_encodable(est, categorical=True)
    n_outputs = int(est.n_trees_per_iteration_)
    return [(predictor, _hgb_predictor_arrays(predictor.nodes, n_outputs, k if n_outputs > 1 else -1))
            for stage in est._predictors for k, predictor in enumerate(stage)]


def hgb_assemble(est: Any, trees: Sequence[_TreeArrays], n_features: int) -> Converted:
    n_outputs = int(est.n_trees_per_iteration_)
    base = np.asarray(est._baseline_prediction, dtype=np.float64).reshape(-1)
    task: ir.Head
    if hasattr(est, "classes_"):
        # Binary predict is `raw > 0` (`gradient_boosting.py`), exactly the IR 'logistic' rule; multiclass argmax.
        task = _classification_task(est, "logistic" if n_outputs == 1 else "softmax")
    else:
        task = ir.Regression(n_targets=1)
    return _assemble(trees, n_features, base, task, compares_float32=False)


def isolation_forest_to_ir(est: Any) -> Converted:
    """IsolationForest (`_compute_score_samples`): each tree adds `_decision_path_lengths[t][leaf] +
    `_average_path_length_per_tree[t][leaf]` - 1.0 — the leaf's depth plus the c(n_node_samples) correction,
    computed by scikit-learn at fit — summed into `depths` (the trees see float32(x), thresholds snapped; with
    max_features < n_features each tree reads its `estimators_features_` columns). The Anomaly head's 'isolation'
    rule turns depths into decision_function = -(2 ** -(depths / (n_estimators · c(max_samples)))) - offset_, and
    predict = 1 iff decision_function >= 0."""
    from sklearn.ensemble._iforest import _average_path_length

    denominator = len(est.estimators_) * float(_average_path_length([est._max_samples])[0])
    if not denominator > 0:
        raise UnsupportedEstimatorError(f"{type(est).__name__}: fitted on a single sample (scikit-learn scores every "
                                        "row 1 then); supported: max_samples >= 2")
    subsample = est._max_features != est.n_features_in_  # scikit-learn's `subsample_features`
    trees = []
    for t, (tree, features) in enumerate(zip(est.estimators_, est.estimators_features_, strict=True)):
        leaf_value = (np.asarray(est._decision_path_lengths[t], dtype=np.float64)
                      + np.asarray(est._average_path_length_per_tree[t], dtype=np.float64) - 1.0)
        arrays = _sklearn_tree_arrays(tree.tree_, leaf_value[:, None], -1)
        if subsample:
            columns = np.asarray(features, dtype=np.int64)
            arrays = replace(arrays, feature=np.where(arrays.feature >= 0, columns[np.maximum(arrays.feature, 0)],
                                                      -1))
        trees.append(arrays)
    head = ir.Anomaly(threshold=0.0, score="isolation", denominator=denominator, offset=float(est.offset_))
    return _assemble(trees, int(est.n_features_in_), np.zeros(1), head, compares_float32=True)
