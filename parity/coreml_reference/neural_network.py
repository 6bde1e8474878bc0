"""Core ML reference evaluator for `neuralNetwork` / `neuralNetworkClassifier` / `neuralNetworkRegressor` (§1.16).

Scope: feed-forward networks on rank-1 MultiArray features (sklearn MLP, multinomial logistic regression) built
from the layers innerProduct, activation, softmax and softmaxND; anything else raises CoreMLSpecError listing these.
Layers run in spec order; blobs are connected by name, network inputs are the description's inputs.

Precision: weights are float32 as Core ML stores them (`WeightParams.floatValue`, or float16Value widened), and the
arithmetic is float32, as on Core ML's CPU path (GPU/ANE may run FP16: use tolerances). A blob for n rows is an
(n, C) float32 array; with RANK5_ARRAY_MAPPING a rank-1 input [C] is the tensor [1,1,C,1,1], so the classic
softmax (axis -3 = channel) runs over C; with EXACT_ARRAY_MAPPING the blob is rank 1 [C] and only softmaxND with
axis -1/0 applies (the classic softmax needs rank >= 3 there and is refused).
Classifier: the probability blob is `labelProbabilityLayerName` (empty -> the last layer's first output, as
coremltools' builder does); label = first argmax (tie rule undocumented; lowest index chosen).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from parity.coreml_reference.classifier_outputs import classifier_outputs, label_array
from parity.coreml_reference.feature_columns import Column, feature_kind, multiarray_width
from parity.coreml_reference.validation import class_label_values, fail

SUPPORTED_LAYERS = ("innerProduct", "activation", "softmax", "softmaxND", "unary")
# UnaryFunctionLayerParams.Operation values (NeuralNetwork.proto): y = f(scale * x + shift)
_UNARY = {4: ("EXP", np.exp), 5: ("LOG", np.log), 6: ("ABS", np.abs), 0: ("SQRT", np.sqrt)}
SUPPORTED_ACTIVATIONS = ("linear", "ReLU", "leakyReLU", "thresholdedReLU", "PReLU", "tanh", "scaledTanh", "sigmoid",
                         "sigmoidHard", "ELU", "softsign", "softplus", "parametricSoftplus")
RANK5_ARRAY_MAPPING, EXACT_ARRAY_MAPPING = 0, 1
Blob = np.ndarray  # (n, C) float32
Layer = Callable[[Blob], Blob]


def weight_values(model_type: str, layer_name: str, field: str, weights: Any) -> np.ndarray:
    """float32 values of a WeightParams (floatValue, or float16Value widened); quantised weights are refused."""
    if weights.rawValue or weights.int8RawValue or weights.HasField("quantization"):
        raise fail(model_type, f"layer {layer_name!r} {field}: quantized weights (rawValue/int8RawValue) are not "
                               f"supported; supported: floatValue, float16Value")
    if weights.float16Value:
        if len(weights.float16Value) % 2:
            raise fail(model_type, f"layer {layer_name!r} {field}: float16Value has an odd number of bytes")
        return np.frombuffer(weights.float16Value, dtype="<f2").astype(np.float32)
    return np.array(weights.floatValue, dtype=np.float32)


def _softmax_last_axis(blob: Blob) -> Blob:
    shifted = blob - blob.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _inner_product(model_type: str, layer: Any) -> Layer:
    params = layer.innerProduct
    if params.int8DynamicQuantize:
        raise fail(model_type, f"layer {layer.name!r}: int8DynamicQuantize is not supported")
    c_in, c_out = int(params.inputChannels), int(params.outputChannels)
    weights = weight_values(model_type, layer.name, "weights", params.weights)
    if c_in == 0 or c_out == 0 or weights.size != c_in * c_out:
        raise fail(model_type, f"layer {layer.name!r}: innerProduct weights have {weights.size} values; "
                               f"[outputChannels={c_out}, inputChannels={c_in}] needs {c_in * c_out}")
    # W is stored row-major as [C_out, C_in] (field comment; the message header's "(inputChannels,
    # outputChannels)" is wrong), so y = W x + b.
    matrix_t = np.ascontiguousarray(weights.reshape(c_out, c_in).T)
    bias = np.zeros(c_out, dtype=np.float32)
    if params.hasBias:
        bias = weight_values(model_type, layer.name, "bias", params.bias)
        if bias.size != c_out:
            raise fail(model_type, f"layer {layer.name!r}: bias has {bias.size} values, needs {c_out}")

    def run(blob: Blob) -> Blob:
        if blob.shape[1] != c_in:
            raise fail(model_type, f"layer {layer.name!r}: input has {blob.shape[1]} channels, innerProduct "
                                   f"expects inputChannels={c_in}")
        return blob @ matrix_t + bias

    return run


def _channel_vector(model_type: str, layer_name: str, field: str, weights: Any) -> np.ndarray:
    values = weight_values(model_type, layer_name, field, weights)
    if values.size == 0:
        raise fail(model_type, f"layer {layer_name!r}: {field} is empty (needs 1 or C values)")
    return values


def _activation(model_type: str, layer: Any) -> Layer:  # noqa: C901 - one branch per ActivationParams case
    params = layer.activation
    which = params.WhichOneof("NonlinearityType")
    f32 = np.float32
    if which == "linear":
        alpha, beta = f32(params.linear.alpha), f32(params.linear.beta)
        return lambda x: alpha * x + beta
    if which == "ReLU":
        return lambda x: np.maximum(x, f32(0))
    if which == "leakyReLU":
        alpha = f32(params.leakyReLU.alpha)
        return lambda x: np.where(x >= 0, x, alpha * x)
    if which == "thresholdedReLU":
        alpha = f32(params.thresholdedReLU.alpha)
        return lambda x: np.where(x >= alpha, x, f32(0))
    if which == "tanh":
        return np.tanh
    if which == "scaledTanh":
        alpha, beta = f32(params.scaledTanh.alpha), f32(params.scaledTanh.beta)
        return lambda x: alpha * np.tanh(beta * x)
    if which == "sigmoid":
        return lambda x: (f32(1) / (f32(1) + np.exp(-x))).astype(np.float32)
    if which == "sigmoidHard":
        alpha, beta = f32(params.sigmoidHard.alpha), f32(params.sigmoidHard.beta)
        return lambda x: np.clip(alpha * x + beta, f32(0), f32(1))
    if which == "ELU":
        alpha = f32(params.ELU.alpha)
        return lambda x: np.where(x >= 0, x, alpha * np.expm1(np.minimum(x, f32(0))))
    if which == "softsign":
        return lambda x: x / (f32(1) + np.abs(x))
    if which == "softplus":
        return lambda x: np.logaddexp(f32(0), x)
    if which == "PReLU":
        slope = _channel_vector(model_type, layer.name, "PReLU.alpha", params.PReLU.alpha)

        def prelu(x: Blob) -> Blob:
            _check_channels(model_type, layer.name, "PReLU.alpha", slope, x.shape[1])
            return np.where(x >= 0, x, slope * x)

        return prelu
    if which == "parametricSoftplus":
        softplus = params.parametricSoftplus
        softplus_alpha = _channel_vector(model_type, layer.name, "parametricSoftplus.alpha", softplus.alpha)
        softplus_beta = _channel_vector(model_type, layer.name, "parametricSoftplus.beta", softplus.beta)

        def parametric_softplus(x: Blob) -> Blob:
            _check_channels(model_type, layer.name, "parametricSoftplus.alpha", softplus_alpha, x.shape[1])
            _check_channels(model_type, layer.name, "parametricSoftplus.beta", softplus_beta, x.shape[1])
            return softplus_alpha * np.logaddexp(f32(0), softplus_beta * x)

        return parametric_softplus
    raise fail(model_type, f"layer {layer.name!r}: activation {which} is not supported; supported: "
                           f"{', '.join(SUPPORTED_ACTIVATIONS)}")


def _check_channels(model_type: str, layer_name: str, field: str, values: np.ndarray, channels: int) -> None:
    # Per-channel parameters have length C or 1 (ActivationPReLU / ActivationParametricSoftplus comments).
    if values.size not in (1, channels):
        raise fail(model_type, f"layer {layer_name!r}: {field} has {values.size} values for {channels} channels")


def _softmax_nd(model_type: str, layer: Any, mapping: int) -> Layer:
    axis = int(layer.softmaxND.axis)
    if mapping == EXACT_ARRAY_MAPPING:
        if axis not in (-1, 0):
            raise fail(model_type, f"layer {layer.name!r}: softmaxND axis {axis} is out of range for a rank-1 blob")
        return _softmax_last_axis
    # RANK5 mapping: blob [1, 1, C, 1, 1]; only the channel axis (2 / -3) has more than one element.
    if axis not in range(-5, 5):
        raise fail(model_type, f"layer {layer.name!r}: softmaxND axis {axis} is out of range for a rank-5 blob")
    if axis % 5 == 2:
        return _softmax_last_axis
    return lambda blob: np.ones_like(blob)


def _unary(model_type: str, layer: Any) -> Layer:
    """UnaryFunctionLayerParams: y = f(scale * x + shift) elementwise, in float32 like every blob here (scale 0
    means 1: proto3 default, coremltools writes scale=1.0 explicitly)."""
    params = layer.unary
    operation = _UNARY.get(int(params.type))
    if operation is None:
        raise fail(model_type, f"layer {layer.name!r}: unary type {int(params.type)} is not supported; supported: "
                               f"{', '.join(name for name, _ in _UNARY.values())}")
    function = operation[1]
    scale = np.float32(params.scale if params.scale != 0 else 1.0)
    shift = np.float32(params.shift)

    def run(blob: Blob) -> Blob:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return function(scale * blob.astype(np.float32) + shift).astype(np.float32)  # type: ignore[no-any-return]

    return run


def compile_layer(model_type: str, layer: Any, mapping: int) -> Layer:
    """One layer as a function of its single input blob."""
    which = layer.WhichOneof("layer")
    if which == "innerProduct":
        return _inner_product(model_type, layer)
    if which == "activation":
        return _activation(model_type, layer)
    if which == "softmax":
        if mapping == EXACT_ARRAY_MAPPING:
            raise fail(model_type, f"layer {layer.name!r}: softmax needs rank >= 3 but EXACT_ARRAY_MAPPING keeps the "
                                   f"rank-1 input; use softmaxND")
        return _softmax_last_axis
    if which == "softmaxND":
        return _softmax_nd(model_type, layer, mapping)
    if which == "unary":
        return _unary(model_type, layer)
    raise fail(model_type, f"layer {layer.name!r} has type {which}; supported layers: {', '.join(SUPPORTED_LAYERS)}")


def _compile_network(model_type: str, spec: Any) -> tuple[Callable[[Mapping[str, Column]], dict[str, Blob]], Any]:
    params = getattr(spec, model_type)
    if len(params.preprocessing):
        raise fail(model_type, "image preprocessing is not supported (inputs must be MultiArray)")
    mapping = int(params.arrayInputShapeMapping)
    if mapping not in (RANK5_ARRAY_MAPPING, EXACT_ARRAY_MAPPING):
        raise fail(model_type, f"arrayInputShapeMapping {mapping} unknown; supported: RANK5_ARRAY_MAPPING, "
                               f"EXACT_ARRAY_MAPPING")
    input_names = []
    for feature in spec.description.input:
        if feature_kind(feature) != "multiArrayType":
            raise fail(model_type, f"input {feature.name!r} is {feature_kind(feature)}; neural network inputs must "
                                   f"be multiArrayType")
        if len(feature.type.multiArrayType.shape) != 1:
            raise fail(model_type, f"input {feature.name!r} has shape {list(feature.type.multiArrayType.shape)}; "
                                   f"only rank-1 [C] inputs are supported")
        multiarray_width(feature)
        input_names.append(feature.name)
    if len(params.layers) == 0:
        raise fail(model_type, "layers is empty")
    available = set(input_names)
    steps = []
    for layer in params.layers:
        if len(layer.input) != 1 or len(layer.output) != 1:
            raise fail(model_type, f"layer {layer.name!r} has {len(layer.input)} inputs and {len(layer.output)} "
                                   f"outputs; supported layers take exactly one of each")
        if layer.input[0] not in available:
            raise fail(model_type, f"layer {layer.name!r} reads blob {layer.input[0]!r} which no earlier layer or "
                                   f"input produces")
        steps.append((layer.input[0], layer.output[0], compile_layer(model_type, layer, mapping)))
        available.add(layer.output[0])

    def run(env: Mapping[str, Column]) -> dict[str, Blob]:
        blobs: dict[str, Blob] = {name: np.asarray(env[name], dtype=np.float32) for name in input_names}
        for source, target, step in steps:
            blobs[target] = np.asarray(step(blobs[source]), dtype=np.float32)
        return blobs

    return run, params


def _blob_output(model_type: str, blobs: Mapping[str, Blob], name: str) -> np.ndarray:
    if name not in blobs:
        raise fail(model_type, f"output {name!r} is not produced by any layer")
    return blobs[name].astype(np.float64)


def build_neural_network(spec: Any, model_type: str = "neuralNetwork") -> Callable[
    [Mapping[str, Column]], dict[str, Column]
]:
    """Evaluator for `neuralNetwork` / `neuralNetworkRegressor`: every output is the blob of the same name."""
    run, _ = _compile_network(model_type, spec)
    outputs = [feature.name for feature in spec.description.output]
    for feature in spec.description.output:
        if feature_kind(feature) not in ("multiArrayType", "doubleType"):
            raise fail(model_type, f"output {feature.name!r} is {feature_kind(feature)}; expected multiArrayType")

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        blobs = run(env)
        return {name: _blob_output(model_type, blobs, name) for name in outputs}

    return evaluate


def build_neural_network_regressor(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `neuralNetworkRegressor`."""
    return build_neural_network(spec, "neuralNetworkRegressor")


def build_neural_network_classifier(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `neuralNetworkClassifier`: probabilities blob -> label (argmax) + probability dictionary."""
    model_type = "neuralNetworkClassifier"
    run, params = _compile_network(model_type, spec)
    labels = label_array(class_label_values(model_type, params) or [])
    probability_blob = params.labelProbabilityLayerName or params.layers[-1].output[0]
    description = spec.description
    other_outputs = [f.name for f in description.output
                     if f.name not in (description.predictedFeatureName, description.predictedProbabilitiesName)]

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        blobs = run(env)
        probabilities = _blob_output(model_type, blobs, probability_blob)
        if probabilities.shape[1] != len(labels):
            raise fail(model_type, f"probability blob {probability_blob!r} has {probabilities.shape[1]} values but "
                                   f"there are {len(labels)} class labels")
        winner = np.argmax(probabilities, axis=1)
        outputs = classifier_outputs(model_type, description, labels, winner, probabilities)
        for name in other_outputs:
            outputs[name] = _blob_output(model_type, blobs, name)
        return outputs

    return evaluate
