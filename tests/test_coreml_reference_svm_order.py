"""The Core ML evaluator adds SVM decision terms in libsvm's order (Core ML's SVMs carry libsvm's arrays): where huge
terms nearly cancel, only that order reproduces the sign, so a BLAS-ordered sum would flag faithful exports."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_wine
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

from export.frontends import to_ir
from export.to_coreml import CoreMLInterface, to_spec
from parity.coreml_reference import predict

EXTREMES = (1e30, -1e30, float(np.finfo(np.float32).max), -float(np.finfo(np.float32).max))


def _extreme_rows(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Real rows with one feature set to each extreme value (every feature)."""
    n, f = X.shape
    rows = X[rng.integers(0, n, size=f * len(EXTREMES))].copy()
    rows[np.arange(rows.shape[0]), np.tile(np.arange(f), len(EXTREMES))] = np.repeat(EXTREMES, f)
    return rows


@pytest.mark.parametrize("kernel", ["linear", "poly"])
def test_votes_match_libsvm_on_cancelling_sums(kernel: str) -> None:
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)  # digits has columns constant over the support vectors: sums cancel
    svc = SVC(kernel=kernel, degree=2).fit(X, y)
    rows = _extreme_rows(X, np.random.default_rng(0))
    decision = svc.decision_function(rows)
    finite = np.isfinite(decision).all(axis=1)
    spec = to_spec(to_ir(svc), CoreMLInterface())
    labels = predict(spec, rows)["classLabel"]
    np.testing.assert_array_equal(labels[finite], svc.predict(rows)[finite])
    assert finite.sum() > 100


def test_regression_sum_is_sequential() -> None:
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    svr = SVR(kernel="linear").fit(X, X[:, 0] * 3 + y)
    rows = _extreme_rows(X, np.random.default_rng(1))
    spec = to_spec(to_ir(svr), CoreMLInterface())
    got = predict(spec, rows)["prediction"]
    expected = svr.predict(rows)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
