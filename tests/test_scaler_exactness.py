"""Scalers are bit-exact where the format allows: IR Scaler (divide / bias) vs scikit-learn's own `transform`, through
the independent IR oracle and through onnxruntime; Core ML's multiply-only scaler within its documented ulp."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from ir_models import array_model
from ir_oracle import evaluate
from sklearn.datasets import load_digits, load_wine
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from sklearn.svm import SVC

from export import ir
from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, to_spec
from export.to_onnx import OnnxOptions, to_onnx
from parity.coreml_reference import predict as coreml_predict


def _wine_with_constants() -> np.ndarray:
    """wine (13 features, magnitudes 0.1..1680) plus a constant column, an all-zero column and a negative constant."""
    X = load_wine(return_X_y=True)[0]
    n = X.shape[0]
    return np.column_stack([X, np.full(n, 3.25), np.zeros(n), np.full(n, -7.0)])


def _digits() -> np.ndarray:
    """digits: integer pixels 0..16 with several columns constant at 0 (zero variance, zero range, zero max)."""
    X = load_digits(return_X_y=True)[0]
    assert np.any(X.std(axis=0) == 0)
    return X


DATA: dict[str, Callable[[], np.ndarray]] = {"wine_constants": _wine_with_constants, "digits": _digits}

SCALERS: dict[str, Callable[[], Any]] = {
    "standard": StandardScaler,
    "standard_no_mean": lambda: StandardScaler(with_mean=False),
    "standard_no_std": lambda: StandardScaler(with_std=False),
    "standard_neither": lambda: StandardScaler(with_mean=False, with_std=False),
    "robust": RobustScaler,
    "robust_no_centering": lambda: RobustScaler(with_centering=False),
    "robust_no_scaling": lambda: RobustScaler(with_scaling=False),
    "robust_unit_variance": lambda: RobustScaler(quantile_range=(10.0, 90.0), unit_variance=True),
    "max_abs": MaxAbsScaler,
    "min_max": MinMaxScaler,
    "min_max_range": lambda: MinMaxScaler(feature_range=(-3.0, 2.0)),
}


def _probe_rows(X: np.ndarray) -> np.ndarray:
    """Training rows, rows outside the training range, signed zeros, a NaN in every column, ±1e30 in one feature,
    and random real values whose low bits differ from the data's (so rounding differences are not masked)."""
    rng = np.random.default_rng(0)
    f = X.shape[1]
    extreme = X[rng.integers(0, X.shape[0], size=2 * f)].copy()
    extreme[np.arange(2 * f), np.tile(np.arange(f), 2)] = np.repeat([1e30, -1e30], f)
    nan_rows = X[:f].copy()
    nan_rows[np.arange(f), np.arange(f)] = np.nan
    noise = X[rng.integers(0, X.shape[0], size=200)] * rng.uniform(0.5, 1.5, size=(200, f)) + rng.normal(size=(200, f))
    return np.vstack([X, X.min(0) - 1.7, X.max(0) + 3.1, np.zeros(f), np.full(f, -0.0), nan_rows, extreme, noise])


def assert_bits_equal(got: np.ndarray, expected: np.ndarray) -> None:
    """Same IEEE bits everywhere (so -0.0 != +0.0), NaN where and only where the reference has NaN."""
    assert got.shape == expected.shape and got.dtype == expected.dtype, (got.shape, got.dtype, expected.dtype)
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(got), nan)
    int_type = np.int64 if expected.dtype == np.float64 else np.int32
    differ = (got.view(int_type) != expected.view(int_type)) & ~nan
    rows, cols = np.nonzero(differ)
    assert not differ.any(), (f"{differ.sum()} values differ in their bits, e.g. row {rows[:3]} col {cols[:3]}: "
                              f"{got[rows[:3], cols[:3]]!r} vs {expected[rows[:3], cols[:3]]!r}")


