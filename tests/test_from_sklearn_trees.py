"""Tests for export/from_sklearn/trees.py: the IR a tree converter builds, evaluated by a numpy oracle defined here,
must reproduce scikit-learn's own predict / predict_proba / decision_function (no writer involved)."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from export import ir
from export.errors import NotFittedError, UnsupportedEstimatorError
from export.from_sklearn.trees import (
    decision_tree_to_ir,
    forest_to_ir,
    gradient_boosting_to_ir,
    hist_gradient_boosting_to_ir,
    snap_threshold_float32,
)

# Tolerances (absolute, on probabilities and raw scores):
# - Probabilities: the IR folds 1/n_estimators into each leaf (sum of p/n vs sklearn's sum(p)/n), normalises
#   tree_.value by its row sum, gives P(class 0) as 1 - p1, and our oracle's exp/softmax are not sklearn's Cython
#   ones: each is a few ulps, so 1e-12 absolute on values in [0, 1] (relative 1e-12 would be meaningless for
#   p near 0, where 1 - p1 carries an absolute error of ~1e-16).
# - Raw scores / regression: same double sums in the same order except the forest 1/n fold: 1e-12 relative to the
#   largest |value|.
PROBA_ATOL = 1e-12
SCORE_RTOL = 1e-12
TIE_GAP = 1e-12  # a reference tie: sklearn's top two probabilities / scores closer than this

FLT_MAX = float(np.finfo(np.float32).max)


@pytest.fixture(autouse=True)
def _single_openmp_thread():
    # HistGradientBoosting fits/predicts with OpenMP; on a shared 2-core CI box thread oversubscription made these
    # tiny fits 10x slower than single-threaded.
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


# ----------------------------------------------------------------------------------------------------------------
# Test oracle: an IR TreeEnsemble evaluator in numpy (lock-step over rows, one tree at a time in tree_id order).


def evaluate_tree_ensemble(node: ir.TreeEnsemble, X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    n_rows = X.shape[0]
    rows = np.arange(n_rows)
    scores = np.tile(node.base, (n_rows, 1))
    for tree in np.unique(node.tree_id):
        at = np.flatnonzero(node.tree_id == tree)
        ids = node.node_id[at]
        position = np.full(int(ids.max()) + 1, -1)
        position[ids] = np.arange(at.size)
        feature, threshold, mode = node.feature[at], node.threshold[at], node.mode[at]
        true_pos = np.where(node.true_child[at] >= 0, position[np.maximum(node.true_child[at], 0)], -1)
        false_pos = np.where(node.false_child[at] >= 0, position[np.maximum(node.false_child[at], 0)], -1)
        missing_true = node.missing_tracks_true[at]
        current = np.full(n_rows, position[0])
        for _ in range(at.size):
            leaf = feature[current] < 0
            if leaf.all():
                break
            x = X[rows, np.maximum(feature[current], 0)]
            t = threshold[current]
            passes = np.where(mode[current] == ir.BranchMode.LEQ, x <= t, x < t)
            go_true = np.where(np.isnan(x), missing_true[current], passes)
            current = np.where(leaf, current, np.where(go_true, true_pos[current], false_pos[current]))
        values = node.leaf_value[at][current]
        target = node.leaf_target[at][current]
        every = target < 0
        scores[every] += values[every]
        one = np.flatnonzero(~every)
        scores[one, target[one]] += values[one, target[one]]
    return scores


def labels_and_proba(task: ir.Classification, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The IR `Link` rules, as documented in ir.py."""
    if task.link == "identity" and scores.shape[1] == 1:
        p = scores[:, 0]
        return task.labels[(p > 0.5).astype(int)], np.column_stack([1.0 - p, p])
    if task.link == "identity":
        return task.labels[np.argmax(scores, axis=1)], scores
    if task.link == "logistic":
        z = scores[:, 0]
        p = 1.0 / (1.0 + np.exp(-z))
        return task.labels[(z > 0).astype(int)], np.column_stack([1.0 - p, p])
    assert task.link == "softmax"
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return task.labels[np.argmax(scores, axis=1)], e / e.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------------------------------------------
# snap_threshold_float32: exhaustive comparison with numpy's own float32 rounding


