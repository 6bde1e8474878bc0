"""Tests for export/to_onnx's exact IR route: graphs run in onnxruntime and are compared with scikit-learn (on the
contract dtype) or with values computed by hand from the IR's documented semantics."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from ir_models import array_model
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils import get_tags

from export import ir
from export.errors import UnsupportedEstimatorError, UsageError
from export.to_onnx import IR_ROUTE_FAMILIES, OnnxOptions, route, save_onnx, to_onnx

# Tolerances.
# - float64 contract: the graph is double end to end; differences come only from summation order (ORT sums trees,
#   sklearn sums then divides by n_estimators; MatMul blocking) and exp/softmax implementations: 1e-12 relative
#   to the largest reference value (probabilities: scale 1).
# - float32 contract: the same double computation on the (exactly) widened float32 input, then ONE rounding of each
#   output to float32: |err| <= 2**-24 |ref| (+ the double error above).
DOUBLE_RTOL = 1e-12
FLOAT32_RTOL = 2.0**-24 + 1e-12
TIE_GAP = 1e-12  # reference rows whose top two probabilities are closer than this are ties (label not checked)


def run(model: onnx.ModelProto, X: np.ndarray, input_name: str = "input") -> dict[str, np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {input_name: X}), strict=True))


def contract(X: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """(what the app feeds, what scikit-learn is given as the reference)."""
    fed = np.ascontiguousarray(X, dtype=dtype)
    return fed, fed.astype(np.float64)


def assert_close(got: np.ndarray, ref: np.ndarray, dtype: str) -> None:
    assert got.dtype == np.dtype(dtype)
    scale = max(1.0, float(np.nanmax(np.abs(ref))))
    rtol = DOUBLE_RTOL if dtype == "float64" else FLOAT32_RTOL
    np.testing.assert_allclose(got.astype(np.float64), ref, rtol=rtol, atol=DOUBLE_RTOL * scale)


def assert_labels(got: np.ndarray, ref_labels: np.ndarray, ref_proba: np.ndarray | None,
                  classes: np.ndarray | None = None) -> int:
    """Labels equal scikit-learn's, except on rows where the reference's top probabilities tie (within TIE_GAP):
    there the label must be one of the tied classes. Returns the number of tie rows."""
    ties = np.zeros(ref_labels.shape[0], dtype=bool)
    if ref_proba is not None and ref_proba.shape[1] > 1 and classes is not None:
        top = ref_proba.max(axis=1, keepdims=True)
        tied = ref_proba >= top - TIE_GAP
        ties = tied.sum(axis=1) > 1
        got_index = np.searchsorted(classes, got[ties])
        assert np.all(tied[ties][np.arange(got_index.size), got_index]), "tie row labelled with a non-top class"
    mismatch = (got != ref_labels) & ~ties
    assert not mismatch.any(), f"{mismatch.sum()} label mismatches, rows {np.flatnonzero(mismatch)[:10]}"
    return int(ties.sum())


# ----------------------------------------------------------------------------------------------------------------
# An IR TreeEnsemble built in this test from scikit-learn's `tree_` arrays (independent of export.from_sklearn).


def snap(thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn tests float32(x) <= t. With w = the largest float32 <= t and m = the midpoint between w and the
    next float32, float32(x) <= w  <=>  x < m, or x == m when round-half-even sends m down (w's last bit even).
    t = +inf (a "only NaN goes right" split) sends every finite x left: x <= DBL_MAX."""
    t = np.asarray(thresholds, dtype=np.float64)
    infinite = np.isposinf(t)
    t = np.where(infinite, 0.0, t)
    w = t.astype(np.float32)
    w = np.where(w.astype(np.float64) > t, np.nextafter(w, np.float32(-np.inf)), w)
    m = (w.astype(np.float64) + np.nextafter(w, np.float32(np.inf)).astype(np.float64)) / 2
    even = (w.view(np.int32) & 1) == 0
    m = np.where(infinite, np.finfo(np.float64).max, m)
    return m, np.where(even | infinite, ir.BranchMode.LEQ, ir.BranchMode.LT)


