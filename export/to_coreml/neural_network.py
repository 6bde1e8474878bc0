"""IR NeuralNetwork (and softmax LinearModel) → Core ML neuralNetworkClassifier / neuralNetworkRegressor /
neuralNetwork with RANK5 mapping and classic layers only (innerProduct, activation, softmax: spec 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import (
    Feature,
    Names,
    OutputNames,
    classifier_outputs,
    double_type,
    mark_classifier,
    new_model,
    set_class_labels,
    vector_type,
)
from export.to_coreml.pipeline import array_feature_extractor_model
from export.to_coreml.protos import Spec


def _add_inner_product(container: Any, name: str, source_blob: str, output_blob: str, weights: np.ndarray,
                       bias: np.ndarray) -> None:
    """InnerProductLayerParams: y = W x + b with W stored row-major as [C_out, C_in] in float32 (floatValue)."""
    layer = container.layers.add()
    layer.name = name
    layer.input.append(source_blob)
    layer.output.append(output_blob)
    params = layer.innerProduct
    params.inputChannels = int(weights.shape[1])
    params.outputChannels = int(weights.shape[0])
    params.hasBias = True
    params.weights.floatValue.extend(np.asarray(weights, dtype=np.float32).ravel(order="C").tolist())
    params.bias.floatValue.extend(np.asarray(bias, dtype=np.float32).tolist())


def _add_activation(container: Any, name: str, source_blob: str, output_blob: str, activation: str) -> None:
    layer = container.layers.add()
    layer.name = name
    layer.input.append(source_blob)
    layer.output.append(output_blob)
    if activation == "relu":
        layer.activation.ReLU.SetInParent()
    elif activation == "tanh":
        layer.activation.tanh.SetInParent()
    elif activation == "logistic":
        layer.activation.sigmoid.SetInParent()
    else:
        raise ExportFailedError(f"DenseLayer activation {activation!r} is not supported; supported: identity, relu, "
                                "tanh, logistic")


def _add_dense_stack(container: Any, layers: Sequence[ir.DenseLayer], source_blob: str, output_blob: str) -> None:
    """Every dense layer as innerProduct (+ activation unless identity); the last blob is named `output_blob`."""
    blob = source_blob
    for index, dense in enumerate(layers):
        last = index == len(layers) - 1
        has_activation = dense.activation != "identity"
        product_blob = output_blob if last and not has_activation else f"__dense_{index}__"
        _add_inner_product(container, f"dense_{index}", blob, product_blob, dense.weights, dense.bias)
        blob = product_blob
        if has_activation:
            activation_blob = output_blob if last else f"__{dense.activation}_{index}__"
            _add_activation(container, f"{dense.activation}_{index}", blob, activation_blob, dense.activation)
            blob = activation_blob


def _two_column_scores(layers: tuple[ir.DenseLayer, ...]) -> tuple[ir.DenseLayer, ...]:
    """Turn one score column z into two, [0, z], so that softmax gives [1-σ(z), σ(z)] exactly and argmax gives
    labels[1] iff z > 0 (scikit-learn's binary rule; z == 0 → first column, as argmax ties go first [inferred]).
    With an identity last layer the zero row is folded into it; otherwise a [[0], [1]] layer is appended."""
    last = layers[-1]
    if last.activation == "identity":
        weights = np.vstack([np.zeros((1, last.weights.shape[1])), last.weights])
        folded = ir.DenseLayer(weights, np.concatenate([[0.0], last.bias]), "identity")
        return (*layers[:-1], folded)
    return (*layers, ir.DenseLayer(np.array([[0.0], [1.0]]), np.zeros(2), "identity"))


def nn_classifier_model(layers: tuple[ir.DenseLayer, ...], task: ir.Classification, source: Feature,
                        names: OutputNames) -> Spec:
    """neuralNetworkClassifier; labelProbabilityLayerName names the blob whose argmax is the label."""
    n_scores, k = layers[-1].weights.shape[0], task.n_classes
    softmax = task.link in ("softmax", "logistic")
    if task.link in ("logistic", "none") and n_scores == 1 and k == 2:
        layers = _two_column_scores(layers)
    elif not (n_scores == k and task.link in ("softmax", "identity", "none")):
        raise ExportFailedError(
            f"NeuralNetwork: link {task.link!r} with {n_scores} scores for {k} classes has no Core ML encoding; "
            "supported: softmax/identity/none with K scores, logistic/none with 1 score (binary)")
    if layers[0].weights.shape[1] != source.width:
        raise ExportFailedError(f"NeuralNetwork reads {layers[0].weights.shape[1]} features but its input has "
                                f"{source.width}")
    outputs = classifier_outputs(task, names, task.has_proba)
    spec = new_model([source], outputs)
    mark_classifier(spec, outputs)
    message = spec.neuralNetworkClassifier
    scores_blob = "__scores__"
    _add_dense_stack(message, layers, source.name, scores_blob)
    probability_blob = scores_blob
    if softmax:
        # SoftmaxLayerParams: axis -3 of the RANK5 [1,1,C,1,1] tensor, i.e. over the C scores.
        probability_blob = "__probabilities__"
        layer = message.layers.add()
        layer.name = "softmax"
        layer.input.append(scores_blob)
        layer.output.append(probability_blob)
        layer.softmax.SetInParent()
    message.labelProbabilityLayerName = probability_blob
    set_class_labels(message, task.labels, task.string_labels)
    return spec


def nn_regressor_models(layers: tuple[ir.DenseLayer, ...], n_targets: int, source: Feature, names: OutputNames,
                        fresh: Names) -> list[Spec]:
    """T > 1: one neuralNetworkRegressor with a [T] output. T == 1: NN outputs are arrays only, so a plain
    neuralNetwork writes a [1] vector and an ArrayFeatureExtractor (one index → Double) yields the prediction."""
    if layers[-1].weights.shape[0] != n_targets:
        raise ExportFailedError(f"NeuralNetwork: last layer has {layers[-1].weights.shape[0]} outputs for "
                                f"{n_targets} targets")
    if layers[0].weights.shape[1] != source.width:
        raise ExportFailedError(f"NeuralNetwork reads {layers[0].weights.shape[1]} features but its input has "
                                f"{source.width}")
    if n_targets > 1:
        output = Feature(names.prediction, vector_type(n_targets))
        spec = new_model([source], [output])
        spec.description.predictedFeatureName = output.name
        _add_dense_stack(spec.neuralNetworkRegressor, layers, source.name, output.name)
        return [spec]
    scores = Feature(fresh.fresh("nn_output"), vector_type(1))
    network = new_model([source], [scores])
    _add_dense_stack(network.neuralNetwork, layers, source.name, scores.name)
    prediction = Feature(names.prediction, double_type())
    extractor = array_feature_extractor_model(scores, [0], prediction)
    return [network, extractor]


def exp_models(scores: Feature, n_targets: int, names: OutputNames, fresh: Names) -> list[Spec]:
    """prediction = exp(scores): a neuralNetwork with one unary EXP layer (UnaryFunctionLayerParams, spec 1; Core ML
    classic has no exp post-transform). NN blobs are float32 on device, so this stage rounds to float32. T == 1 ends
    with an ArrayFeatureExtractor to the Double prediction, as nn_regressor_models does."""
    exp_output = Feature(names.prediction if n_targets > 1 else fresh.fresh("exp_output"), vector_type(n_targets))
    kind = "neuralNetworkRegressor" if n_targets > 1 else "neuralNetwork"
    network = new_model([scores], [exp_output])
    if n_targets > 1:
        network.description.predictedFeatureName = exp_output.name
    container = getattr(network, kind)
    layer = container.layers.add()
    layer.name = "exp"
    layer.input.append(scores.name)
    layer.output.append(exp_output.name)
    layer.unary.type = layer.unary.EXP
    layer.unary.scale = 1.0
    if n_targets > 1:
        return [network]
    return [network, array_feature_extractor_model(exp_output, [0], Feature(names.prediction, double_type()))]
