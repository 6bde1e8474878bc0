"""Transformers → IR, checked by the independent oracle (tests/ir_oracle.py) against scikit-learn's `transform`."""

from __future__ import annotations

import numpy as np
import pytest
from ir_oracle import evaluate
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)

from export import ir
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir

# Scalers: the IR reproduces scikit-learn's dense transform step by step (subtract then divide; MinMax multiply then
# add), so the oracle's numpy arithmetic equals sklearn's bit for bit: compared with assert_array_equal.
# PCA: the same affine map with whitening folded into the weights; cancellation in the centring term makes the
# absolute error scale with |x| @ |components| (inputs up to ~4000 in breast_cancer): bound relative to that.
PCA_REL = 1e-13

DATA = {
    "iris": lambda: load_iris(return_X_y=True)[0],
    "wine": lambda: load_wine(return_X_y=True)[0],
    "diabetes": lambda: load_diabetes(return_X_y=True)[0],
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True)[0],
}


def _transformed(est, X):
    model = to_ir(est)
    node = model.output.node
    assert isinstance(model.head, ir.Transformed)
    return node, evaluate(model, X).transformed


@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("make", [
    StandardScaler, lambda: StandardScaler(with_mean=False), lambda: StandardScaler(with_std=False),
    lambda: StandardScaler(with_mean=False, with_std=False), MinMaxScaler, lambda: MinMaxScaler((-3, 2)),
    MaxAbsScaler, RobustScaler, lambda: RobustScaler(with_centering=False), lambda: RobustScaler(with_scaling=False),
    lambda: RobustScaler(quantile_range=(10, 90), unit_variance=True),
], ids=["std", "std_nomean", "std_nostd", "std_none", "minmax", "minmax_range", "maxabs", "robust",
        "robust_nocenter", "robust_noscale", "robust_unit"])
def test_scalers(data, make):
    X = DATA[data]()
    est = make().fit(X)
    node, got = _transformed(est, X)
    assert isinstance(node, ir.Scaler)
    X_probe = np.vstack([X, X.min(0) - 1, X.max(0) + 1, np.zeros(X.shape[1])])  # outside the training range too
    np.testing.assert_array_equal(evaluate(to_ir(est), X_probe).transformed, est.transform(X_probe))
    np.testing.assert_array_equal(got, est.transform(X))


def test_scaler_constant_column():
    X = np.column_stack([load_iris(return_X_y=True)[0], np.full(150, 3.0)])
    for est in (StandardScaler(), MinMaxScaler(), MaxAbsScaler(), RobustScaler()):
        est.fit(X)
        np.testing.assert_array_equal(_transformed(est, X)[1], est.transform(X))


def test_min_max_clip_is_a_clipped_scaler():
    X = DATA["iris"]()
    est = MinMaxScaler(clip=True).fit(X[:50])  # the other rows fall outside the fitted range: clipped
    node, got = _transformed(est, X)
    assert isinstance(node, ir.Scaler) and node.clip == (0.0, 1.0)
    np.testing.assert_array_equal(got, est.transform(X))


@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_normalizer(data, norm):
    X = DATA[data]()
    X = np.vstack([X, np.zeros(X.shape[1]), -X[:3]])  # a zero row stays zero; negative rows use |x|
    est = Normalizer(norm=norm).fit(X)
    _, got = _transformed(est, X)
    # same per-row norm; sklearn divides by the norm exactly like the oracle: rounding in the l2 sum only
    np.testing.assert_allclose(got, est.transform(X), rtol=1e-14, atol=1e-15)


def _with_holes(X, value=np.nan, seed=0):
    X = X.copy()
    rng = np.random.default_rng(seed)
    X[rng.random(X.shape) < 0.1] = value
    return X


@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("params", [{"strategy": "mean"}, {"strategy": "median"}, {"strategy": "most_frequent"},
                                    {"strategy": "constant", "fill_value": -7.5}],
                         ids=lambda p: p["strategy"])
def test_simple_imputer_nan(data, params):
    X = _with_holes(DATA[data]())
    est = SimpleImputer(**params).fit(X)
    node, got = _transformed(est, X)
    assert isinstance(node, ir.Imputer)
    np.testing.assert_array_equal(got, est.transform(X))  # a copy of statistics_: exact


def test_simple_imputer_numeric_missing_marker():
    X = np.round(load_digits(return_X_y=True)[0][:, 10:20])
    est = SimpleImputer(missing_values=0.0, strategy="mean").fit(X)
    np.testing.assert_array_equal(_transformed(est, X)[1], est.transform(X))