def forest_ir(est: Any) -> ir.Model:
    members = list(getattr(est, "estimators_", [est]))
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("tree", "node", "feature", "threshold", "mode", "true",
                                                             "false", "missing", "value")}
    classifier = hasattr(est, "classes_")
    for i, member in enumerate(members):
        tree = member.tree_
        leaf = tree.children_left < 0
        threshold, mode = snap(np.where(leaf, 0.0, tree.threshold))
        value = tree.value[:, :, 0] if not classifier else tree.value[:, 0, :]
        if classifier:
            value = value / value.sum(axis=1, keepdims=True)
        columns["tree"].append(np.full(tree.node_count, i))
        columns["node"].append(np.arange(tree.node_count))
        columns["feature"].append(np.where(leaf, -1, tree.feature))
        columns["threshold"].append(np.where(leaf, 0.0, threshold))
        columns["mode"].append(mode)
        columns["true"].append(tree.children_left)
        columns["false"].append(tree.children_right)
        columns["missing"].append(np.asarray(tree.missing_go_to_left, dtype=bool) & ~leaf)
        columns["value"].append(np.where(leaf[:, None], value / len(members), 0.0))
    c = {k: np.concatenate(v) for k, v in columns.items()}
    task: ir.Head = (ir.Classification(est.classes_, "identity", True) if classifier
                     else ir.Regression(c["value"].shape[1]))
    return array_model(ir.TreeEnsemble(
        n_features=est.n_features_in_, tree_id=c["tree"], node_id=c["node"], feature=c["feature"],
        threshold=c["threshold"], mode=c["mode"], true_child=c["true"], false_child=c["false"],
        missing_tracks_true=c["missing"], leaf_value=c["value"], leaf_target=np.full(c["tree"].size, -1),
        base=np.zeros(c["value"].shape[1]), compares_float32=True), task)


def split_probes(X: np.ndarray, feature: np.ndarray, threshold: np.ndarray, allow_nan: bool, n_nodes: int = 150,
                 seed: int = 0) -> np.ndarray:
    """Real rows, plus for sampled splits a row with the feature at t, float32(t) and float32(t)'s two float32
    neighbours, plus (if the model accepts NaN) rows with one NaN per feature."""
    rng = np.random.default_rng(seed)
    finite = np.isfinite(threshold)  # t = +inf marks a NaN-only split; scikit-learn refuses infinite inputs
    feature, threshold = feature[finite], threshold[finite]
    probes = [X]
    pick = rng.choice(feature.size, size=min(n_nodes, feature.size), replace=False)
    for f, t in zip(feature[pick], threshold[pick], strict=True):
        t32 = np.float32(t)
        for value in (t, float(t32), float(np.nextafter(t32, np.float32(-np.inf))),
                      float(np.nextafter(t32, np.float32(np.inf)))):
            row = X[rng.integers(X.shape[0])].copy()
            row[f] = value
            probes.append(row[None, :])
    if allow_nan:
        nan_rows = X[rng.integers(X.shape[0], size=X.shape[1])].copy()
        nan_rows[np.arange(X.shape[1]), np.arange(X.shape[1])] = np.nan
        probes.append(nan_rows)
    return np.vstack(probes)


def probe_rows(est: Any, X: np.ndarray) -> np.ndarray:
    """split_probes at the splits of a fitted scikit-learn tree model (its own `tree_` thresholds)."""
    members = list(np.ravel(np.asarray(getattr(est, "estimators_", [est]), dtype=object)))
    internal = [m.tree_.children_left >= 0 for m in members]
    feature = np.concatenate([m.tree_.feature[i] for m, i in zip(members, internal, strict=True)])
    threshold = np.concatenate([m.tree_.threshold[i] for m, i in zip(members, internal, strict=True)])
    return split_probes(X, feature, threshold, get_tags(est).input_tags.allow_nan)