def _special_thresholds(rng: np.random.Generator) -> np.ndarray:
    f32_tiny = float(np.finfo(np.float32).smallest_subnormal)
    f32_normal = float(np.finfo(np.float32).tiny)
    exact = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 2.45, f32_tiny, -f32_tiny, 2 * f32_tiny, 3 * f32_tiny, f32_normal,
                      -f32_normal, FLT_MAX, -FLT_MAX, 1e38, -1e38, 1e39, -1e39, 1e300, -1e300, 1e-300, -1e-300,
                      f32_tiny / 2, -f32_tiny / 2, 1.5 * f32_tiny, -1.5 * f32_tiny, np.inf, -np.inf,
                      (FLT_MAX + 2.0**128) / 2, -(FLT_MAX + 2.0**128) / 2, 16777217.0, 16777219.0, 0.1, -0.1])
    magnitudes = 10.0 ** rng.uniform(-46, 38.5, 3000)
    signs = rng.choice([-1.0, 1.0], magnitudes.size)
    random_doubles = signs * magnitudes
    float32_exact = random_doubles.astype(np.float32).astype(np.float64)
    with np.errstate(over="ignore"):
        lo = float32_exact.astype(np.float32)
        hi = np.nextafter(lo, np.float32(np.inf))
    midpoints = (lo.astype(np.float64) + hi.astype(np.float64)) / 2
    finite_mid = midpoints[np.isfinite(midpoints)]
    near_mid = np.concatenate([np.nextafter(finite_mid, np.inf), np.nextafter(finite_mid, -np.inf)])
    small_ints = np.arange(-2000, 2000) / 8.0
    with np.errstate(invalid="ignore"):  # random bit patterns include NaNs, dropped below
        bits = rng.integers(0, 2**32, 2000, dtype=np.uint64).astype(np.uint32).view(np.float32).astype(np.float64)
    return np.concatenate([exact, random_doubles, float32_exact, finite_mid, near_mid, small_ints,
                           bits[np.isfinite(bits)]])


