"""Tests for export/to_onnx/svm.py: libsvm models (SVC, NuSVC, SVR, NuSVR) on the exact IR route, run in onnxruntime
and compared with scikit-learn's own predict / decision_function / predict_proba under both dtype contracts."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_linnerud, load_wine
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR, NuSVC, NuSVR

from export.frontends import to_ir
from export.to_onnx import OnnxOptions, route, save_onnx, to_onnx, to_ort

# Tolerances.
# - float64 contract: the graph is libsvm's arithmetic in double. Linear and poly kernels round exactly like libsvm
#   except in the MatMul dot products (blocked vs BLAS ddot order); the decision sums are added in libsvm's order
#   (CumSum). rbf uses |x-c|^2+|sv-c|^2-2(x-c).(sv-c) instead of summing (x-sv)^2 (measured <= 7.4e-14 relative),
#   exp/tanh come from another libm and the coupling's sums are reordered. All that is ~1e-14 of the row's scale;
#   1e-10 leaves four orders of margin while still catching any real semantic slip (a wrong coefficient, sign, pair
#   or coupling step moves values by >= 1e-4).
# - float32 contract: the same double graph on the exactly widened input, then ONE rounding of each output.
DOUBLE_RTOL = 1e-10
FLOAT32_RTOL = 2.0**-24
F32_MAX = float(np.finfo(np.float32).max)
EXTREME_VALUES = (1e30, -1e30, F32_MAX, -F32_MAX)


def _scaled(loader: Any) -> tuple[np.ndarray, np.ndarray]:
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _wine_strings() -> tuple[np.ndarray, np.ndarray]:
    X, y = _scaled(load_wine)
    return X, np.array(["barolo", "grignolino", "barbera"])[y]


CLASSIFICATION = {
    "iris": lambda: _scaled(load_iris),  # 3 classes
    "breast_cancer": lambda: _scaled(load_breast_cancer),  # binary
    "wine_str": _wine_strings,  # 3 classes, string labels
}
REGRESSION = {
    "diabetes": lambda: load_diabetes(return_X_y=True),
    "linnerud": lambda: (lambda X, y: (StandardScaler().fit_transform(X), y[:, 0]))(*load_linnerud(return_X_y=True)),
}
KERNELS: dict[str, dict[str, Any]] = {
    "linear": {"kernel": "linear"},
    "rbf": {"kernel": "rbf"},
    "poly": {"kernel": "poly", "degree": 3, "coef0": 1.0},
    "sigmoid": {"kernel": "sigmoid", "gamma": 0.01, "coef0": 0.5},
}


def fit(est: Any, X: np.ndarray, y: np.ndarray) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # probability=True is deprecated in 1.9 (FutureWarning); convergence
        return est.fit(X, y)


def export(est: Any, n_features: int, dtype: str) -> onnx.ModelProto:
    result = to_onnx(est, to_ir(est), OnnxOptions(input_dtype=dtype))  # type: ignore[arg-type]
    assert result.route == "ir"
    return result.model


def decision_tensor(model: onnx.ModelProto) -> str:
    """The graph's pairwise decision values (named by svm.py; exposed here as an extra output for testing)."""
    names = [o for n in model.graph.node for o in n.output if re.fullmatch(r"ovo_decision_\d+", o)]
    assert len(names) == 1, names
    return names[0]