def with_nans(X: np.ndarray, fraction: float = 0.1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = X.copy()
    X[rng.random(X.shape) < fraction] = np.nan
    return X


BREAST_X, BREAST_Y = load_breast_cancer(return_X_y=True)
IRIS_X, IRIS_Y = load_iris(return_X_y=True)
DIABETES_X, DIABETES_Y = load_diabetes(return_X_y=True)
# Diabetes plus a random integer category column (index 10) with values 0..3.
SEX_X = np.column_stack([DIABETES_X, np.random.default_rng(0).integers(0, 4, DIABETES_X.shape[0]).astype(float)])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", ["dt_nan", "rf_binary_nan", "rf_iris", "rf_regressor", "dt_multi_output"])
def test_hand_built_tree_ir_matches_sklearn(case: str, dtype: str) -> None:
    if case == "dt_nan":
        X, y = with_nans(BREAST_X), BREAST_Y
        est: Any = DecisionTreeClassifier(random_state=0).fit(X, y)
    elif case == "rf_binary_nan":
        X, y = with_nans(BREAST_X), BREAST_Y
        est = RandomForestClassifier(n_estimators=15, random_state=0).fit(X, y)
    elif case == "rf_iris":  # 3 columns per leaf: each tree is written once per class
        X, y = IRIS_X, IRIS_Y
        est = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    elif case == "rf_regressor":
        X, y = DIABETES_X, DIABETES_Y
        est = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    else:
        X, y = DIABETES_X, np.column_stack([DIABETES_Y, -2.0 * DIABETES_Y + 1.0])
        est = DecisionTreeRegressor(max_depth=6, random_state=0).fit(X, y)
    node = forest_ir(est)
    fed, ref_X = contract(probe_rows(est, X), dtype)
    result = to_onnx(est, node, OnnxOptions(input_dtype=dtype))  # type: ignore[arg-type]
    assert result.route == "ir"
    out = run(result.model, fed)
    if hasattr(est, "classes_"):
        ref_proba = est.predict_proba(ref_X)
        assert_close(out["classProbability"], ref_proba, dtype)
        assert out["classLabel"].dtype == np.int64
        assert assert_labels(out["classLabel"], est.predict(ref_X), ref_proba, est.classes_) <= 0.05 * fed.shape[0]
    else:
        ref = est.predict(ref_X).reshape(fed.shape[0], -1)
        assert out["prediction"].shape == ref.shape
        assert_close(out["prediction"], ref, dtype)


def test_nan_routing_is_learned_not_default() -> None:
    """The NaN probes must exercise both directions, else the test above could pass with NaN always false."""
    est = DecisionTreeClassifier(random_state=0).fit(with_nans(BREAST_X), BREAST_Y)
    internal = est.tree_.children_left >= 0
    went_left = np.asarray(est.tree_.missing_go_to_left, dtype=bool)[internal]
    assert went_left.any() and not went_left.all()


# ----------------------------------------------------------------------------------------------------------------
# Hand-written IR with hand-computed expectations.


def tiny_ensemble(task: ir.Head, leaf_value: np.ndarray, leaf_target: np.ndarray | None = None,
                  base: np.ndarray | None = None) -> ir.Model:
    """Tree 0: root x0 <= 1.0 (NaN -> true) -> [leaf 1 | node 2: x1 < 2.5 (NaN -> false) -> leaf 3 | leaf 4].
    Tree 1: a single leaf (node 0). Leaf rows in `leaf_value` order: node 1, 3, 4 of tree 0, node 0 of tree 1."""
    n_out = leaf_value.shape[1]
    value = np.zeros((6, n_out))
    value[[1, 3, 4, 5]] = leaf_value
    target = np.full(6, -1)
    if leaf_target is not None:
        target[[1, 3, 4, 5]] = leaf_target
    return array_model(ir.TreeEnsemble(
        n_features=2, tree_id=[0, 0, 0, 0, 0, 1], node_id=[0, 1, 2, 3, 4, 0], feature=[0, -1, 1, -1, -1, -1],
        threshold=[1.0, 0, 2.5, 0, 0, 0], mode=[ir.BranchMode.LEQ, 0, ir.BranchMode.LT, 0, 0, 0],
        true_child=[1, -1, 3, -1, -1, -1], false_child=[2, -1, 4, -1, -1, -1],
        missing_tracks_true=[True, False, False, False, False, False], leaf_value=value,
        leaf_target=target,
        base=np.zeros(n_out) if base is None else base, compares_float32=False), task)


# Rows and which tree-0 leaf they reach: x0 <= 1 -> leaf 1; else x1 < 2.5 -> leaf 3, else leaf 4.
TINY_X = np.array([[1.0, 0.0], [np.nextafter(1.0, 2.0), 2.5], [np.nextafter(1.0, 2.0), np.nextafter(2.5, 0.0)],
                   [np.nan, 9.0], [5.0, np.nan], [-3.0, np.nan]])
TINY_LEAF = np.array([0, 2, 1, 0, 2, 0])  # index into (leaf 1, leaf 3, leaf 4)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tiny_regression_two_targets_with_stump(dtype: str) -> None:
    leaf_value = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0], [0.5, -0.25]])  # last row: the stump tree
    node = tiny_ensemble(ir.Regression(2), leaf_value, base=np.array([100.0, 200.0]))
    X = TINY_X if dtype == "float64" else TINY_X.astype(np.float32).astype(np.float64)
    leaf = np.where(X[:, 0] <= 1.0, 0, np.where(X[:, 1] < 2.5, 1, 2))
    leaf[np.isnan(X[:, 0])] = 0
    leaf[~np.isnan(X[:, 0]) & (X[:, 0] > 1.0) & np.isnan(X[:, 1])] = 2
    expected = np.array([100.0, 200.0]) + leaf_value[leaf] + leaf_value[3]
    if dtype == "float64":
        np.testing.assert_array_equal(TINY_LEAF, leaf)
    out = run(to_onnx(None, node, OnnxOptions(input_dtype=dtype)).model, X.astype(dtype))
    assert out["prediction"].shape == (6, 2)
    np.testing.assert_array_equal(out["prediction"], expected.astype(dtype))