def _probe_values(t: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(n_thresholds, n_probes) doubles around each threshold: t, m, their double neighbours, float32 neighbours
    of t and their double neighbours, random doubles between the float32 neighbours."""
    finite_t = np.where(np.isfinite(t), t, np.sign(t) * 1e300)
    with np.errstate(over="ignore", invalid="ignore"):
        f = finite_t.astype(np.float32)
        f_down = np.nextafter(f, np.float32(-np.inf)).astype(np.float64)
        f_up = np.nextafter(f, np.float32(np.inf)).astype(np.float64)
    f64 = f.astype(np.float64)
    with np.errstate(over="ignore"):
        columns = [t, m, np.nextafter(m, np.inf), np.nextafter(m, -np.inf), f64, f_down, f_up]
        columns += [np.nextafter(c, d) for c in (f64, f_down, f_up, t) for d in (np.inf, -np.inf)]
    lo = np.where(np.isfinite(f_down), f_down, -2 * FLT_MAX)
    hi = np.where(np.isfinite(f_up), f_up, 2 * FLT_MAX)
    for _ in range(6):
        columns.append(lo + (hi - lo) * rng.uniform(size=t.size))
    return np.column_stack(columns)


def test_snap_threshold_matches_float32_rounding_exhaustively():
    rng = np.random.default_rng(0)
    t = _special_thresholds(rng)
    snapped, modes = snap_threshold_float32(t)
    assert snapped.dtype == np.float64 and modes.dtype == np.int64
    assert np.array_equal(np.isposinf(snapped), np.isposinf(t)) and not np.isnan(snapped).any()
    x = _probe_values(t, snapped, rng)
    with np.errstate(over="ignore"):
        truth = x.astype(np.float32) <= t[:, None]  # numpy promotes the float32 to float64, as sklearn's C does
    ours = np.where(modes[:, None] == ir.BranchMode.LEQ, x <= snapped[:, None], x < snapped[:, None])
    # Exact for every x, infinite ones included (t = +inf stays `x <= +inf`).
    assert np.array_equal(truth, ours), np.argwhere(truth != ours)[:5]
    assert x.size > 100_000


def test_snap_threshold_known_values():
    # 2.45 (double) lies between float32 neighbours f = 2.4499998 and f' = 2.4500000477; f's significand is even
    f = np.float32(2.45)
    below = np.nextafter(f, np.float32(-np.inf)) if float(f) > 2.45 else f
    above = np.nextafter(below, np.float32(np.inf))
    snapped, modes = snap_threshold_float32(np.array([2.45, 1.0, FLT_MAX, 1e39, np.inf, 0.0]))
    assert snapped[0] == (float(below) + float(above)) / 2
    assert modes[0] == (ir.BranchMode.LEQ if int(below.view(np.uint32)) % 2 == 0 else ir.BranchMode.LT)
    # 1.0 is a float32 with even significand: boundary to the next float32 1 + 2**-24, ties round down to 1.0
    assert snapped[1] == 1.0 + 2.0**-24 and modes[1] == ir.BranchMode.LEQ
    # FLT_MAX has an odd significand: x exactly at the overflow boundary rounds to +inf, so strict
    assert snapped[2] == (FLT_MAX + 2.0**128) / 2 and modes[2] == ir.BranchMode.LT
    assert snapped[3] == snapped[2] and modes[3] == ir.BranchMode.LT
    assert np.isposinf(snapped[4]) and modes[4] == ir.BranchMode.LEQ
    assert snapped[5] == float(np.finfo(np.float32).smallest_subnormal) / 2 and modes[5] == ir.BranchMode.LEQ


# ----------------------------------------------------------------------------------------------------------------
# Data


def _dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "wine_alcohol":  # a second shipped regression problem: predict alcohol from the other wine columns
        X = load_wine().data
        return X[:, 1:], X[:, 0]
    if name == "wine_str":  # string class labels
        X, y = load_wine(return_X_y=True)
        return X, np.array(["barolo", "grignolino", "barbera"], dtype=object)[y]
    loader = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer,
              "diabetes": load_diabetes}[name]
    X, y = loader(return_X_y=True)
    return X, y


def _with_nan(X: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = X.copy()
    X[rng.uniform(size=X.shape) < fraction] = np.nan
    return X


def _sklearn_thresholds(est: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """(feature, threshold) of every branch, read from scikit-learn (not from our IR)."""
    out = []
    if hasattr(est, "_predictors"):
        for stage in est._predictors:
            for p in stage:
                branch = ~p.nodes["is_leaf"].astype(bool)
                out.append((p.nodes["feature_idx"][branch].astype(int), p.nodes["num_threshold"][branch]))
        return out
    members = [est] if hasattr(est, "tree_") else list(np.ravel(np.asarray(est.estimators_, dtype=object)))
    for m in members:
        branch = m.tree_.children_left >= 0
        out.append((m.tree_.feature[branch], m.tree_.threshold[branch]))
    return out


def probe_rows(est: Any, node: ir.TreeEnsemble, X: np.ndarray, max_branches: int = 250, seed: int = 0) -> np.ndarray:
    """Rows placed on every (sampled) split: at t, float32(t), both float32 neighbours of t, the IR's snapped
    threshold and its double neighbours, and t's double neighbours. Other columns come from a data row."""
    rng = np.random.default_rng(seed)
    features = np.concatenate([f for f, _ in _sklearn_thresholds(est)])
    thresholds = np.concatenate([t for _, t in _sklearn_thresholds(est)])
    branch = node.feature >= 0
    ir_features, ir_thresholds = node.feature[branch], node.threshold[branch]
    pick = rng.choice(features.size, min(max_branches, features.size), replace=False)
    pick_ir = rng.choice(ir_features.size, min(max_branches, ir_features.size), replace=False)
    t = thresholds[pick]
    finite = np.isfinite(t)
    t32 = np.where(finite, t, 0.0).astype(np.float32)
    values = [t, t32.astype(np.float64), np.nextafter(t32, np.float32(-np.inf)).astype(np.float64),
              np.nextafter(t32, np.float32(np.inf)).astype(np.float64), np.nextafter(t, np.inf),
              np.nextafter(t, -np.inf)]
    m = ir_thresholds[pick_ir]
    probe_features = [features[pick]] * len(values) + [ir_features[pick_ir]] * 3
    with np.errstate(over="ignore"):  # +inf splits step to inf / DBL_MAX; non-finite and huge values dropped below
        values += [m, np.nextafter(m, np.inf), np.nextafter(m, -np.inf)]
    f_all, v_all = np.concatenate(probe_features), np.concatenate(values)
    keep = np.isfinite(v_all) & (np.abs(v_all) < 1e30)
    f_all, v_all = f_all[keep], v_all[keep]
    rows = X[rng.integers(0, X.shape[0], f_all.size)].copy()
    rows[np.arange(f_all.size), f_all] = v_all
    return rows


# ----------------------------------------------------------------------------------------------------------------
# Comparison against scikit-learn


def _assert_classifier_matches(est: Any, node: ir.TreeEnsemble, head: ir.Head, X: np.ndarray) -> dict[str, float]:
    assert isinstance(head, ir.Classification)
    assert list(head.labels) == list(est.classes_)
    scores = evaluate_tree_ensemble(node, X)
    labels, proba = labels_and_proba(head, scores)
    ref_proba = est.predict_proba(X)
    np.testing.assert_allclose(proba, ref_proba, rtol=0, atol=PROBA_ATOL)
    stats = {"proba": float(np.max(np.abs(proba - ref_proba)))}
    if hasattr(est, "decision_function"):
        ref_raw = est.decision_function(X)
        ref_raw = ref_raw.reshape(len(X), -1)
        raw = scores / 2.0 if getattr(est, "loss", None) == "exponential" else scores
        scale = max(1.0, float(np.max(np.abs(ref_raw))))
        np.testing.assert_allclose(raw, ref_raw, rtol=0, atol=SCORE_RTOL * scale)
        stats["raw"] = float(np.max(np.abs(raw - ref_raw)))
        if ref_raw.shape[1] == 1:
            tie = np.abs(ref_raw[:, 0]) <= TIE_GAP * scale
        else:
            top = np.sort(ref_raw, axis=1)
            tie = top[:, -1] - top[:, -2] <= TIE_GAP * scale
    else:
        top = np.sort(ref_proba, axis=1)
        tie = top[:, -1] - top[:, -2] <= TIE_GAP
    ref_labels = est.predict(X)
    assert np.array_equal(labels[~tie], ref_labels[~tie]), int(np.sum(labels[~tie] != ref_labels[~tie]))
    stats["label_mismatches_at_ties"] = float(np.sum(labels[tie] != ref_labels[tie]))
    return stats


def _assert_regressor_matches(est: Any, node: ir.TreeEnsemble, head: ir.Head, X: np.ndarray) -> dict[str, float]:
    assert isinstance(head, ir.Regression) and head.n_targets == 1 and head.link == "identity"
    predicted = evaluate_tree_ensemble(node, X)[:, 0]
    reference = est.predict(X)
    scale = max(1.0, float(np.max(np.abs(reference))))
    np.testing.assert_allclose(predicted, reference, rtol=0, atol=SCORE_RTOL * scale)
    return {"prediction": float(np.max(np.abs(predicted - reference)))}


def _check(est: Any, convert: Any, X_train: np.ndarray, X_test: np.ndarray) -> dict[str, float]:
    before = pickle.dumps(est)
    converted = convert(est)
    node, head = converted.node, converted.head
    assert pickle.dumps(est) == before, "converter mutated the estimator"
    assert isinstance(node, ir.TreeEnsemble)
    assert node.n_features == X_train.shape[1]
    assert node.compares_float32 == (convert is not hist_gradient_boosting_to_ir)
    X = np.vstack([X_test, probe_rows(est, node, X_train)])
    if hasattr(est, "classes_"):
        return _assert_classifier_matches(est, node, head, X)
    return _assert_regressor_matches(est, node, head, X)


CLASSIFIERS = [
    ("dt", lambda: DecisionTreeClassifier(random_state=0), decision_tree_to_ir),
    ("rf", lambda: RandomForestClassifier(n_estimators=5, random_state=0), forest_to_ir),
    ("et", lambda: ExtraTreesClassifier(n_estimators=5, random_state=0), forest_to_ir),
    ("gb", lambda: GradientBoostingClassifier(n_estimators=15, random_state=0), gradient_boosting_to_ir),
    ("hgb", lambda: HistGradientBoostingClassifier(max_iter=15, random_state=0), hist_gradient_boosting_to_ir),
]
REGRESSORS = [
    ("dt", lambda: DecisionTreeRegressor(random_state=0), decision_tree_to_ir),
    ("rf", lambda: RandomForestRegressor(n_estimators=5, random_state=0), forest_to_ir),
    ("et", lambda: ExtraTreesRegressor(n_estimators=5, random_state=0), forest_to_ir),
    ("gb", lambda: GradientBoostingRegressor(n_estimators=15, random_state=0), gradient_boosting_to_ir),
    ("hgb", lambda: HistGradientBoostingRegressor(max_iter=15, random_state=0), hist_gradient_boosting_to_ir),
]
NAN_CAPABLE = ("dt", "rf", "et", "hgb")


def _split(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    test = rng.uniform(size=len(y)) < 0.3
    return X[~test], y[~test], X[test]


@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer", "wine_str"])
@pytest.mark.parametrize(("name", "make", "convert"), CLASSIFIERS, ids=[c[0] for c in CLASSIFIERS])
def test_classifier_matches_sklearn(name, make, convert, dataset):
    X, y = _dataset(dataset)
    X_train, y_train, X_test = _split(X, y)
    est = make().fit(X_train, y_train)
    _check(est, convert, X_train, X_test)


@pytest.mark.parametrize("dataset", ["diabetes", "wine_alcohol"])
@pytest.mark.parametrize(("name", "make", "convert"), REGRESSORS, ids=[r[0] for r in REGRESSORS])
def test_regressor_matches_sklearn(name, make, convert, dataset):
    X, y = _dataset(dataset)
    X_train, y_train, X_test = _split(X, y)
    est = make().fit(X_train, y_train)
    _check(est, convert, X_train, X_test)


@pytest.mark.parametrize("nan_in_training", [True, False], ids=["nan-fit", "clean-fit"])
@pytest.mark.parametrize("dataset", ["breast_cancer", "iris", "diabetes"])
@pytest.mark.parametrize("family", NAN_CAPABLE)
def test_nan_routing_matches_sklearn(family, dataset, nan_in_training):
    X, y = _dataset(dataset)
    X_train, y_train, X_test = _split(X, y)
    if nan_in_training:
        X_train = _with_nan(X_train, 0.1, seed=2)
    X_test = _with_nan(X_test, 0.2, seed=3)
    table = dict((n, (m, c)) for n, m, c in (REGRESSORS if dataset == "diabetes" else CLASSIFIERS))
    make, convert = table[family]
    est = make().fit(X_train, y_train)
    node = convert(est).node
    if nan_in_training:
        assert node.missing_tracks_true.any() and not node.missing_tracks_true.all()
    _check(est, convert, X_train, X_test)


# ----------------------------------------------------------------------------------------------------------------
# Losses, inits and links of gradient boosting


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber", "quantile"])
@pytest.mark.parametrize("dataset", ["diabetes", "wine_alcohol"])
def test_gradient_boosting_regressor_every_loss(loss, dataset):
    X, y = _dataset(dataset)
    X_train, y_train, X_test = _split(X, y)
    est = GradientBoostingRegressor(loss=loss, n_estimators=10, learning_rate=0.3, random_state=0)
    _check(est.fit(X_train, y_train), gradient_boosting_to_ir, X_train, X_test)


@pytest.mark.parametrize("dataset", ["breast_cancer", "iris_binary"])
def test_gradient_boosting_exponential_loss(dataset):
    if dataset == "iris_binary":
        X, y = load_iris(return_X_y=True)
        X, y = X[y > 0], y[y > 0]
    else:
        X, y = _dataset(dataset)
    X_train, y_train, X_test = _split(X, y)
    est = GradientBoostingClassifier(loss="exponential", n_estimators=10, random_state=0).fit(X_train, y_train)
    converted = gradient_boosting_to_ir(est)
    node, head = converted.node, converted.head
    assert head.link == "logistic"
    # base = 2 x half-logit of the prior: the score is 2 * raw, because exponential loss has proba = expit(2 raw)
    np.testing.assert_array_equal(node.base, 2 * est._raw_predict_init(np.zeros((1, X.shape[1])))[0])
    _check(est, gradient_boosting_to_ir, X_train, X_test)


@pytest.mark.parametrize("init", ["zero", DummyClassifier(strategy="most_frequent")])
def test_gradient_boosting_classifier_inits(init):
    X, y = _dataset("wine")
    X_train, y_train, X_test = _split(X, y)
    est = GradientBoostingClassifier(init=init, n_estimators=10, random_state=0).fit(X_train, y_train)
    _check(est, gradient_boosting_to_ir, X_train, X_test)


def test_gradient_boosting_multiclass_uses_one_tree_per_class():
    X, y = _dataset("iris")
    est = GradientBoostingClassifier(n_estimators=4, random_state=0).fit(X, y)
    converted = gradient_boosting_to_ir(est)
    node, head = converted.node, converted.head
    assert node.n_trees == 12 and node.n_outputs == 3 and head.link == "softmax"
    leaf = node.is_leaf
    assert np.array_equal(np.unique(node.leaf_target[leaf]), [0, 1, 2])
    # tree t adds to class t % 3, with learning_rate folded into the leaves
    np.testing.assert_array_equal(node.leaf_target[leaf], node.tree_id[leaf] % 3)
    first_tree = est.estimators_[0, 0].tree_
    first_leaves = first_tree.children_left == -1
    np.testing.assert_array_equal(node.leaf_value[(node.tree_id == 0) & leaf, 0],
                                  est.learning_rate * first_tree.value[first_leaves, 0, 0])


def test_gradient_boosting_refuses_x_dependent_init():
    X, y = _dataset("breast_cancer")
    stratified = GradientBoostingClassifier(init=DummyClassifier(strategy="stratified"), n_estimators=2).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="init=DummyClassifier"):
        gradient_boosting_to_ir(stratified)
    X, y = _dataset("diabetes")
    linear = GradientBoostingRegressor(init=LinearRegression(), n_estimators=2).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="init=LinearRegression"):
        gradient_boosting_to_ir(linear)


