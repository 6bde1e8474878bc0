"""Issue-14 preprocessing (Binarizer, KBinsDiscretizer, MissingIndicator / add_indicator, MinMaxScaler(clip),
FastICA): the IR against scikit-learn's own transform (through the independent oracle), at every critical point and
its float64 neighbours; both writers through parity, which must catch a comparison moved by one ulp."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from ir_oracle import evaluate
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import FastICA
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    MinMaxScaler,
    PolynomialFeatures,
    QuantileTransformer,
    StandardScaler,
)
from supported_cases import credit_raw, credit_raw_with_missing

import parity
from export import ir
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, save_spec, to_spec
from export.to_onnx import OnnxOptions, save_onnx, to_onnx
from parity.probes import critical_points

_QUANTILE = {"strategy": "quantile", "quantile_method": "averaged_inverted_cdf"}


def _at_points(est, X: np.ndarray) -> np.ndarray:
    """Real rows with one feature set to each critical point and its float64 neighbours."""
    features, values = critical_points(est, X.shape[1])
    assert len(values)
    points = np.concatenate([values, np.nextafter(values, -np.inf), np.nextafter(values, np.inf)])
    rows = X[np.arange(len(points)) % len(X)].copy()
    rows[np.arange(len(points)), np.tile(features, 3)] = points
    return rows


@pytest.mark.parametrize("make", [
    lambda: Binarizer(threshold=3.0), lambda: Binarizer(threshold=-0.5),
    lambda: KBinsDiscretizer(n_bins=6, encode="ordinal", **_QUANTILE),
    lambda: KBinsDiscretizer(n_bins=5, encode="ordinal", strategy="uniform"),
    lambda: KBinsDiscretizer(n_bins=4, encode="ordinal", strategy="kmeans"),
    lambda: KBinsDiscretizer(n_bins=4, encode="onehot", **_QUANTILE),
    lambda: KBinsDiscretizer(n_bins=3, encode="onehot-dense", strategy="uniform"),
], ids=["binarizer", "binarizer-negative", "kbins-quantile", "kbins-uniform", "kbins-kmeans", "kbins-onehot",
        "kbins-onehot-dense"])
def test_bins_equal_scikit_learn_at_every_edge(make) -> None:
    X = credit_raw()[0]
    est = make().fit(X)
    rows = np.vstack([X, _at_points(est, X)])
    expected = est.transform(rows)
    expected = expected.toarray() if hasattr(expected, "toarray") else expected
    np.testing.assert_array_equal(evaluate(to_ir(est), rows).transformed, expected)


def test_binarizer_edge_is_the_next_double_above_the_threshold() -> None:
    est = Binarizer(threshold=0.1).fit(np.zeros((2, 2)))
    node = to_ir(est).output.node
    assert isinstance(node, ir.Bins)
    assert [e.tolist() for e in node.edges] == [[np.nextafter(0.1, 1.0)]] * 2
    # hand-computed: 0.1 is not > 0.1, the next double is
    assert est.transform([[0.1, np.nextafter(0.1, 1.0)]]).tolist() == [[0.0, 1.0]]


def test_missing_indicators_and_clip_equal_scikit_learn() -> None:
    X = credit_raw_with_missing()[0]
    coded = np.where(np.isnan(X), -1.0, X)
    for est, rows in ((MissingIndicator(), X), (MissingIndicator(features="all"), X),
                      (SimpleImputer(add_indicator=True), X), (SimpleImputer(missing_values=-1.0, add_indicator=True),
                                                               coded),
                      (MissingIndicator(missing_values=-1.0), coded)):
        est.fit(rows)
        np.testing.assert_array_equal(evaluate(to_ir(est), rows).transformed, est.transform(rows).astype(float))
    Xr = credit_raw()[0]
    clip = MinMaxScaler(feature_range=(-1, 2), clip=True).fit(Xr[:100])
    probe = np.vstack([Xr, Xr * 3, -Xr, _at_points(clip, Xr)])
    np.testing.assert_array_equal(evaluate(to_ir(clip), probe).transformed, clip.transform(probe))


def test_fast_ica_is_centring_then_components() -> None:
    X = credit_raw()[0]
    est = FastICA(n_components=3, random_state=0).fit(X)
    np.testing.assert_allclose(evaluate(to_ir(est), X).transformed, est.transform(X), rtol=1e-12,
                               atol=1e-12 * np.abs(est.transform(X)).max())


def test_critical_points_follow_column_transformer_columns() -> None:
    X = credit_raw()[0]
    est = make_pipeline(ColumnTransformer([("bin", Binarizer(threshold=2.0), [3]),
                                           ("kb", KBinsDiscretizer(3, encode="ordinal", strategy="uniform"), [0, 4])]),
                        Ridge()).fit(X, credit_raw()[1])
    features, values = critical_points(est, X.shape[1])
    edges = est[0].named_transformers_["kb"].bin_edges_
    assert features.tolist() == [3, 0, 0, 4, 4]
    assert values.tolist() == [2.0, *edges[0][1:-1].tolist(), *edges[1][1:-1].tolist()]


def _artifacts(model: ir.Model, est, tmp_path: Path, coreml: bool = True) -> list[Path]:
    paths = [save_onnx(to_onnx(est, model, OnnxOptions()).model, tmp_path / "model.onnx")]
    if coreml:
        paths.append(save_spec(to_spec(model, CoreMLInterface()), tmp_path / "model.mlmodel"))
    return paths


def _with_edges(model: ir.Model, edges: tuple[np.ndarray, ...]) -> ir.Model:
    step = model.body[-1]
    node = step.node
    if isinstance(node, ir.Pipeline):
        fault = ir.Pipeline(steps=(ir.Bins(edges=edges), *node.steps[1:]))
    else:
        fault = ir.Bins(edges=edges)
    return dataclasses.replace(model, body=(*model.body[:-1], dataclasses.replace(step, node=fault)))


@pytest.mark.parametrize("make", [lambda: KBinsDiscretizer(n_bins=5, encode="ordinal", **_QUANTILE),
                                  lambda: Binarizer(threshold=45.5)], ids=["kbins", "binarizer"])
def test_an_edge_one_ulp_off_fails_on_the_critical_points(make, tmp_path: Path) -> None:
    X = credit_raw()[0]
    est = make().fit(X)
    model = to_ir(est)
    node = ir.final_producer(model.output.node)
    assert isinstance(node, ir.Bins)
    assert parity.check(est, _artifacts(model, est, tmp_path), inputs=X).verdict == "passed"
    moved = tuple(np.nextafter(e, -np.inf) for e in node.edges)  # x >= e - 1 ulp: the edge itself one bin up
    fault = tmp_path / "fault"
    fault.mkdir()
    report = parity.check(est, _artifacts(_with_edges(model, moved), est, fault), inputs=X)
    assert report.verdict == "failed"
    caught = {(Path(c.artifact).suffix, c.probe) for c in report.failures()}
    assert {(".onnx", "critical-points"), (".mlmodel", "critical-points")} <= caught


def test_numeric_missing_value_through_both_writers(tmp_path: Path) -> None:
    X = np.where(np.isnan(credit_raw_with_missing()[0]), -1.0, credit_raw_with_missing()[0])
    est = make_pipeline(SimpleImputer(missing_values=-1.0, add_indicator=True), StandardScaler(), Ridge()).fit(
        X, credit_raw()[1])
    report = parity.check(est, _artifacts(to_ir(est), est, tmp_path), inputs=X)
    assert report.verdict == "passed", parity.to_markdown(report)
    assert any(c.probe == "critical-points" for c in report.checks)


@pytest.mark.parametrize("est, match", [
    (KBinsDiscretizer(n_bins=3, dtype=np.float32, strategy="uniform"), "dtype"),
    (MissingIndicator(), "no feature had missing values"),
], ids=["kbins-float32", "indicator-without-missing"])
def test_refusals_name_what_is_supported(est, match: str) -> None:
    est.fit(credit_raw()[0])
    with pytest.raises(UnsupportedEstimatorError, match=match):
        to_ir(est)


def test_core_ml_refuses_clip_with_the_reason() -> None:
    est = MinMaxScaler(clip=True).fit(credit_raw()[0])
    with pytest.raises(UnsupportedEstimatorError, match="no double-precision clamp"):
        to_spec(to_ir(est), CoreMLInterface())


def _onnx_transform(est, X: np.ndarray) -> np.ndarray:
    import onnxruntime

    model = to_onnx(est, to_ir(est), OnnxOptions()).model
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})[0]


@pytest.mark.parametrize("params", [{"degree": 3}, {"degree": (2, 4), "interaction_only": True, "include_bias": False},
                                    {"degree": (2, 3)}], ids=["degree-3", "interaction-2-4", "degree-2-3-bias"])
def test_polynomial_features_are_scikit_learns_products_bit_for_bit(params) -> None:
    X = np.vstack([credit_raw()[0] * [1.1, 0.37, 1.3, 1.0, 0.91, 1.7], np.full((1, 6), -0.0), np.full((1, 6), 1e100)])
    est = PolynomialFeatures(**params).fit(X[:-2])
    np.testing.assert_array_equal(evaluate(to_ir(est), X).transformed, est.transform(X))
    np.testing.assert_array_equal(_onnx_transform(est, X), est.transform(X))


_EDGE_VALUES = np.array([0.0, -0.0, 5e-324, 1e-300, -1e-300, 1e-20, -1e-20, 1e-10, -0.5, -0.9999999, -1.0, -2.0, 0.5,
                         2.5, 3.5, 700.0, 710.0, 1e300, np.inf, -np.inf, np.nan, -745.0, -800.0])


@pytest.mark.parametrize("ufunc", [np.abs, np.negative, np.square, np.sqrt, np.reciprocal, np.floor, np.ceil, np.rint,
                                   np.exp, np.log, np.log1p, np.expm1, np.tanh], ids=lambda f: f.__name__)
def test_function_transformer_ufuncs_within_their_bound(ufunc) -> None:
    """IEEE-exact functions bit for bit; exp/log/tanh (another libm) and log1p/expm1 (exact-difference forms in
    ONNX) within the ulps parity's Ufunc bound allows: (TRANSCENDENTAL_ULPS + 2) units x SAFETY, measured ≤ 7 ulp
    (ONNX Runtime's double tanh), log1p ≤ 2, expm1 ≤ 3 on these values."""
    from parity.bounds import CORRECTLY_ROUNDED_UFUNCS, SAFETY, TRANSCENDENTAL_ULPS

    values = np.concatenate([_EDGE_VALUES, np.random.default_rng(0).standard_normal(500) * 10,
                             10.0 ** np.random.default_rng(1).uniform(-20, 3, 500)])
    X = values.reshape(-1, 1)
    est = FunctionTransformer(ufunc).fit(X)
    with np.errstate(all="ignore"):
        expected = ufunc(X)
    got = _onnx_transform(est, X)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    infinite = np.isinf(expected)
    np.testing.assert_array_equal(got[infinite], expected[infinite])
    finite = np.isfinite(expected)
    ulps = np.abs(got[finite] - expected[finite]) / np.spacing(np.abs(expected[finite]))
    if ufunc.__name__ in CORRECTLY_ROUNDED_UFUNCS:
        assert ulps.max() == 0
    else:
        assert ulps.max() <= SAFETY * (TRANSCENDENTAL_ULPS + 2.0)


def test_function_transformer_refusals() -> None:
    X = credit_raw()[0]
    with pytest.raises(UnsupportedEstimatorError, match="allowed: None or numpy.abs"):
        to_ir(FunctionTransformer(np.cbrt).fit(X))
    with pytest.raises(UnsupportedEstimatorError, match="kw_args"):
        to_ir(FunctionTransformer(np.log1p, kw_args={"out": None}).fit(X))
    with pytest.raises(UnsupportedEstimatorError, match="no double-precision Core ML encoding"):
        to_spec(to_ir(FunctionTransformer(np.log1p).fit(X)), CoreMLInterface())


def _quantile_rows(est, X: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0)
    q = est.quantiles_
    return np.vstack([X, _at_points(est, X), q[:1] - 5.0, q[-1:] + 5.0, X * rng.uniform(0.5, 1.5, X.shape),
                      np.full((1, X.shape[1]), np.nan)])


@pytest.mark.parametrize("n_quantiles", [10, 200])
def test_quantile_transformer_uniform_is_bit_for_bit(n_quantiles: int) -> None:
    """np.interp both ways, averaged, bounds set: the ONNX graph makes numpy's operations (x86-64, no FMA)."""
    X = credit_raw()[0]  # Cards / Education repeat values: repeated quantiles, the averaged rule matters
    est = QuantileTransformer(n_quantiles=n_quantiles).fit(X)
    rows = _quantile_rows(est, X)
    np.testing.assert_array_equal(_onnx_transform(est, rows), est.transform(rows))


def test_quantile_transformer_normal_within_a_few_ulp() -> None:
    """Cephes ndtri with ONNX Runtime's log: measured ≤ 5 ulp on these rows (scipy's ndtri uses the C library's)."""
    X = credit_raw()[0]
    est = QuantileTransformer(n_quantiles=100, output_distribution="normal").fit(X)
    rows = _quantile_rows(est, X)
    expected, got = est.transform(rows), _onnx_transform(est, rows)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    finite = np.isfinite(expected)
    ulps = np.abs(got[finite] - expected[finite]) / np.spacing(np.maximum(np.abs(expected[finite]), 1e-300))
    assert ulps.max() <= 8
    clip = est.transform(np.vstack([est.quantiles_[:1] - 1, est.quantiles_[-1:] + 1]))  # the clip bounds exactly
    np.testing.assert_array_equal(_onnx_transform(est, np.vstack([est.quantiles_[:1] - 1,
                                                                  est.quantiles_[-1:] + 1])), clip)


def test_ndtri_lowering_follows_scipy_across_its_branches() -> None:
    import onnx
    import onnxruntime
    from onnx import helper
    from scipy.special import ndtri

    from export.to_onnx.graph_builder import GraphBuilder
    from export.to_onnx.quantiles import EXP_MINUS_2, emit_ndtri

    b = GraphBuilder()
    out = emit_ndtri(b, "p")
    double = onnx.TensorProto.DOUBLE
    graph = helper.make_graph(b.nodes, "ndtri", [helper.make_tensor_value_info("p", double, [None, 1])],
                              [helper.make_tensor_value_info(out, double, [None, 1])], initializer=b.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    edges = np.array([EXP_MINUS_2, 1 - EXP_MINUS_2, np.exp(-32.0), 1 - np.exp(-32.0), 0.5])
    p = np.concatenate([edges, np.nextafter(edges, 0), np.nextafter(edges, 1), [1e-300, 5e-324, 1e-7, 1 - 1e-7],
                        np.random.default_rng(0).uniform(0, 1, 2000), 10.0 ** -np.random.default_rng(1).uniform(
                            0, 300, 500)])
    got = session.run(None, {"p": p.reshape(-1, 1)})[0].ravel()
    expected = ndtri(p)
    ulps = np.abs(got - expected) / np.spacing(np.abs(expected))
    assert ulps.max() <= 8



def test_quantile_critical_points_hold_repeated_knots_where_one_sided_interp_differs() -> None:
    """QuantileTransformer is continuous at its knots (a knot one ulp off moves outputs by about an ulp, within
    tolerance); what the critical points must pin is the averaged rule at repeated quantiles (Cards, Education)."""
    X = credit_raw()[0]
    est = QuantileTransformer(n_quantiles=50).fit(X)
    features, values = critical_points(est, X.shape[1])
    q, r = est.quantiles_[:, 3], est.references_
    knots = values[features == 3]
    one_sided = np.interp(knots, q, r)
    averaged = est.transform(np.column_stack([np.zeros((len(knots), 3)), knots, np.zeros((len(knots), 2))]))[:, 3]
    assert np.any(np.abs(one_sided - averaged) > 0.01)  # the averaged rule changes these points by > 1 %