def test_tiny_per_target_leaves_gradient_boosting_layout() -> None:
    """leaf_target >= 0: a leaf adds only to its own dimension (one tree per class)."""
    leaf_value = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [0.0, 0.0]])
    node = tiny_ensemble(ir.Regression(2), leaf_value, leaf_target=np.array([0, 1, 0, 0]))
    out = run(to_onnx(None, node, OnnxOptions()).model, TINY_X)
    np.testing.assert_array_equal(out["prediction"], leaf_value[TINY_LEAF])


@pytest.mark.parametrize(("link", "scores", "labels", "proba"), [
    # identity, one column p: label 1 iff p > 0.5 (p == 0.5 -> labels[0]); proba [1-p, p].
    ("identity", [0.5, 0.75, 0.25], [10, 20, 10], [[0.5, 0.5], [0.25, 0.75], [0.75, 0.25]]),
    # logistic, one column z: label 1 iff z > 0 (z == 0 -> labels[0]); proba sigmoid.
    ("logistic", [0.0, 2.0, -2.0], [10, 20, 10], [[0.5, 0.5], [1 / (1 + np.exp(2.0)), 1 / (1 + np.exp(-2.0))],
                                                 [1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(2.0))]]),
    ("none", [0.0, 2.0, -2.0], [10, 20, 10], None),
])
def test_binary_links_and_tie_rule(link: str, scores: list[float], labels: list[int],
                                   proba: list[list[float]] | None) -> None:
    # Tree-0 leaves carry the scores; rows 0, 2, 1 of TINY_X reach leaves 1, 4, 3.
    leaf_value = np.array([[scores[0]], [scores[1]], [scores[2]], [0.0]])
    task = ir.Classification(np.array([10, 20]), link, proba is not None)  # type: ignore[arg-type]
    out = run(to_onnx(None, tiny_ensemble(task, leaf_value), OnnxOptions()).model, TINY_X[[0, 2, 1]])
    np.testing.assert_array_equal(out["classLabel"], labels)
    if proba is None:
        assert "classProbability" not in out
    else:
        np.testing.assert_allclose(out["classProbability"], proba, rtol=1e-15, atol=1e-16)


def test_multiclass_first_maximum_wins_and_string_labels() -> None:
    leaf_value = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, 1.0, 5.0], [0.0, 0.0, 0.0]])
    task = ir.Classification(np.array(["ant", "bee", "cat"]), "softmax", True)
    out = run(to_onnx(None, tiny_ensemble(task, leaf_value), OnnxOptions()).model, TINY_X[[0, 1, 2]])
    np.testing.assert_array_equal(out["classLabel"], np.array(["bee", "cat", "ant"], dtype=object))
    expected = np.exp(leaf_value[[0, 2, 1]])
    np.testing.assert_allclose(out["classProbability"], expected / expected.sum(axis=1, keepdims=True), rtol=1e-15)


# ----------------------------------------------------------------------------------------------------------------
# Through the real front-end (export.frontends.to_ir).