# ----------------------------------------------------------------------------------------------------------------
# HistGradientBoosting specifics


@pytest.mark.parametrize("loss", ["absolute_error", "quantile"])
def test_hist_gradient_boosting_identity_link_losses(loss):
    X, y = _dataset("diabetes")
    X_train, y_train, X_test = _split(X, y)
    extra = {"quantile": 0.8} if loss == "quantile" else {}
    est = HistGradientBoostingRegressor(loss=loss, max_iter=10, random_state=0, **extra).fit(X_train, y_train)
    _check(est, hist_gradient_boosting_to_ir, X_train, X_test)


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
def test_hist_gradient_boosting_refuses_log_link(loss):
    X, y = _dataset("diabetes")
    est = HistGradientBoostingRegressor(loss=loss, max_iter=3).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match=f"loss='{loss}'.*LogLink"):
        hist_gradient_boosting_to_ir(est)


def test_hist_gradient_boosting_refuses_categorical_features():
    X, y = _dataset("iris")
    X = X.copy()
    X[:, 0] = np.round(X[:, 0]).astype(int) % 4
    est = HistGradientBoostingClassifier(categorical_features=[0], max_iter=5).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match="categorical_features"):
        hist_gradient_boosting_to_ir(est)


def test_hist_gradient_boosting_refuses_pandas_categorical_columns():
    pd = pytest.importorskip("pandas")
    X, y = _dataset("iris")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["a"] = pd.Categorical(np.round(X[:, 0]).astype(int))
    est = HistGradientBoostingClassifier(max_iter=3).fit(frame, y)  # categorical_features='from_dtype' (default)
    assert est._preprocessor is not None
    with pytest.raises(UnsupportedEstimatorError, match="categorical_features='from_dtype'"):
        hist_gradient_boosting_to_ir(est)


