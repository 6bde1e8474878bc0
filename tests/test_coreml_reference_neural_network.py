"""Hand-computed checks of the Core ML reference evaluator on neuralNetwork / Classifier / Regressor specs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from coreml_spec_parts import add_array_input, add_classifier_outputs

from parity.coreml_reference import class_labels, predict
from parity.coreml_reference.spec_loading import FeatureTypes_pb2, Model_pb2
from parity.errors import CoreMLSpecError


def network(kind: str, n_in: int, n_out: int, labels: list | None = None) -> tuple[Model_pb2.Model, Any]:
    spec = Model_pb2.Model()
    spec.specificationVersion = 1
    add_array_input(spec, "x", n_in)
    if kind == "neuralNetworkClassifier":
        params = spec.neuralNetworkClassifier
        params.int64ClassLabels.vector.extend(labels or [])
        add_classifier_outputs(spec)
    else:
        params = getattr(spec, kind)
        output = spec.description.output.add()
        output.name = "y"
        output.type.multiArrayType.shape.append(n_out)
        output.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.DOUBLE
        if kind == "neuralNetworkRegressor":
            spec.description.predictedFeatureName = "y"
    return spec, params


def inner_product(params: Any, name: str, source: str, target: str, weights: np.ndarray,
                  bias: np.ndarray | None) -> None:
    layer = params.layers.add()
    layer.name, layer.input[:], layer.output[:] = name, [source], [target]
    ip = layer.innerProduct
    ip.outputChannels, ip.inputChannels = weights.shape
    ip.weights.floatValue.extend(weights.ravel().tolist())  # row-major [C_out, C_in]
    if bias is not None:
        ip.hasBias = True
        ip.bias.floatValue.extend(bias.tolist())


def test_inner_product_weights_are_stored_out_by_in() -> None:
    spec, params = network("neuralNetwork", 3, 2)
    w = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])  # C_out=2, C_in=3: not square, so a transpose would fail
    inner_product(params, "ip", "x", "y", w, np.array([0.25, -0.5]))
    x = np.array([[1.0, 1.0, 1.0], [2.0, 0.0, -1.0]])
    np.testing.assert_allclose(predict(spec, x)["y"], x @ w.T + [0.25, -0.5], rtol=1e-6)


ACTIVATIONS: dict[str, tuple[dict[str, float], Callable[[np.ndarray], np.ndarray]]] = {
    "linear": ({"alpha": 2.0, "beta": -1.0}, lambda x: 2 * x - 1),
    "ReLU": ({}, lambda x: np.maximum(x, 0)),
    "leakyReLU": ({"alpha": 0.1}, lambda x: np.where(x >= 0, x, 0.1 * x)),
    "tanh": ({}, np.tanh),
    "sigmoid": ({}, lambda x: 1 / (1 + np.exp(-x))),
    "sigmoidHard": ({"alpha": 0.2, "beta": 0.5}, lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
    "scaledTanh": ({"alpha": 1.5, "beta": 0.5}, lambda x: 1.5 * np.tanh(0.5 * x)),
    "softplus": ({}, lambda x: np.log1p(np.exp(x))),
    "ELU": ({"alpha": 0.7}, lambda x: np.where(x >= 0, x, 0.7 * (np.exp(x) - 1))),
    "softsign": ({}, lambda x: x / (1 + np.abs(x))),
    "thresholdedReLU": ({"alpha": 0.5}, lambda x: np.where(x >= 0.5, x, 0)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_formulas(name: str) -> None:
    fields, formula = ACTIVATIONS[name]
    spec, params = network("neuralNetwork", 5, 5)
    layer = params.layers.add()
    layer.name, layer.input[:], layer.output[:] = "act", ["x"], ["y"]
    getattr(layer.activation, name).SetInParent()
    for field, value in fields.items():
        setattr(getattr(layer.activation, name), field, value)
    x = np.array([[-3.0, -0.5, 0.0, 0.4, 2.5]])
    np.testing.assert_allclose(predict(spec, x)["y"], formula(x), rtol=1e-6, atol=1e-7)


def test_prelu_uses_one_slope_per_channel() -> None:
    spec, params = network("neuralNetwork", 3, 3)
    layer = params.layers.add()
    layer.name, layer.input[:], layer.output[:] = "p", ["x"], ["y"]
    layer.activation.PReLU.alpha.floatValue.extend([0.1, 0.2, 0.3])
    np.testing.assert_allclose(predict(spec, np.array([[-1.0, -1.0, 2.0]]))["y"], [[-0.1, -0.2, 2.0]], rtol=1e-6)


def test_classifier_softmax_over_channels_with_rank5_mapping() -> None:
    spec, params = network("neuralNetworkClassifier", 2, 3, labels=[4, 5, 6])
    w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    inner_product(params, "ip", "x", "scores", w, np.array([0.0, 0.0, -1.0]))
    layer = params.layers.add()
    layer.name, layer.input[:], layer.output[:] = "sm", ["scores"], ["probabilities"]
    layer.softmax.SetInParent()
    x = np.array([[0.3, 2.0], [1.0, -1.0]])
    z = x @ w.T + [0.0, 0.0, -1.0]
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    out = predict(spec, x)
    np.testing.assert_allclose(out["probs"], expected, rtol=1e-6)
    np.testing.assert_array_equal(out["label"], np.array([4, 5, 6])[expected.argmax(axis=1)])
    assert class_labels(spec) == [4, 5, 6]


def test_softmax_nd_with_exact_mapping_and_plain_softmax_refused_there() -> None:
    spec, params = network("neuralNetworkRegressor", 3, 3)
    params.arrayInputShapeMapping = 1  # EXACT_ARRAY_MAPPING
    layer = params.layers.add()
    layer.name, layer.input[:], layer.output[:] = "sm", ["x"], ["y"]
    layer.softmaxND.axis = -1
    x = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(predict(spec, x)["y"], np.exp(x) / np.exp(x).sum(), rtol=1e-6)
    layer.softmax.SetInParent()
    with pytest.raises(CoreMLSpecError, match="softmax needs rank >= 3"):
        predict(spec, x)


def test_weights_are_float32() -> None:
    spec, params = network("neuralNetwork", 1, 1)
    inner_product(params, "ip", "x", "y", np.array([[0.1]]), None)
    out = predict(spec, np.array([[1.0]]))["y"]
    assert out[0, 0] == np.float64(np.float32(0.1))  # stored float32, not the double 0.1


def test_unsupported_layer_and_bad_weights_raise_spec_error() -> None:
    spec, params = network("neuralNetwork", 2, 2)
    layer = params.layers.add()
    layer.name, layer.input[:], layer.output[:] = "conv", ["x"], ["y"]
    layer.convolution.SetInParent()
    with pytest.raises(CoreMLSpecError, match="supported layers: innerProduct"):
        predict(spec, np.zeros((1, 2)))
    spec, params = network("neuralNetwork", 2, 2)
    inner_product(params, "ip", "x", "y", np.ones((2, 2)), None)
    params.layers[0].innerProduct.weights.floatValue.pop()
    with pytest.raises(CoreMLSpecError, match="innerProduct weights have 3 values"):
        predict(spec, np.zeros((1, 2)))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mlp_classifier_matches_sklearn() -> None:
    from sklearn.datasets import make_classification
    from sklearn.neural_network import MLPClassifier

    x, y = make_classification(n_samples=200, n_features=4, n_classes=3, n_informative=3, n_redundant=0,
                               random_state=0)
    mlp = MLPClassifier(hidden_layer_sizes=(5,), activation="tanh", max_iter=300, random_state=0).fit(x, y)
    spec, params = network("neuralNetworkClassifier", 4, 3, labels=[0, 1, 2])
    inner_product(params, "h", "x", "h_in", mlp.coefs_[0].T, mlp.intercepts_[0])
    hidden = params.layers.add()
    hidden.name, hidden.input[:], hidden.output[:] = "tanh", ["h_in"], ["h_out"]
    hidden.activation.tanh.SetInParent()
    inner_product(params, "o", "h_out", "logits", mlp.coefs_[1].T, mlp.intercepts_[1])
    soft = params.layers.add()
    soft.name, soft.input[:], soft.output[:] = "softmax", ["logits"], ["probabilities"]
    soft.softmax.SetInParent()
    out = predict(spec, x)
    np.testing.assert_allclose(out["probs"], mlp.predict_proba(x), rtol=0, atol=1e-5)  # float32 arithmetic
    np.testing.assert_array_equal(out["label"], mlp.predict(x))