def _fit_cases() -> list[tuple[str, Any, np.ndarray, np.ndarray]]:
    nan_breast = with_nans(BREAST_X, 0.05, seed=1)
    return [
        ("gb_binary", GradientBoostingClassifier(n_estimators=25, random_state=0), BREAST_X, BREAST_Y),
        ("gb_iris", GradientBoostingClassifier(n_estimators=15, random_state=0), IRIS_X, IRIS_Y),
        ("gb_regressor", GradientBoostingRegressor(n_estimators=25, random_state=0), DIABETES_X, DIABETES_Y),
        ("hgb_binary_nan", HistGradientBoostingClassifier(max_iter=25, random_state=0), nan_breast, BREAST_Y),
        ("hgb_iris", HistGradientBoostingClassifier(max_iter=10, random_state=0), IRIS_X, IRIS_Y),
        ("hgb_regressor", HistGradientBoostingRegressor(max_iter=25, random_state=0), DIABETES_X, DIABETES_Y),
        ("et_regressor", ExtraTreesRegressor(n_estimators=8, random_state=0), DIABETES_X, DIABETES_Y),
        ("rf_iris", RandomForestClassifier(n_estimators=12, random_state=0), IRIS_X, IRIS_Y),
        ("scaler_rf", make_pipeline(StandardScaler(), RandomForestRegressor(8, random_state=0)), DIABETES_X,
         DIABETES_Y),
        ("logistic_iris", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), IRIS_X, IRIS_Y),
        ("logistic_binary", LogisticRegression(max_iter=100), BREAST_X, BREAST_Y),
        ("ridge", Ridge(alpha=0.5), DIABETES_X, DIABETES_Y),
        ("mlp_binary", make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=300, random_state=0)),
         BREAST_X, BREAST_Y),
        ("mlp_regressor", make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(8,), activation="tanh",
                                                                        max_iter=200, random_state=0)),
         DIABETES_X, DIABETES_Y),
        ("scaler_only", StandardScaler(), DIABETES_X, DIABETES_Y),
        ("normalizer_pca_logistic", make_pipeline(Normalizer("l1"), PCA(3), LogisticRegression(max_iter=300)),
         IRIS_X, IRIS_Y),
        ("l2_normalizer", Normalizer(), np.vstack([DIABETES_X, np.zeros((1, 10))]), np.zeros(443)),
        ("imputer_rf", make_pipeline(SimpleImputer(strategy="median"), RandomForestClassifier(8, random_state=0)),
         nan_breast, BREAST_Y),
        ("columns_onehot_logistic", make_pipeline(
            ColumnTransformer([("num", StandardScaler(), [0, 1, 2]), ("cat", OneHotEncoder(handle_unknown="ignore"),
                                                                    [10]), ("keep", "passthrough", [4])]),
            LogisticRegression(max_iter=200)), SEX_X, DIABETES_Y > 140),
    ]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", [c[0] for c in _fit_cases()])
def test_front_end_ir_matches_sklearn(case: str, dtype: str) -> None:
    from export.frontends import to_ir

    _, est, X, y = next(c for c in _fit_cases() if c[0] == case)
    est.fit(X, y)
    node = to_ir(est)
    assert route(node) == "ir"
    rows = X
    if isinstance(node, ir.TreeEnsemble):  # probe the IR's own split points (raw input space, no transform)
        branch = ~node.is_leaf
        rows = split_probes(X, node.feature[branch], node.threshold[branch], get_tags(est).input_tags.allow_nan)
    if case == "columns_onehot_logistic":  # unseen categories: handle_unknown='ignore' gives all-zero indicators
        unseen = X[:20].copy()
        unseen[:, 10] = np.linspace(-3.0, 9.5, 20)
        rows = np.vstack([X, unseen])
    fed, ref_X = contract(rows, dtype)
    result = to_onnx(est, node, OnnxOptions(input_dtype=dtype))  # type: ignore[arg-type]
    out = run(result.model, fed)
    if hasattr(est, "predict_proba"):
        ref_proba = est.predict_proba(ref_X)
        assert_close(out["classProbability"], ref_proba, dtype)
        assert assert_labels(out["classLabel"], est.predict(ref_X), ref_proba, est.classes_) <= 0.05 * fed.shape[0]
    elif hasattr(est, "predict"):
        ref = est.predict(ref_X).reshape(fed.shape[0], -1)
        assert_close(out["prediction"], ref, dtype)
    else:
        assert_close(out["transformed_features"], est.transform(ref_X), dtype)


# ----------------------------------------------------------------------------------------------------------------
# Interface: names, metadata, determinism, routing.


