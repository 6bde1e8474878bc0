"""MLPClassifier / MLPRegressor → IR, checked by the independent oracle (tests/ir_oracle.py) against scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from ir_oracle import assert_labels, evaluate
from shipped_datasets import SCALED_CLASSIFICATION, scaled
from sklearn.datasets import load_diabetes, load_digits, load_iris, load_linnerud
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from export import ir
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir

# Same float64 matrix products and activations as sklearn's forward pass, written independently (softmax shift,
# logistic as 1/(1+exp(-z)) vs scipy's expit): differences are rounding only.
PROBA_ATOL = 1e-12
PREDICTION_RTOL = 1e-10



CLASSIFICATION = {
    **SCALED_CLASSIFICATION,
    "digits": lambda: scaled(load_digits),
}


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few iterations keep the test fast
        return est.fit(X, y)


@pytest.mark.parametrize("data", sorted(CLASSIFICATION))
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_mlp_classifier(data, activation):
    X, y = CLASSIFICATION[data]()
    est = _fit(MLPClassifier(hidden_layer_sizes=(16, 8), activation=activation, max_iter=60, random_state=0), X, y)
    model = to_ir(est)
    node = model.output.node
    assert isinstance(node, ir.NeuralNetwork) and len(node.layers) == 3
    ev = evaluate(model, X)
    assert assert_labels(ev, est.predict(X)) == 0
    np.testing.assert_allclose(ev.proba, est.predict_proba(X), rtol=0, atol=PROBA_ATOL)
    binary = len(est.classes_) == 2
    assert model.head.link == ("logistic" if binary else "softmax")
    assert node.layers[-1].weights.shape[0] == (1 if binary else len(est.classes_))


@pytest.mark.parametrize("loader", [load_diabetes, load_linnerud], ids=["diabetes", "linnerud_multi_target"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_mlp_regressor(loader, activation):
    X, y = scaled(loader)
    est = _fit(MLPRegressor(hidden_layer_sizes=(12,), activation=activation, max_iter=80, random_state=0), X, y)
    model = to_ir(est)
    expected = est.predict(X).reshape(len(X), -1)
    assert model.head.n_targets == expected.shape[1]
    np.testing.assert_allclose(evaluate(model, X).prediction, expected, rtol=PREDICTION_RTOL,
                               atol=PREDICTION_RTOL * np.abs(expected).max())


def test_mlp_multilabel_refused():
    X, y = scaled(load_iris)
    Y = np.column_stack([y == 0, y >= 1]).astype(int)
    est = _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0), X, Y)
    with pytest.raises(UnsupportedEstimatorError, match="multilabel"):
        to_ir(est)


def test_mlp_regressor_poisson_is_the_exp_link():
    X, y = load_diabetes(return_X_y=True)
    est = _fit(MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), max_iter=5, random_state=0), X, y)
    assert est.out_activation_ == "exp"
    model = to_ir(est)
    assert model.head == ir.Regression(n_targets=1, link="exp")
    raw = evaluate(model.__class__(model.inputs, model.body, ir.Regression(n_targets=1)), X).prediction
    np.testing.assert_allclose(np.exp(raw).ravel(), est.predict(X), rtol=1e-12)  # exp of the identity network