def run(model: onnx.ModelProto, X: np.ndarray, extra: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in extra:
        probe.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.DOUBLE, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input": X}), strict=True))


def ovo_decision(est: Any, X: np.ndarray) -> np.ndarray:
    """scikit-learn's libsvm decision values in libsvm's sign convention (binary decision_function is negated)."""
    est.decision_function_shape = "ovo"  # a predict-time switch: raw one-vs-one values, pair order (0,1),(0,2)..
    values = est.decision_function(X)
    return -values[:, None] if values.ndim == 1 else values


def assert_row_close(got: np.ndarray, ref: np.ndarray, rtol: float) -> None:
    """|got - ref| <= rtol * max(1, largest |ref| in the row), elementwise: a per-row scale, because a decision
    value near 0 is a difference of terms of the row's own magnitude."""
    got64 = got.astype(np.float64).reshape(ref.shape[0], -1)
    ref2 = ref.reshape(ref.shape[0], -1)
    scale = np.maximum(1.0, np.abs(ref2).max(axis=1, keepdims=True))
    err = np.abs(got64 - ref2)
    worst = float((err / scale).max())
    assert worst <= rtol, f"max row-relative error {worst:.3g} > {rtol:g}"


def contract_rtol(dtype: str) -> float:
    return DOUBLE_RTOL if dtype == "float64" else FLOAT32_RTOL + DOUBLE_RTOL


def check_classifier(est: Any, X: np.ndarray, dtype: str) -> None:
    model = export(est, X.shape[1], dtype)
    fed = np.ascontiguousarray(X, dtype=dtype)
    ref_X = fed.astype(np.float64)
    has_proba = bool(getattr(est, "probability", False))
    out = run(model, fed, (decision_tensor(model),))
    assert [o.name for o in model.graph.output] == (["classLabel", "classProbability"] if has_proba
                                                    else ["classLabel"])
    # Labels: exactly scikit-learn's vote, ties included (both take the lowest class index).
    np.testing.assert_array_equal(out["classLabel"], est.predict(ref_X))
    assert_row_close(out[decision_tensor(model)], ovo_decision(est, ref_X), DOUBLE_RTOL)
    if has_proba:
        proba = out["classProbability"]
        assert proba.dtype == np.dtype(dtype) and proba.shape == (X.shape[0], len(est.classes_))
        assert_row_close(proba, est.predict_proba(ref_X), contract_rtol(dtype))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("dataset", list(CLASSIFICATION))
@pytest.mark.parametrize("cls", [SVC, NuSVC])
def test_classifiers_match_sklearn(cls: type, dataset: str, kernel: str, dtype: str) -> None:
    X, y = CLASSIFICATION[dataset]()
    nu = {"nu": 0.3} if cls is NuSVC else {}
    for probability in (False, True):
        est = fit(cls(**KERNELS[kernel], **nu, probability=probability, random_state=0), X, y)
        check_classifier(est, X, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("dataset", list(REGRESSION))
@pytest.mark.parametrize("cls", [SVR, NuSVR])
def test_regressors_match_sklearn(cls: type, dataset: str, kernel: str, dtype: str) -> None:
    X, y = REGRESSION[dataset]()
    est = fit(cls(**KERNELS[kernel], C=10.0), X, y)
    model = export(est, X.shape[1], dtype)
    assert [o.name for o in model.graph.output] == ["prediction"]
    fed = np.ascontiguousarray(X, dtype=dtype)
    out = run(model, fed)
    assert out["prediction"].shape == (X.shape[0], 1) and out["prediction"].dtype == np.dtype(dtype)
    ref = est.predict(fed.astype(np.float64))
    # a prediction's scale is the target's, not max(1, |y|) per row: y spans 25..346 on diabetes
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(out["prediction"][:, 0], ref, rtol=contract_rtol(dtype), atol=DOUBLE_RTOL * scale)


def extreme_rows(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Real rows with one feature set to ±1e30 or ±largest float32 (every feature, every value), plus whole rows."""
    n, f = X.shape
    rows = np.repeat(X[rng.integers(0, n, size=f * len(EXTREME_VALUES))], 1, axis=0)
    rows[np.arange(rows.shape[0]), np.tile(np.arange(f), len(EXTREME_VALUES))] = np.repeat(EXTREME_VALUES, f)
    return np.vstack([rows, np.repeat(np.array(EXTREME_VALUES)[:, None], f, axis=1)])


@pytest.mark.parametrize("scaler", [False, True], ids=["raw", "standard_scaler"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_extreme_inputs_give_sklearns_labels(kernel: str, dtype: str, scaler: bool) -> None:
    """float32 skl2onnx overflowed (poly at 1e30) and mislabelled; in double with libsvm's summation order the labels
    are scikit-learn's on every row where its outputs are finite, even where huge terms cancel."""
    rng = np.random.default_rng(0)
    for loader in (load_iris, load_wine):
        X, y = loader(return_X_y=True)
        svc = SVC(**KERNELS[kernel], probability=True, random_state=0)  # type: ignore[arg-type]
        base = X if scaler else StandardScaler().fit_transform(X)
        est = fit(make_pipeline(StandardScaler(), svc), X, y) if scaler else fit(svc, base, y)
        rows = extreme_rows(base, rng)
        model = export(est, X.shape[1], dtype)
        fed = rows.astype(dtype)
        ref_X = fed.astype(np.float64)
        out = run(model, fed)
        ref_proba = est.predict_proba(ref_X)
        finite = np.all(np.isfinite(ref_proba), axis=1)
        assert finite.sum() >= rows.shape[0] // 2
        np.testing.assert_array_equal(out["classLabel"][finite], est.predict(ref_X)[finite])
        assert_row_close(out["classProbability"][finite], ref_proba[finite], contract_rtol(dtype))


@pytest.mark.parametrize("kernel", ["linear", "poly"])
def test_cancelling_sums_at_extreme_inputs_follow_libsvms_order(kernel: str) -> None:
    """digits has features constant over the support vectors: with 1e30 there, the decision value is a sum of ~1e28
    terms that cancel exactly in real arithmetic, so its sign (the label) is rounding noise. Only libsvm's own
    summation order reproduces it (a MatMul gave 34/256 wrong labels here); the graph sums in that order."""
    X, y = _scaled(load_digits)
    est = fit(SVC(**KERNELS[kernel]), X, y)
    rows = extreme_rows(X, np.random.default_rng(0))
    for dtype in ("float64", "float32"):
        fed = rows.astype(dtype)
        out = run(export(est, X.shape[1], dtype), fed)
        np.testing.assert_array_equal(out["classLabel"], est.predict(fed.astype(np.float64)))


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_regressor_extreme_inputs(kernel: str) -> None:
    X, y = load_diabetes(return_X_y=True)
    est = fit(make_pipeline(StandardScaler(), SVR(**KERNELS[kernel], C=10.0)), X, y)  # type: ignore[arg-type]
    rows = extreme_rows(X, np.random.default_rng(1))
    for dtype in ("float64", "float32"):
        fed = rows.astype(dtype)
        ref = est.predict(fed.astype(np.float64))
        got = run(export(est, X.shape[1], dtype), fed)["prediction"][:, 0]
        # A prediction beyond the contract dtype's range (poly at 1e30: ~1e119) is that dtype's infinity of the
        # same sign: exactly what rounding scikit-learn's double to float32 gives.
        with np.errstate(over="ignore"):
            rounded = ref.astype(dtype)
        representable = np.isfinite(rounded)
        np.testing.assert_array_equal(got[~representable], rounded[~representable])
        assert np.isfinite(ref).all() and (representable.all() or dtype == "float32")
        if representable.any():
            assert_row_close(got[representable], ref[representable], contract_rtol(dtype))


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_ties_go_to_the_lowest_class_like_libsvm(kernel: str) -> None:
    """Where the three pairwise decisions of a 3-class SVC cycle (votes 1-1-1), libsvm takes the lowest class index;
    the graph must too (ArgMax, first maximum). Iris on two features has such regions (found by dense sampling)."""
    X, y = _scaled(load_iris)
    est = fit(SVC(kernel=kernel), X[:, :2], y)
    probes = np.random.default_rng(0).uniform(-4.0, 4.0, size=(20000, 2))
    decision = ovo_decision(est, probes)
    votes = np.zeros((probes.shape[0], 3), dtype=int)
    for p, (i, j) in enumerate(((0, 1), (0, 2), (1, 2))):
        votes[:, i] += decision[:, p] > 0
        votes[:, j] += decision[:, p] <= 0
    tied = votes.max(axis=1) == 1
    assert tied.sum() >= 10, "the probes must contain real three-way vote ties"
    assert set(est.predict(probes[tied]).tolist()) == {0}  # libsvm's rule, seen from scikit-learn itself
    for dtype in ("float64", "float32"):
        fed = probes.astype(dtype)
        out = run(export(est, 2, dtype), fed)
        np.testing.assert_array_equal(out["classLabel"], est.predict(fed.astype(np.float64)))


def test_cumsum_is_libsvms_sequential_sum() -> None:
    """The decision sums rely on onnxruntime's CumSum adding one term after another (libsvm's `sum += ...`); numpy's
    pairwise sum of the same terms differs, which is what makes this check able to fail."""
    terms = np.random.default_rng(0).standard_normal((4, 3000)) * 1e28
    node = helper.make_node("CumSum", ["x", "axis"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.DOUBLE, None)],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.DOUBLE, None)],
                              initializer=[numpy_helper.from_array(np.array(1, dtype=np.int64), "axis")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": terms})[0][:, -1]
    sequential = np.zeros(4)
    for column in terms.T:
        sequential = sequential + column
    np.testing.assert_array_equal(got, sequential)
    assert not np.array_equal(terms.sum(axis=1), sequential)


def test_svms_take_the_ir_route_with_standard_operators() -> None:
    X, y = _scaled(load_iris)
    est = fit(make_pipeline(StandardScaler(), SVC(probability=True, random_state=0)), X, y)
    node = to_ir(est)
    assert route(node) == "ir"
    model = export(est, 4, "float64")
    domains = {n.domain for n in model.graph.node}
    assert domains <= {""}, "no ai.onnx.ml SVM operator (float32 attributes)"
    assert "Loop" in {n.op_type for n in model.graph.node}


def test_ort_conversion_runs_the_same(tmp_path: Path) -> None:
    X, y = _scaled(load_wine)
    for est in (fit(SVC(kernel="poly", probability=True, random_state=0), X, y),
                fit(SVR(), X, y.astype(float))):
        model = export(est, X.shape[1], "float32")
        onnx_path = save_onnx(model, tmp_path / f"{type(est).__name__}.onnx")
        ort_path, config_path = to_ort(onnx_path, tmp_path / type(est).__name__)
        config = config_path.read_text()
        assert "ai.onnx;21;" in config
        fed = X.astype(np.float32)
        from_onnx = run(model, fed)
        session = ort.InferenceSession(str(ort_path), providers=["CPUExecutionProvider"])
        from_ort = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input": fed}), strict=True))
        for name, value in from_onnx.items():
            np.testing.assert_array_equal(from_ort[name], value)


def test_break_ties_label_is_scikit_learns_on_rows_where_the_vote_ties(tmp_path) -> None:
    """SVC(break_ties=True): on rows where libsvm's three pairwise votes cycle (1-1-1), scikit-learn's label is the
    argmax of its OvR-transformed decision function; the exported label must be that one, not the vote's."""
    from supported_cases import credit_band

    from export.frontends import to_ir
    from export.to_onnx import OnnxOptions, to_onnx

    X, y = credit_band()
    estimator = SVC(break_ties=True).fit(X, y)
    rows = np.random.default_rng(0).normal(scale=2.0, size=(4000, X.shape[1]))
    voted = SVC(break_ties=False).fit(X, y).predict(rows)
    expected = estimator.predict(rows)
    assert np.count_nonzero(voted != expected) >= 5  # the rule matters on these rows
    session = ort.InferenceSession(to_onnx(estimator, to_ir(estimator), OnnxOptions()).model.SerializeToString())
    label = session.run(["classLabel"], {"input": rows})[0]
    np.testing.assert_array_equal(label, expected)
