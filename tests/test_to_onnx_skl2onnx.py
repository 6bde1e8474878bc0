"""Tests for export/to_onnx's skl2onnx route: contract names and shapes, input names, refusals, and ORT output vs
scikit-learn on the contract dtype."""

from __future__ import annotations

import dataclasses
import json
import warnings
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Perceptron
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KBinsDiscretizer, StandardScaler
from sklearn.svm import SVC, SVR, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from export.errors import UnsupportedEstimatorError, UsageError
from export.to_onnx import SKL2ONNX_ROUTE_OPSET, OnnxOptions, to_onnx

# Tolerances for the skl2onnx route (it computes in the contract dtype):
# - float32: skl2onnx's float kernels (LinearClassifier, SVM, MatMul) accumulate in float: probabilities 1e-5
#   absolute (onnx-parity.md §1.5 measured <= 4.7e-7 with scaling); regression 1e-4 relative to max |y|
#   (Scaler+SVR measured 2.8e-5 on y <= 346).
# - float64: double kernels: 1e-10 absolute on probabilities (measured 3e-15 for logistic regression).
FLOAT32_PROBA_ATOL = 1e-5
FLOAT32_REGRESSION_RTOL = 1e-4
DOUBLE_PROBA_ATOL = 1e-10
TIE_GAP_FLOAT32 = 1e-5  # rows whose top two reference probabilities are this close may flip under float32

IRIS_X, IRIS_Y = load_iris(return_X_y=True)
BREAST_X, BREAST_Y = load_breast_cancer(return_X_y=True)
DIABETES_X, DIABETES_Y = load_diabetes(return_X_y=True)


def run(model: onnx.ModelProto, X: np.ndarray, input_name: str = "input") -> dict[str, np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, {input_name: X}), strict=True))


def fit(est: Any, X: np.ndarray, y: np.ndarray) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def roles(model: onnx.ModelProto) -> dict[str, str]:
    props = {p.key: p.value for p in model.metadata_props}
    return dict(json.loads(props["mlexport.output_roles"]))


@pytest.mark.parametrize(("name", "est", "dtype", "atol"), [
    ("logistic", LogisticRegression(max_iter=1000), "float32", FLOAT32_PROBA_ATOL),
    ("logistic", LogisticRegression(max_iter=1000), "float64", DOUBLE_PROBA_ATOL),
    ("svc", make_pipeline(StandardScaler(), SVC(probability=True, random_state=0)), "float32", FLOAT32_PROBA_ATOL),
    ("mlp", make_pipeline(StandardScaler(), MLPClassifier((10,), max_iter=300, random_state=0)), "float32",
     FLOAT32_PROBA_ATOL),
    ("mlp", make_pipeline(StandardScaler(), MLPClassifier((10,), max_iter=300, random_state=0)), "float64",
     DOUBLE_PROBA_ATOL),
])
def test_classifiers_match_sklearn(name: str, est: Any, dtype: str, atol: float) -> None:
    fit(est, IRIS_X, IRIS_Y)
    result = to_onnx(est, None, OnnxOptions(input_dtype=dtype))  # type: ignore[arg-type]
    assert result.route == "skl2onnx"
    assert [o.name for o in result.model.graph.output] == ["classLabel", "classProbability"]
    assert roles(result.model) == {"classLabel": "label", "classProbability": "probabilities"}
    assert result.target_opset[""] <= SKL2ONNX_ROUTE_OPSET[""]
    assert result.target_opset["ai.onnx.ml"] <= SKL2ONNX_ROUTE_OPSET["ai.onnx.ml"]
    assert "ZipMap" not in {n.op_type for n in result.model.graph.node}
    fed = IRIS_X.astype(dtype)
    ref_X = fed.astype(np.float64)
    out = run(result.model, fed)
    ref_proba = est.predict_proba(ref_X)
    assert out["classProbability"].dtype == np.dtype(dtype) and out["classProbability"].shape == (150, 3)
    np.testing.assert_allclose(out["classProbability"], ref_proba, rtol=0, atol=atol)
    top = np.sort(ref_proba, axis=1)
    ties = (top[:, -1] - top[:, -2]) <= TIE_GAP_FLOAT32
    assert not ((out["classLabel"] != est.predict(ref_X)) & ~ties).any()


@pytest.mark.parametrize("est", [LinearSVC(), Perceptron(random_state=0)])
def test_classifier_without_predict_proba_has_only_a_label(est: Any) -> None:
    fit(est, IRIS_X, IRIS_Y)
    model = to_onnx(est, None, OnnxOptions(input_dtype="float32")).model
    assert [o.name for o in model.graph.output] == ["classLabel"]
    out = run(model, IRIS_X.astype(np.float32))
    np.testing.assert_array_equal(out["classLabel"], est.predict(IRIS_X.astype(np.float32).astype(np.float64)))