def test_simple_imputer_refusals():
    X = _with_holes(DATA["iris"]())
    X[:, 2] = np.nan
    with pytest.raises(UnsupportedEstimatorError, match=r"columns \[2\] were all missing"):
        to_ir(SimpleImputer().fit(X))
    est = SimpleImputer(keep_empty_features=True).fit(X)  # kept as zeros: exportable
    np.testing.assert_array_equal(_transformed(est, X)[1], est.transform(X))
    strings = np.array([["a", "b"], ["a", "c"]], dtype=object)
    with pytest.raises(UnsupportedEstimatorError, match="non-numeric"):
        to_ir(SimpleImputer(strategy="most_frequent").fit(strings))


def _integer_columns(data):
    if data == "digits":
        return load_digits(return_X_y=True)[0][:, [2, 3, 10, 21, 36]]  # pixel intensities 0..16
    X = load_iris(return_X_y=True)[0]
    return np.round(X * 2)  # integer-valued float columns with different category sets per column


@pytest.mark.parametrize("data", ["digits", "iris_binned"])
@pytest.mark.parametrize("handle_unknown", ["ignore", "error", "warn"])
def test_one_hot_encoder(data, handle_unknown):
    X = _integer_columns(data)
    est = OneHotEncoder(handle_unknown=handle_unknown, sparse_output=False).fit(X)
    node, got = _transformed(est, X)
    assert isinstance(node, ir.OneHotEncoder)
    for cats, expected in zip(node.categories, est.categories_, strict=True):
        np.testing.assert_array_equal(cats, expected)  # the real categories_, not 0..n-1
    np.testing.assert_array_equal(got, est.transform(X))


def test_one_hot_encoder_unknown_values():
    X = _integer_columns("iris_binned")
    unseen = np.vstack([X[:5], np.full(X.shape[1], 99.0), X.min(0) - 1, X[:1] + 0.5])
    est = OneHotEncoder(handle_unknown="ignore").fit(X)
    model = to_ir(est)
    np.testing.assert_array_equal(evaluate(model, unseen).transformed, est.transform(unseen).toarray())
    # handle_unknown='error': sklearn raises on unseen values; the export returns all zeros (documented).
    strict = OneHotEncoder(handle_unknown="error").fit(X)
    with pytest.raises(ValueError, match="unknown categor"):
        strict.transform(unseen)
    assert np.all(evaluate(to_ir(strict), unseen[5:6]).transformed == 0)


@pytest.mark.parametrize("params, pattern", [
    ({"drop": "first"}, "drop='first'"), ({"drop": "if_binary"}, "drop='if_binary'"),
    ({"min_frequency": 5}, "infrequent"), ({"max_categories": 3}, "infrequent"),
])
def test_one_hot_encoder_refusals(params, pattern):
    X = _integer_columns("iris_binned")
    with pytest.raises(UnsupportedEstimatorError, match=pattern):
        to_ir(OneHotEncoder(**params).fit(X))


def test_one_hot_encoder_bad_categories_refused():
    with pytest.raises(UnsupportedEstimatorError, match="string categories"):
        to_ir(OneHotEncoder().fit(np.array([["a"], ["b"]], dtype=object)))
    with pytest.raises(UnsupportedEstimatorError, match="non-integer float"):
        to_ir(OneHotEncoder().fit(np.array([[0.5], [1.0]])))
    with pytest.raises(UnsupportedEstimatorError, match="NaN"):
        to_ir(OneHotEncoder().fit(np.array([[np.nan], [1.0]])))


@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("params", [{"n_components": 2}, {"n_components": 3, "whiten": True},
                                    {"n_components": 0.95, "svd_solver": "full"},
                                    {"n_components": 2, "svd_solver": "randomized", "whiten": True, "random_state": 0}],
                         ids=["k2", "k3_whiten", "var95", "randomized_whiten"])
def test_pca(data, params):
    X = DATA[data]()
    est = PCA(**params).fit(X)
    node, got = _transformed(est, X)
    assert isinstance(node, ir.Linear)
    expected = est.transform(X)
    scale = (np.abs(X) @ np.abs(node.weights).T).max() + np.abs(node.bias).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=PCA_REL * scale)


def test_pca_fitted_on_float32():
    X = load_wine(return_X_y=True)[0]
    est = PCA(n_components=4, whiten=True).fit(X.astype(np.float32))
    node, got = _transformed(est, X)
    expected = est.transform(X)
    scale = (np.abs(X) @ np.abs(node.weights).T).max() + np.abs(node.bias).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 * scale)  # sklearn mixes float32 attributes


def test_pca_whiten_rank_deficient_clips_like_sklearn():
    X = load_iris(return_X_y=True)[0]
    X = np.column_stack([X, X[:, 0] + X[:, 1]])  # rank 4 in 5 columns: one variance ~ 0
    est = PCA(whiten=True, svd_solver="full").fit(X)
    _, got = _transformed(est, X)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got[:, :4], est.transform(X)[:, :4], rtol=0, atol=1e-10)