def test_split_on_missing_values_only():
    # sklearn sends NaN right and everything else left with threshold +inf (DecisionTree: `_splitter.pyx`;
    # HGB: `grower.py` num_threshold = np.inf): kept as x <= +inf, NaN to the false child.
    X = np.array([[0.0], [1.0], [2.0], [3.0], [np.nan], [np.nan], [np.nan]])
    y = np.array([0, 0, 0, 0, 1, 1, 1])
    probe = np.array([[0.0], [3.0], [1e30], [-1e30], [FLT_MAX], [np.nan]])
    hgb_probe = np.vstack([probe, [[np.inf], [-np.inf]]])  # HGB accepts infinite inputs; trees reject them
    tree = DecisionTreeClassifier(max_depth=1).fit(X, y)
    assert np.isposinf(tree.tree_.threshold[0])
    converted = decision_tree_to_ir(tree)
    node, head = converted.node, converted.head
    assert np.isposinf(node.threshold[0]) and not node.missing_tracks_true[0]
    _assert_classifier_matches(tree, node, head, probe)
    hgb = HistGradientBoostingClassifier(max_iter=2, min_samples_leaf=1).fit(np.vstack([X] * 5), np.tile(y, 5))
    converted = hist_gradient_boosting_to_ir(hgb)
    hgb_node, head = converted.node, converted.head
    assert np.isposinf(hgb_node.threshold[0])
    _assert_classifier_matches(hgb, hgb_node, head, hgb_probe)