def test_metadata_roles_names_and_versions() -> None:
    est = RandomForestClassifier(n_estimators=3, random_state=0).fit(IRIS_X, IRIS_Y + 5)
    options = OnnxOptions(input_dtype="float32", input_name="my input-1",
                          metadata={"owner": "team", "mlexport.note": "x"})
    block = forest_ir(est)
    named = ir.Model.single(block.output.node, block.head, ir.Schema.doubles(("a", "b", "c", "d")))
    model = to_onnx(est, named, options).model
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["mlexport.output_roles"]) == {"classLabel": "label", "classProbability": "probabilities"}
    assert json.loads(props["mlexport.class_labels"]) == [5, 6, 7]
    assert json.loads(props["mlexport.feature_names"]) == ["a", "b", "c", "d"]
    assert props["mlexport.input_dtype"] == "float32"
    assert props["owner"] == "team" and props["mlexport.note"] == "x"
    assert json.loads(props["mlexport.versions"])["onnx"] == onnx.__version__
    assert [p.key for p in model.metadata_props] == sorted(props)
    assert model.producer_name == "mlexport" and "my input-1" in model.doc_string
    assert [i.name for i in model.graph.input] == ["my input-1"]
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    out = run(model, IRIS_X.astype(np.float32), input_name="my input-1")
    np.testing.assert_array_equal(out["classLabel"], est.predict(IRIS_X.astype(np.float32).astype(np.float64)))


def test_export_twice_gives_identical_bytes(tmp_path: Any) -> None:
    est = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(IRIS_X, IRIS_Y)
    from export.frontends import to_ir

    paths = []
    for i in range(2):
        options = OnnxOptions(metadata={"b": "2", "a": "1"} if i else {"a": "1", "b": "2"})
        paths.append(save_onnx(to_onnx(est, to_ir(est), options).model, tmp_path / f"m{i}.onnx"))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write left no temporary file


def test_route_table_is_data_driven() -> None:
    knn = ir.NearestNeighbors(samples=np.eye(2), sample_class=np.array([0, 1]), k=1, n_classes=2)
    scaler = ir.Scaler(offset=np.zeros(2), scale=np.ones(2))
    assert ir.TreeEnsemble in IR_ROUTE_FAMILIES and ir.NearestNeighbors in IR_ROUTE_FAMILIES
    # the labels-only k-NN link has no IR-route encoding: such a model goes to skl2onnx
    model = array_model(ir.Pipeline((scaler, knn)), ir.Classification(np.array([0, 1]), "neighbour_votes", False))
    assert route(model) == "skl2onnx"
    assert route(None) == "skl2onnx"
    with pytest.raises(UsageError, match="needs the fitted estimator"):
        to_onnx(None, model, OnnxOptions())


def test_wrong_feature_count_and_bad_options_are_refused() -> None:
    node = tiny_ensemble(ir.Regression(1), np.ones((4, 1))).output.node
    with pytest.raises(ir.IRError, match="TreeEnsemble reads 2 values, its inputs have 3"):
        array_model(node, ir.Regression(1), n_features=3)
    with pytest.raises(UsageError, match="input_dtype"):
        OnnxOptions(input_dtype="float16")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="distinct"):
        OnnxOptions(input_name="prediction")


def test_unsupported_link_on_ir_route_is_refused() -> None:
    from export.to_onnx.ir_route import build_ir_model

    task = ir.Classification(np.array([0, 1]), "neighbour_votes", False)
    with pytest.raises(UnsupportedEstimatorError, match="link 'neighbour_votes'"):
        build_ir_model(tiny_ensemble(task, np.ones((4, 2))), OnnxOptions())
    # ovo_votes is written, but only for the SVM emitter's pairwise decision values
    task = ir.Classification(np.array([0, 1]), "ovo_votes", False)
    with pytest.raises(UnsupportedEstimatorError, match="link 'ovo_votes' on a TreeEnsemble"):
        build_ir_model(tiny_ensemble(task, np.ones((4, 1))), OnnxOptions())


def test_infinite_thresholds_compare_like_ieee() -> None:
    """scikit-learn's split-on-missing has t = +inf: every number (+inf included) goes left, NaN follows
    missing_tracks_true. LT against +inf sends +inf right."""
    node = ir.TreeEnsemble(
        n_features=1, tree_id=[0, 0, 0, 1, 1, 1], node_id=[0, 1, 2, 0, 1, 2], feature=[0, -1, -1, 0, -1, -1],
        threshold=[np.inf, 0, 0, np.inf, 0, 0], mode=[ir.BranchMode.LEQ, 0, 0, ir.BranchMode.LT, 0, 0],
        true_child=[1, -1, -1, 1, -1, -1], false_child=[2, -1, -1, 2, -1, -1],
        missing_tracks_true=[False] * 6, leaf_value=[[0], [1], [2], [0], [10], [20]], leaf_target=[-1] * 6,
        base=[0.0], compares_float32=False)
    X = np.array([[-np.inf], [0.0], [1e308], [np.inf], [np.nan]])
    out = run(to_onnx(None, array_model(node, ir.Regression()), OnnxOptions()).model, X)
    np.testing.assert_array_equal(out["prediction"][:, 0], [11, 11, 11, 21, 22])


