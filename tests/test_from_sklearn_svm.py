"""libsvm models → IR, checked by the independent oracle (tests/ir_oracle.py) against scikit-learn's own outputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from ir_oracle import assert_labels, evaluate
from shipped_datasets import SCALED_CLASSIFICATION
from sklearn.datasets import load_diabetes, load_linnerud
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR, NuSVC, NuSVR

from export import ir
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir

# Kernel sums are float64 in both, but libsvm accumulates dot products / squared distances per support vector in
# its own order and the oracle uses BLAS: differences are rounding only.
DECISION_RTOL, DECISION_ATOL = 1e-10, 1e-10
# Probabilities: the oracle re-implements libsvm's iterative coupling; rounding in the decision values moves them
# by far less than this.
PROBA_ATOL = 1e-9



CLASSIFICATION = {
    **SCALED_CLASSIFICATION,
}
REGRESSION = {
    "diabetes": lambda: load_diabetes(return_X_y=True),
    "linnerud_0": lambda: (lambda X, y: (StandardScaler().fit_transform(X), y[:, 0]))(*load_linnerud(return_X_y=True)),
}
KERNELS = [
    {"kernel": "rbf"},
    {"kernel": "linear"},
    {"kernel": "poly", "degree": 3, "coef0": 1.0},
    {"kernel": "sigmoid", "gamma": 0.01, "coef0": 0.5},
    {"kernel": "rbf", "gamma": 0.2},
]


def _fit_quietly(est, X, y):
    with warnings.catch_warnings():
        # SVC(probability=True) is deprecated in 1.9 (FutureWarning) but still what users have fitted.
        warnings.simplefilter("ignore", FutureWarning)
        return est.fit(X, y)


def _check_svc(est, X, y):
    _fit_quietly(est, X, y)
    model = to_ir(est)
    node = model.output.node
    assert isinstance(node, ir.SupportVectorMachine)
    ev = evaluate(model, X)
    n_ties = assert_labels(ev, est.predict(X))
    assert n_ties <= 1
    decision = est.decision_function(X)
    if len(est.classes_) == 2:
        # sklearn negates libsvm's binary decision value so that positive means classes_[1]
        np.testing.assert_allclose(-ev.scores[:, 0], decision, rtol=DECISION_RTOL, atol=DECISION_ATOL)
    elif est.decision_function_shape == "ovo":
        np.testing.assert_allclose(ev.scores, decision, rtol=DECISION_RTOL, atol=DECISION_ATOL)
    assert model.head.has_proba == (est.probability is True)
    if est.probability is True:
        np.testing.assert_allclose(ev.proba, est.predict_proba(X), rtol=0, atol=PROBA_ATOL)
    return model


@pytest.mark.parametrize("data", sorted(CLASSIFICATION))
@pytest.mark.parametrize("params", KERNELS, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
def test_svc_kernels(data, params):
    X, y = CLASSIFICATION[data]()
    _check_svc(SVC(decision_function_shape="ovo", **params), X, y)


@pytest.mark.parametrize("data", sorted(CLASSIFICATION))
@pytest.mark.parametrize("params", KERNELS[:3], ids=lambda p: p["kernel"])
def test_svc_probability(data, params):
    X, y = CLASSIFICATION[data]()
    _check_svc(SVC(probability=True, random_state=0, decision_function_shape="ovo", **params), X, y)


@pytest.mark.parametrize("data", sorted(CLASSIFICATION))
def test_nusvc_default_ovr_shape_and_probability(data):
    X, y = CLASSIFICATION[data]()
    _check_svc(NuSVC(nu=0.3), X, y)
    _check_svc(NuSVC(nu=0.3, probability=True, random_state=0, kernel="poly", degree=2), X, y)


def test_svc_sparse_fit_densified():
    import scipy.sparse as sp

    X, y = CLASSIFICATION["iris"]()
    est = SVC().fit(sp.csr_matrix(X), y)
    ev = evaluate(to_ir(est), X)
    assert assert_labels(ev, est.predict(sp.csr_matrix(X))) == 0


@pytest.mark.parametrize("data", sorted(REGRESSION))
@pytest.mark.parametrize("make", [
    lambda: SVR(C=10.0), lambda: SVR(kernel="linear"), lambda: SVR(kernel="poly", degree=2, coef0=1.0),
    lambda: SVR(kernel="sigmoid", gamma=0.01), lambda: NuSVR(C=10.0, nu=0.4),
], ids=["rbf", "linear", "poly", "sigmoid", "nusvr"])
def test_svr(data, make):
    X, y = REGRESSION[data]()
    est = make().fit(X, y)
    model = to_ir(est)
    assert isinstance(model.head, ir.Regression)
    np.testing.assert_allclose(evaluate(model, X).prediction[:, 0], est.predict(X), rtol=DECISION_RTOL,
                               atol=DECISION_ATOL * np.abs(y).max())


def test_precomputed_kernel_refused():
    X, y = CLASSIFICATION["iris"]()
    est = SVC(kernel="precomputed").fit(X @ X.T, y)
    with pytest.raises(UnsupportedEstimatorError, match=r"kernel='precomputed'.*allowed: 'linear', 'rbf'"):
        to_ir(est)


def test_break_ties_is_a_head_rule_for_three_or_more_classes_only():
    X, y = CLASSIFICATION["iris"]()
    assert to_ir(SVC(break_ties=True).fit(X, y)).head.break_ties
    binary = y < 2
    assert not to_ir(SVC(break_ties=True).fit(X[binary], y[binary])).head.break_ties  # scikit-learn: vote for K = 2
