"""IR node → one complete Core ML Model spec: lowers every node into typed sub-models and wraps them in a pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import Feature, Names, OutputNames, double_type, vector_type
from export.to_coreml.glm import affine_models, glm_classifier_model, glm_regressor_model
from export.to_coreml.imputer import imputer_model
from export.to_coreml.interface import FEATURE_VECTOR_NAME, CoreMLInterface
from export.to_coreml.metadata import apply_descriptions
from export.to_coreml.nearest_neighbors import nearest_neighbors_model
from export.to_coreml.neural_network import nn_classifier_model, nn_regressor_models
from export.to_coreml.normalizer import normalizer_model
from export.to_coreml.one_hot import one_hot_model
from export.to_coreml.pipeline import (
    PipelineKind,
    array_feature_extractor_model,
    feature_vectorizer_model,
    pipeline_model,
)
from export.to_coreml.protos import Spec
from export.to_coreml.scaler import scaler_model
from export.to_coreml.svm import svm_model
from export.to_coreml.tree_ensemble import tree_ensemble_model
from export.to_coreml.validate import validate_spec


@dataclass(frozen=True)
class _Lowered:
    """Sub-models to run in order, and the features the last of them leaves for the next stage."""

    models: list[Spec]
    outputs: list[Feature]


def _output_width(node: ir.Node) -> int:
    """Width of a transform's output row."""
    match node:
        case ir.Scaler() | ir.Normalizer() | ir.Imputer():
            return node.n_features
        case ir.OneHotEncoder():
            return node.n_outputs
        case ir.Linear():
            return int(node.weights.shape[0])
        case ir.ColumnSelect():
            return int(node.indices.size)
        case ir.Concat():
            return sum(_output_width(part) for part in node.parts)
        case ir.Pipeline():
            return _output_width(node.final)
        case ir.TreeEnsemble() | ir.LinearModel() | ir.NeuralNetwork() | ir.SupportVectorMachine() \
                | ir.NearestNeighbors():
            raise ExportFailedError(f"{type(node).__name__} is a model, not a transform")
        case _:
            assert_never(node)


def _lower_transform(node: ir.Node, source: Feature, output_name: str, names: Names) -> _Lowered:
    """A transform reading the vector `source` and writing the DOUBLE vector `output_name`."""
    output = Feature(output_name, vector_type(_output_width(node)))
    match node:
        case ir.Scaler():
            return _Lowered([scaler_model(node, source, output_name)], [output])
        case ir.Normalizer():
            return _Lowered([normalizer_model(node, source, output_name)], [output])
        case ir.Imputer():
            return _Lowered([imputer_model(node, source, output_name)], [output])
        case ir.OneHotEncoder():
            return _Lowered([one_hot_model(node, source, output_name)], [output])
        case ir.Linear():
            return _Lowered(affine_models(node.weights, node.bias, source, output_name, names), [output])
        case ir.ColumnSelect():
            if node.n_features != source.width:
                raise ExportFailedError(f"ColumnSelect reads {node.n_features} features but its input has "
                                        f"{source.width}")
            return _Lowered([array_feature_extractor_model(source, node.indices.tolist(), output)], [output])
        case ir.Concat():
            if len(node.parts) == 1:
                return _lower_transform(node.parts[0], source, output_name, names)
            models: list[Spec] = []
            part_outputs: list[Feature] = []
            for part in node.parts:
                lowered = _lower_transform(part, source, names.fresh("concat_part"), names)
                models.extend(lowered.models)
                part_outputs.extend(lowered.outputs)
            vectorizer, _ = feature_vectorizer_model(part_outputs, output_name)
            return _Lowered([*models, vectorizer], [output])
        case ir.Pipeline():
            return _lower_pipeline(node, source, names, final_output=output_name, outputs=None)
        case ir.TreeEnsemble() | ir.LinearModel() | ir.NeuralNetwork() | ir.SupportVectorMachine() \
                | ir.NearestNeighbors():
            raise ExportFailedError(f"{type(node).__name__} is a model; it can only be the last pipeline step")
        case _:
            assert_never(node)


def _lower_model(node: ir.Model, source: Feature, outputs: OutputNames, names: Names) -> _Lowered:
    """A model reading the vector `source` and writing the interface's label/probability or prediction."""
    match node:
        case ir.TreeEnsemble():
            models = [tree_ensemble_model(node, source, outputs)]
        case ir.LinearModel():
            models = _linear_model_models(node, source, outputs, names)
        case ir.NeuralNetwork():
            models = _neural_network_models(node.layers, node.task, source, outputs, names)
        case ir.SupportVectorMachine():
            models = [svm_model(node, source, outputs)]
        case ir.NearestNeighbors():
            models = [nearest_neighbors_model(node, source, outputs)]
        case _:
            assert_never(node)
    last = models[-1].description.output
    return _Lowered(models, [Feature(feature.name, feature.type) for feature in last])


