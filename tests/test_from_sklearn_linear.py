"""Linear models → IR, checked by the independent oracle (tests/ir_oracle.py) against scikit-learn's own outputs."""

from __future__ import annotations

import numpy as np
import pytest
from ir_oracle import assert_labels, evaluate
from shipped_datasets import SCALED_CLASSIFICATION, scaled
from sklearn.datasets import load_diabetes, load_iris, load_linnerud, load_wine
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Perceptron,
    Ridge,
    RidgeClassifier,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC, LinearSVR

from export import ir
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir

# Same float64 affine map as sklearn (X @ coef_.T + intercept_); only BLAS summation order may differ.
SCORE_RTOL, SCORE_ATOL = 1e-12, 1e-12
# Probabilities go through exp / normalisation written independently of sklearn's (softmax shift, 1 - p).
PROBA_ATOL = 1e-14



CLASSIFICATION = {
    **SCALED_CLASSIFICATION,
}
REGRESSION = {
    "diabetes": lambda: load_diabetes(return_X_y=True),
    "linnerud_1": lambda: (lambda X, y: (X, y[:, 0]))(*load_linnerud(return_X_y=True)),
}


def _check_classifier(est, X, y):
    est.fit(X, y)
    model = to_ir(est)
    ev = evaluate(model, X)
    n_ties = assert_labels(ev, est.predict(X))
    assert n_ties == 0
    decision = est.decision_function(X)
    np.testing.assert_allclose(ev.scores.reshape(decision.shape), decision, rtol=SCORE_RTOL, atol=SCORE_ATOL)
    task = model.head
    assert isinstance(task, ir.Classification)
    assert list(task.labels) == list(est.classes_)
    if task.has_proba:
        np.testing.assert_allclose(ev.proba, est.predict_proba(X), rtol=0, atol=PROBA_ATOL)
    return model


@pytest.mark.parametrize("data", sorted(CLASSIFICATION))
def test_logistic_regression_binary_logistic_multiclass_softmax(data):
    X, y = CLASSIFICATION[data]()
    model = _check_classifier(LogisticRegression(max_iter=1000), X, y)
    node = model.output.node
    if len(np.unique(y)) == 2:
        assert isinstance(node, ir.LinearModel) and model.head.link == "logistic" and node.coef.shape[0] == 1
    else:
        assert isinstance(node, ir.NeuralNetwork) and model.head.link == "softmax" and len(node.layers) == 1


@pytest.mark.parametrize("data", sorted(CLASSIFICATION))
@pytest.mark.parametrize("member", [LogisticRegression(max_iter=1000), SGDClassifier(loss="log_loss", random_state=0),
                                    LinearSVC(), Perceptron(random_state=0)], ids=lambda m: type(m).__name__)
def test_one_vs_rest(data, member):
    X, y = CLASSIFICATION[data]()
    est = OneVsRestClassifier(member)
    model = _check_classifier(est, X, y)
    logistic = type(member) is LogisticRegression or type(member) is SGDClassifier
    assert model.head.has_proba == logistic
    assert model.head.link == ("none" if not logistic else "logistic" if len(est.classes_) == 2 else "ovr_logistic")


@pytest.mark.parametrize("data", sorted(CLASSIFICATION))
@pytest.mark.parametrize("make", [
    lambda: SGDClassifier(loss="log_loss", random_state=0),
    lambda: SGDClassifier(loss="hinge", random_state=0),
    lambda: SGDClassifier(loss="modified_huber", random_state=0),
    lambda: RidgeClassifier(),
    lambda: LinearSVC(),
    lambda: LinearSVC(multi_class="crammer_singer"),
    lambda: Perceptron(random_state=0),
], ids=["sgd_log", "sgd_hinge", "sgd_modified_huber", "ridge", "linear_svc", "crammer_singer", "perceptron"])
def test_linear_classifiers(data, make):
    est = make()
    X, y = CLASSIFICATION[data]()
    model = _check_classifier(est, X, y)
    node = model.output.node
    expect_proba = type(est) is SGDClassifier and est.loss == "log_loss"
    assert model.head.has_proba == expect_proba
    assert (model.head.link == "none") == (not expect_proba)
    assert X.shape[1] == node.n_features


@pytest.mark.parametrize("data", sorted(REGRESSION))
@pytest.mark.parametrize("make", [LinearRegression, Ridge, lambda: Lasso(alpha=0.1), lambda: ElasticNet(alpha=0.1),
                                  lambda: SGDRegressor(random_state=0), lambda: LinearSVR(random_state=0),
                                  lambda: LinearRegression(fit_intercept=False)],
                         ids=["ols", "ridge", "lasso", "enet", "sgd", "linear_svr", "ols_no_intercept"])
def test_linear_regressors(data, make):
    X, y = REGRESSION[data]()
    X = StandardScaler().fit_transform(X)  # SGD needs scaled inputs to converge
    est = make().fit(X, y)
    model = to_ir(est)
    assert isinstance(model.head, ir.Regression) and model.head.n_targets == 1
    np.testing.assert_allclose(evaluate(model, X).prediction[:, 0], est.predict(X), rtol=SCORE_RTOL,
                               atol=SCORE_ATOL * np.abs(y).max())


@pytest.mark.parametrize("make", [LinearRegression, Ridge, lambda: Lasso(alpha=0.1), lambda: ElasticNet(alpha=0.1),
                                  lambda: Ridge(fit_intercept=False)])
def test_multi_target_regression(make):
    X, Y = load_linnerud(return_X_y=True)
    est = make().fit(X, Y)
    model = to_ir(est)
    assert model.head.n_targets == 3
    np.testing.assert_allclose(evaluate(model, X).prediction, est.predict(X), rtol=SCORE_RTOL, atol=1e-9)


def test_ovr_multilabel_refused():
    X, y = scaled(load_iris)
    Y = np.column_stack([y == 0, y == 1, y >= 1]).astype(int)
    est = OneVsRestClassifier(LogisticRegression()).fit(X, Y)
    with pytest.raises(UnsupportedEstimatorError, match="multilabel"):
        to_ir(est)


def test_ovr_unsupported_member_refused():
    from sklearn.tree import DecisionTreeClassifier

    X, y = scaled(load_iris)
    est = OneVsRestClassifier(DecisionTreeClassifier(max_depth=2)).fit(X, y)
    with pytest.raises(UnsupportedEstimatorError, match=r"DecisionTreeClassifier.*supported: LogisticRegression"):
        to_ir(est)


def test_ridge_classifier_multilabel_refused():
    X, y = scaled(load_iris)
    Y = np.column_stack([y == 0, y >= 1]).astype(int)
    with pytest.raises(UnsupportedEstimatorError, match="multilabel"):
        to_ir(RidgeClassifier().fit(X, Y))


def test_converter_does_not_mutate_estimator():
    X, y = scaled(load_wine)
    est = LogisticRegression(max_iter=1000).fit(X, y)
    coef, intercept = est.coef_.copy(), est.intercept_.copy()
    model = to_ir(est)
    node = model.output.node
    np.testing.assert_array_equal(est.coef_, coef)
    np.testing.assert_array_equal(est.intercept_, intercept)
    assert not node.layers[0].weights.flags.writeable