# ----------------------------------------------------------------------------------------------------------------
# Ties, leaves, hit rates, refusals


def test_binary_probability_tie_goes_to_first_class():
    # Duplicate x with one label each: the leaf is [0.5, 0.5]; sklearn's argmax picks classes_[0]
    X = np.array([[0.0], [0.0], [1.0], [1.0]])
    y = np.array(["no", "yes", "yes", "yes"])
    est = DecisionTreeClassifier().fit(X, y)
    converted = decision_tree_to_ir(est)
    node, head = converted.node, converted.head
    labels, proba = labels_and_proba(head, evaluate_tree_ensemble(node, X))
    assert proba[0, 1] == 0.5
    assert labels[0] == est.predict(X[:1])[0] == "no"


def test_forest_leaves_are_averaged_probabilities():
    X, y = _dataset("iris")
    est = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y)
    converted = forest_to_ir(est)
    node, head = converted.node, converted.head
    leaf_sums = node.leaf_value[node.is_leaf].sum(axis=1)
    np.testing.assert_allclose(leaf_sums, 0.25, rtol=1e-15)
    assert head.link == "identity" and node.n_outputs == 3


def test_hit_rate_is_weighted_fraction_of_root():
    X, y = _dataset("breast_cancer")
    weights = np.linspace(0.5, 2.0, len(y))
    est = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y, sample_weight=weights)
    converted = decision_tree_to_ir(est)
    node = converted.node
    expected = est.tree_.weighted_n_node_samples / weights.sum()
    np.testing.assert_allclose(node.hit_rate, expected, rtol=1e-12)
    _check(est, decision_tree_to_ir, X, X)