def _neural_network_models(layers: tuple[ir.DenseLayer, ...], task: ir.Task, source: Feature,
                           outputs: OutputNames, names: Names) -> list[Spec]:
    if isinstance(task, ir.Classification):
        return [nn_classifier_model(layers, task, source, outputs)]
    return nn_regressor_models(layers, task.n_targets, source, outputs, names)


def _linear_model_models(node: ir.LinearModel, source: Feature, outputs: OutputNames, names: Names) -> list[Spec]:
    task = node.task
    if isinstance(task, ir.Classification):
        if task.link == "softmax" or (task.link == "none" and task.n_classes > 2):
            # GLMClassifier has no softmax (§1.3): softmax → a one-layer network, innerProduct + softmax (float32
            # weights). 'none' with K scores → the same network without softmax (label = argmax of the raw
            # scores): GLMClassifier's OvR σ(z_k) saturates to 1.0 for z_k > ~37, so unscaled scores (Perceptron)
            # would tie and pick the wrong class.
            layer = ir.DenseLayer(node.coef, node.intercept, "identity")
            return [nn_classifier_model((layer,), task, source, outputs)]
        return [glm_classifier_model(node, source, outputs)]
    if node.coef.shape[0] != task.n_targets:
        raise ExportFailedError(f"LinearModel: {node.coef.shape[0]} score rows for {task.n_targets} targets")
    if task.n_targets == 1:
        return [glm_regressor_model(node.coef[0], float(node.intercept[0]), source,
                                    Feature(outputs.prediction, double_type()))]
    # Multi-target: GLMRegressor outputs must be Double, so one regressor per target + a FeatureVectorizer.
    return affine_models(node.coef, node.intercept, source, outputs.prediction, names)


def _lower_pipeline(node: ir.Pipeline, source: Feature, names: Names, final_output: str | None,
                    outputs: OutputNames | None) -> _Lowered:
    models: list[Spec] = []
    current = source
    for index, step in enumerate(node.steps):
        last = index == len(node.steps) - 1
        if isinstance(step, ir.MODEL_TYPES):
            if outputs is None:
                raise ExportFailedError("a model can only be the last step of the top-level pipeline")
            lowered = _lower_model(step, current, outputs, names)
        elif last and isinstance(step, ir.Pipeline) and outputs is not None and ir.task_of(step) is not None:
            lowered = _lower_pipeline(step, current, names, final_output, outputs)  # nested pipeline ending in a model
        else:
            target = final_output if last and final_output is not None else names.fresh("step")
            lowered = _lower_transform(step, current, target, names)
        models.extend(lowered.models)
        if last:
            return _Lowered(models, lowered.outputs)
        current = lowered.outputs[0]
    raise ExportFailedError("Pipeline has no steps")


def to_spec(node: ir.Node, interface: CoreMLInterface) -> Spec:
    """The complete, validated Model spec for `node` with the inputs, outputs and metadata of `interface`."""
    inputs = interface.input_features()
    outputs = interface.output_names
    names = Names({*interface.input_feature_names, outputs.label, outputs.probability, outputs.prediction,
                   outputs.transformed, FEATURE_VECTOR_NAME})
    models: list[Spec] = []
    if interface.input_names is not None:
        # Named Double inputs → one DOUBLE vector first, as coremltools does (§0.3); then the model reads it.
        vectorizer, source = feature_vectorizer_model(inputs, FEATURE_VECTOR_NAME)
        models.append(vectorizer)
    else:
        source = inputs[0]
    task = ir.task_of(node)
    if isinstance(node, ir.Pipeline):
        lowered = _lower_pipeline(node, source, names, final_output=outputs.transformed,
                                  outputs=outputs if task is not None else None)
    elif isinstance(node, ir.MODEL_TYPES):
        lowered = _lower_model(node, source, outputs, names)
    else:
        lowered = _lower_transform(node, source, outputs.transformed, names)
    models.extend(lowered.models)
    spec = models[0] if len(models) == 1 else task_pipeline(task, models, inputs, lowered.outputs, outputs)
    apply_descriptions(spec, interface)
    validate_spec(spec)
    return spec


def task_pipeline(task: ir.Task | None, models: list[Spec], inputs: list[Feature], produced: list[Feature],
                  outputs: OutputNames) -> Spec:
    """`models` in a pipeline of the task's kind, with the predicted feature (and probabilities) named."""
    kind: PipelineKind = ("pipeline" if task is None else
                          "pipelineClassifier" if isinstance(task, ir.Classification) else "pipelineRegressor")
    spec = pipeline_model(kind, models, inputs, produced)
    names = {feature.name for feature in produced}
    if isinstance(task, ir.Classification):
        spec.description.predictedFeatureName = outputs.label
        if outputs.probability in names:
            spec.description.predictedProbabilitiesName = outputs.probability
    elif isinstance(task, ir.Regression):
        spec.description.predictedFeatureName = outputs.prediction
    return spec