def test_scaler_svr_float32_matches_and_double_is_refused_with_hint() -> None:
    est = fit(make_pipeline(StandardScaler(), SVR(C=50.0)), DIABETES_X, DIABETES_Y)
    result = to_onnx(est, None, OnnxOptions(input_dtype="float32"))
    out = run(result.model, DIABETES_X.astype(np.float32))
    ref = est.predict(DIABETES_X.astype(np.float32).astype(np.float64))
    assert out["prediction"].shape == (442, 1) and out["prediction"].dtype == np.float32
    np.testing.assert_allclose(out["prediction"][:, 0], ref, rtol=0,
                               atol=FLOAT32_REGRESSION_RTOL * np.abs(ref).max())
    assert roles(result.model) == {"prediction": "prediction"}
    # skl2onnx writes SVMRegressor for double, which onnxruntime does not implement.
    with pytest.raises(UnsupportedEstimatorError, match="float32"):
        to_onnx(est, None, OnnxOptions(input_dtype="float64"))


def _labels_only(model: Any) -> Any:
    """A k-NN IR with the labels-only 'neighbour_votes' head (hand-built; the IR route has no encoding for it), so
    the route falls back to skl2onnx."""
    return dataclasses.replace(model, head=dataclasses.replace(model.head, link="neighbour_votes", has_proba=False))


def test_labels_only_knn_ir_takes_the_skl2onnx_route() -> None:
    from export.frontends import to_ir

    est = fit(KNeighborsClassifier(5), IRIS_X, IRIS_Y)
    result = to_onnx(est, _labels_only(to_ir(est)), OnnxOptions(input_dtype="float64"))
    assert result.route == "skl2onnx"
    props = {p.key: p.value for p in result.model.metadata_props}
    assert json.loads(props["mlexport.class_labels"]) == [0, 1, 2]
    out = run(result.model, IRIS_X)
    np.testing.assert_array_equal(out["classLabel"], est.predict(IRIS_X))


@pytest.mark.parametrize("input_name", ["my input-1", "x.features", "input"])
def test_input_name_is_preserved(input_name: str) -> None:
    est = fit(LogisticRegression(max_iter=1000), IRIS_X, IRIS_Y)
    model = to_onnx(est, None, OnnxOptions(input_dtype="float32", input_name=input_name)).model
    assert [i.name for i in model.graph.input] == [input_name]
    out = run(model, IRIS_X.astype(np.float32), input_name=input_name)
    np.testing.assert_array_equal(out["classLabel"], est.predict(IRIS_X.astype(np.float32).astype(np.float64)))


def test_transformer_output_name() -> None:
    est = StandardScaler().fit(DIABETES_X)
    model = to_onnx(est, None, OnnxOptions(input_dtype="float64")).model
    out = run(model, DIABETES_X)
    np.testing.assert_allclose(out["transformed_features"], est.transform(DIABETES_X), rtol=1e-12, atol=1e-12)
    assert roles(model) == {"transformed_features": "transformed"}


def test_trees_fitted_without_nan_still_route_nan_so_skl2onnx_is_refused() -> None:
    """scikit-learn sets missing_go_to_left on every split (NaN follows the larger child even when training saw no
    NaN), so skl2onnx's NaN-to-false-branch is wrong for every tree: the refusal must not depend on NaN in fit."""
    est = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(IRIS_X, IRIS_Y)
    internal = [t.tree_.children_left >= 0 for t in est.estimators_]
    assert any(np.asarray(t.tree_.missing_go_to_left)[i].any() for t, i in zip(est.estimators_, internal, strict=True))
    with pytest.raises(UnsupportedEstimatorError, match="NaN routing"):
        to_onnx(est, None, OnnxOptions(input_dtype="float32"))


def _nan_forest() -> RandomForestClassifier:
    X = BREAST_X.copy()
    X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
    return RandomForestClassifier(n_estimators=5, random_state=0).fit(X, BREAST_Y)


@pytest.mark.parametrize(("make", "dtype", "match"), [
    (lambda: HistGradientBoostingClassifier(max_iter=5).fit(IRIS_X, IRIS_Y), "float32", "HistGradientBoosting"),
    (lambda: DecisionTreeClassifier(max_depth=3).fit(IRIS_X, IRIS_Y), "float64", "double input"),
    (_nan_forest, "float32", "NaN routing"),
    (lambda: make_pipeline(StandardScaler(), RandomForestRegressor(3, max_depth=3)).fit(DIABETES_X, DIABETES_Y),
     "float32", "exact IR route"),
    (lambda: make_pipeline(KBinsDiscretizer(encode="ordinal"), LogisticRegression()).fit(IRIS_X, IRIS_Y), "float32",
     "KBinsDiscretizer"),
])
def test_known_wrong_skl2onnx_cases_are_refused(make: Any, dtype: str, match: str) -> None:
    est = make()
    with pytest.raises(UnsupportedEstimatorError, match=match):
        to_onnx(est, None, OnnxOptions(input_dtype=dtype))  # type: ignore[arg-type]


def test_feature_count_mismatch_is_refused() -> None:
    from export.frontends import to_ir

    est = fit(KNeighborsClassifier(), IRIS_X, IRIS_Y)
    narrower = _labels_only(to_ir(fit(KNeighborsClassifier(), IRIS_X[:, :3], IRIS_Y)))  # 3 inputs, to skl2onnx
    with pytest.raises(UsageError, match="inputs have 3 values but KNeighborsClassifier was fitted on 4 features"):
        to_onnx(est, narrower, OnnxOptions(input_dtype="float32"))