def test_leaf_index_encoding_three_outputs_hand_computed() -> None:
    """n_outputs >= 3 with whole-row leaves: one TreeEnsemble naming the reached leaves, then Gather + ReduceSum.
    Mixes a whole-row leaf tree, a stump and (tree 2) per-target leaves; expected values summed by hand."""
    node = ir.TreeEnsemble(
        n_features=2,
        tree_id=[0, 0, 0, 0, 0, 1, 2, 2, 2],
        node_id=[0, 1, 2, 3, 4, 0, 0, 1, 2],
        feature=[0, -1, 1, -1, -1, -1, 1, -1, -1],
        threshold=[1.0, 0, 2.5, 0, 0, 0, 0.0, 0, 0],
        mode=[ir.BranchMode.LEQ, 0, ir.BranchMode.LT, 0, 0, 0, ir.BranchMode.LEQ, 0, 0],
        true_child=[1, -1, 3, -1, -1, -1, 1, -1, -1], false_child=[2, -1, 4, -1, -1, -1, 2, -1, -1],
        missing_tracks_true=[True, False, False, False, False, False, True, False, False],
        leaf_value=[[0, 0, 0], [1, 2, 3], [0, 0, 0], [10, 20, 30], [100, 200, 300], [0.5, 0.25, 0.125],
                    [0, 0, 0], [7, 8, 9], [70, 80, 90]],
        leaf_target=[-1, -1, -1, -1, -1, -1, -1, 2, 0],  # tree 2: left leaf adds 9 to dim 2, right adds 70 to dim 0
        base=[1000.0, 2000.0, 3000.0], compares_float32=False)
    X = np.array([[0.0, -1.0], [2.0, 1.0], [2.0, 3.0], [np.nan, np.nan], [5.0, np.nan]])
    tree0 = np.array([[1, 2, 3], [10, 20, 30], [100, 200, 300], [1, 2, 3], [100, 200, 300]], dtype=float)
    tree2 = np.array([[0, 0, 9], [70, 0, 0], [70, 0, 0], [0, 0, 9], [0, 0, 9]], dtype=float)
    expected = np.array([1000.0, 2000.0, 3000.0]) + tree0 + np.array([0.5, 0.25, 0.125]) + tree2
    model = to_onnx(None, array_model(node, ir.Regression(3)), OnnxOptions()).model
    assert {"Gather", "ReduceSum"} <= {n.op_type for n in model.graph.node}
    np.testing.assert_array_equal(run(model, X)["prediction"], expected)


def test_two_output_forest_keeps_direct_encoding() -> None:
    est = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(BREAST_X, BREAST_Y)
    node = forest_ir(est)  # two whole-row columns
    ops = {n.op_type for n in to_onnx(est, node, OnnxOptions()).model.graph.node}
    assert "ReduceSum" not in ops and "TreeEnsemble" in ops


@pytest.mark.parametrize(("rule", "expected"), [("uniform", 1.0 / 3.0), ("zeros", 0.0)])
def test_ovr_rows_whose_sigmoids_all_underflow_follow_scikit_learn(rule: str, expected: float) -> None:
    """sigmoid(-1000) is 0.0 in double: scikit-learn's _predict_proba_lr gives 1/K there, OneVsRestClassifier keeps
    the zeros; 0/0 = NaN would be neither. Ordinary rows are still normalised."""
    node = ir.LinearModel(coef=np.array([[1.0], [2.0], [3.0]]), intercept=np.zeros(3))
    head = ir.Classification(np.array([0, 1, 2]), "ovr_logistic", True, all_zero=rule)  # type: ignore[arg-type]
    out = run(to_onnx(None, array_model(node, head), OnnxOptions()).model, np.array([[-1000.0], [0.0]]))
    np.testing.assert_array_equal(out["classProbability"][0], [expected] * 3)
    np.testing.assert_allclose(out["classProbability"][1], [1 / 3] * 3, rtol=1e-15)