def _onnx_session(est: Any, node: ir.Model, n_features: int, dtype: str) -> ort.InferenceSession:
    result = to_onnx(est, node, OnnxOptions(input_dtype=dtype))  # type: ignore[arg-type]
    assert result.route == "ir"
    return ort.InferenceSession(result.model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("scaler", sorted(SCALERS))
def test_ir_oracle_and_onnx_equal_sklearn_bit_for_bit(data: str, scaler: str) -> None:
    X = DATA[data]()
    est = SCALERS[scaler]().fit(X)
    model = to_ir(est)
    node = model.output.node
    assert isinstance(node, ir.Scaler)
    rows = _probe_rows(X)
    expected = est.transform(rows)
    oracle = evaluate(model, rows).transformed
    assert oracle is not None
    assert_bits_equal(oracle, expected)
    session = _onnx_session(est, model, X.shape[1], "float64")
    assert_bits_equal(session.run(["transformed_features"], {"input": rows})[0], expected)
    # float32 contract: reference = sklearn on the widened float32 rows; the graph's one rounding is the final Cast.
    fed32 = rows.astype(np.float32)
    session32 = _onnx_session(est, model, X.shape[1], "float32")
    assert_bits_equal(session32.run(["transformed_features"], {"input": fed32})[0],
                      est.transform(fed32.astype(np.float64)).astype(np.float32))


def test_reciprocal_form_is_not_bit_exact() -> None:
    """The check above can fail: the old multiply-by-1/scale_ lowering differs from sklearn on these rows."""
    X = _wine_with_constants()
    est = StandardScaler().fit(X)
    model = to_ir(est)
    node = model.output.node
    assert isinstance(node, ir.Scaler) and node.divide
    reciprocal = dataclasses.replace(node, scale=1.0 / node.scale, divide=False)
    rows = _probe_rows(X)
    session = _onnx_session(est, array_model(reciprocal), X.shape[1], "float64")
    got = session.run(["transformed_features"], {"input": rows})[0]
    with pytest.raises(AssertionError, match="values differ in their bits"):
        assert_bits_equal(got, est.transform(rows))


def test_scaler_lowering_follows_sklearns_operations() -> None:
    """Division by scale_ itself (not a reciprocal) for Standard/Robust/MaxAbs; MinMax multiplies then adds min_."""
    X = _wine_with_constants()
    standard = StandardScaler().fit(X)
    model = to_ir(standard)
    node = model.output.node
    assert isinstance(node, ir.Scaler) and node.divide and node.bias is None
    np.testing.assert_array_equal(node.scale, standard.scale_)
    np.testing.assert_array_equal(node.offset, standard.mean_)
    assert node.scale[-2] == 1.0  # the zero-variance column: sklearn's scale_ = 1
    min_max = MinMaxScaler().fit(X)
    model = to_ir(min_max)
    node = model.output.node
    assert isinstance(node, ir.Scaler) and not node.divide and node.bias is not None
    np.testing.assert_array_equal(node.scale, min_max.scale_)
    np.testing.assert_array_equal(node.bias, min_max.min_)
    assert not np.any(node.offset)


def test_onnx_operators_mirror_sklearns_steps() -> None:
    X = _wine_with_constants()
    cases = {
        "standard": (StandardScaler(), ["Sub", "Div"]),
        "standard_no_mean": (StandardScaler(with_mean=False), ["Div"]),
        "standard_no_std": (StandardScaler(with_std=False), ["Sub"]),
        "max_abs": (MaxAbsScaler(), ["Div"]),
        "min_max": (MinMaxScaler(), ["Mul", "Add"]),
    }
    for name, (est, ops) in cases.items():
        est.fit(X)
        model: onnx.ModelProto = to_onnx(est, to_ir(est), OnnxOptions()).model
        arithmetic = [n.op_type for n in model.graph.node if n.op_type in ("Sub", "Div", "Mul", "Add")]
        assert arithmetic == ops, name


def test_ir_scaler_validation() -> None:
    with pytest.raises(ir.IRError, match="divide=True with a zero in scale"):
        ir.Scaler(offset=np.zeros(2), scale=np.array([1.0, 0.0]), divide=True)
    with pytest.raises(ir.IRError, match="bias and scale lengths differ"):
        ir.Scaler(offset=np.zeros(2), scale=np.ones(2), bias=np.zeros(3))
    ir.Scaler(offset=np.zeros(2), scale=np.array([1.0, 0.0]))  # multiplying by zero stays allowed


@pytest.mark.parametrize("scaler", ["standard", "robust", "max_abs", "min_max_range"])
def test_coreml_scaler_is_within_its_format_limit(scaler: str) -> None:
    """Core ML's scaler is scaleValue * (x + shiftValue) only: division is written as a reciprocal (≤ 1 ulp of the
    quotient) and MinMax's min_ is folded into the shift (the sum x + min_/scale_ rounds at |x| + |min_/scale_|)."""
    X = _wine_with_constants()
    est = SCALERS[scaler]().fit(X)
    model = to_ir(est)
    node = model.output.node
    assert isinstance(node, ir.Scaler)
    spec = to_spec(model, CoreMLInterface())
    multiplier = np.array(spec.scaler.scaleValue)
    if node.divide:
        np.testing.assert_array_equal(multiplier, 1.0 / est.scale_)
    rows = _probe_rows(X)
    rows = rows[np.all(np.abs(rows) < 1e29, axis=1) & ~np.any(np.isnan(rows), axis=1)]
    got = coreml_predict(spec, {"input": rows})["transformed_features"]
    expected = est.transform(rows)
    eps = np.finfo(np.float64).eps
    # bound: a few roundings, each relative to the largest intermediate, |x| + |shift|, times |multiplier|
    bound = 4 * eps * (np.abs(rows) + np.abs(np.array(spec.scaler.shiftValue))) * np.abs(multiplier) + 4 * eps * np.abs(
        expected)
    assert np.all(np.abs(got - expected) <= bound)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_digits_standard_scaler_linear_svc_labels_at_extreme_inputs(dtype: str) -> None:
    """mlexport's parity 'extremes' probe: digits rows with ±1e30 in one feature. The linear SVC's decision values
    are sums of ~1e28 terms that cancel, so their sign hangs on the scaled feature's last bit: with 1/scale_ the ONNX
    graph gave 5/260 labels different from scikit-learn; dividing like sklearn gives none."""
    X, y = load_digits(return_X_y=True)
    est = make_pipeline(StandardScaler(), SVC(kernel="linear")).fit(X, y)
    rng = np.random.default_rng(0)
    f = X.shape[1]
    extremes = (1e30, -1e30, float(np.finfo(np.float32).max), -float(np.finfo(np.float32).max))
    rows = X[rng.integers(0, X.shape[0], size=f * len(extremes))].copy()
    rows[np.arange(rows.shape[0]), np.tile(np.arange(f), len(extremes))] = np.repeat(extremes, f)
    rows = np.vstack([rows, np.repeat(np.array(extremes)[:, None], f, axis=1)])
    fed = rows.astype(dtype)
    expected = est.predict(fed.astype(np.float64))
    model = to_ir(est)
    node = model.output.node
    session = _onnx_session(est, model, f, dtype)
    np.testing.assert_array_equal(session.run(["classLabel"], {"input": fed})[0], expected)
    # the rows do discriminate: the reciprocal lowering (measured 5/260 float64, 10/260 float32) mislabels some
    assert isinstance(node, ir.Pipeline) and isinstance(node.steps[0], ir.Scaler)
    scaler = node.steps[0]
    reciprocal = ir.Pipeline((dataclasses.replace(scaler, scale=1.0 / scaler.scale, divide=False), *node.steps[1:]))
    session = _onnx_session(est, array_model(reciprocal, model.head), f, dtype)
    wrong = session.run(["classLabel"], {"input": fed})[0] != expected
    assert wrong.sum() > 0