def test_multi_output_trees_are_refused():
    X, y = _dataset("diabetes")
    Y = np.column_stack([y, -y])
    with pytest.raises(UnsupportedEstimatorError, match="n_outputs_=2"):
        decision_tree_to_ir(DecisionTreeRegressor(max_depth=2).fit(X, Y))
    with pytest.raises(UnsupportedEstimatorError, match="n_outputs_=2"):
        forest_to_ir(RandomForestRegressor(n_estimators=2, max_depth=2).fit(X, Y))


def test_float_class_labels_are_refused():
    X, y = _dataset("iris")
    with pytest.raises(UnsupportedEstimatorError, match="classes_"):
        decision_tree_to_ir(DecisionTreeClassifier(max_depth=2).fit(X, y.astype(float)))


def test_unfitted_estimators_are_refused():
    for est, convert in [(DecisionTreeClassifier(), decision_tree_to_ir), (RandomForestRegressor(), forest_to_ir),
                         (GradientBoostingClassifier(), gradient_boosting_to_ir),
                         (HistGradientBoostingRegressor(), hist_gradient_boosting_to_ir)]:
        with pytest.raises(NotFittedError, match=type(est).__name__):
            convert(est)


def test_known_difference_gradient_boosting_binary_raw_zero():
    # GradientBoostingClassifier.predict uses `raw >= 0` for classes_[1] (`_gb.py`); the IR 'logistic' rule is
    # z > 0 (HGB's and predict_proba-argmax's rule). Only an exact raw score of 0.0 differs: a reference tie.
    X = np.array([[0.0], [0.0], [1.0], [1.0], [1.0]])
    y = np.array([0, 1, 0, 1, 1])
    est = GradientBoostingClassifier(init="zero", n_estimators=1, max_depth=1, learning_rate=1.0).fit(X, y)
    converted = gradient_boosting_to_ir(est)
    node, head = converted.node, converted.head
    labels, proba = labels_and_proba(head, evaluate_tree_ensemble(node, X))
    assert est.decision_function(X[:1])[0] == 0.0
    np.testing.assert_array_equal(proba[:2], est.predict_proba(X[:2]))
    assert est.predict(X[:1])[0] == 1 and labels[0] == 0
    assert np.array_equal(labels[2:], est.predict(X[2:]))
