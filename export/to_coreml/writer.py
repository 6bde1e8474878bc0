"""IR model → one complete Core ML Model spec: the schema's columns become typed inputs, every body step is lowered
into sub-models reading the steps' named vectors, the head into the producer's classifier/regressor form, all
wrapped in a pipeline."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import assert_never

import numpy as np

from export import ir
from export.errors import ExportFailedError, UnsupportedEstimatorError
from export.to_coreml.category_lookup import category_lookup_models
from export.to_coreml.dict_vectorizer import (
    counts_description,
    dictionary_description,
    term_counts_type,
    text_vectorizer_models,
)
from export.to_coreml.features import Feature, Names, OutputNames, double_type, vector_type
from export.to_coreml.glm import affine_models, glm_classifier_model, glm_regressor_model
from export.to_coreml.imputer import imputer_model
from export.to_coreml.interface import FEATURE_VECTOR_NAME, CoreMLInterface, input_features
from export.to_coreml.metadata import apply_descriptions
from export.to_coreml.naive_bayes import gaussian_naive_bayes_models, quadratic_discriminant_models
from export.to_coreml.nearest_neighbors import nearest_neighbors_model
from export.to_coreml.neural_network import exp_models, nn_classifier_model, nn_regressor_models
from export.to_coreml.normalizer import normalizer_model
from export.to_coreml.one_hot import one_hot_columns_models, one_hot_model
from export.to_coreml.pipeline import (
    PipelineKind,
    array_feature_extractor_model,
    dictionary_vector_models,
    feature_vectorizer_model,
    pipeline_model,
)
from export.to_coreml.protos import Spec
from export.to_coreml.scaler import scaler_model
from export.to_coreml.stumps import bins_model, missing_indicator_model
from export.to_coreml.svm import svm_model
from export.to_coreml.tree_ensemble import tree_ensemble_model
from export.to_coreml.validate import validate_spec

_NO_OUTPUTS = OutputNames("", "", "", "")  # a Transformed pipeline inside a transform writes no head outputs
_NO_OVO_DECISION = ("Core ML: the one-vs-one confidence transform s / (3 (|s| + 1)) has no double-precision "
                    "encoding (no absolute value or division in the GLM/tree models); export this model with "
                    "--formats onnx")
_NO_INTERPOLATION = ("Core ML: piecewise-linear interpolation (isotonic calibration) has no exact encoding — its "
                     "double models (GLM, trees) cannot multiply a computed slope by the score, and a neural network "
                     "computes in float32; export this model with --formats onnx")
_FLOAT32_ONLY = ("has no double-precision Core ML encoding: Core ML classic has it only in neural-network layers, "
                 "which are float32; export ONNX for it")
# IR transforms the Core ML writer refuses, and why (the format's limit, not a missing emitter)
NO_DOUBLE_PRECISION_ENCODING: dict[type, str] = {
    ir.Monomials: f"a product of features (PolynomialFeatures) {_FLOAT32_ONLY}",
    ir.UnaryFunction: f"an elementwise numpy function (FunctionTransformer) {_FLOAT32_ONLY}",
    ir.PowerTransform: f"a power map (PowerTransformer: log, exp) {_FLOAT32_ONLY}",
    ir.BSplines: ("piecewise polynomials (SplineTransformer) have no double-precision Core ML encoding: Core ML "
                  "classic's double models are constant per region (trees) or affine (GLM); export ONNX for it"),
    ir.QuantileMap: ("piecewise-linear interpolation (QuantileTransformer) has no double-precision Core ML encoding: "
                     "Core ML classic's double models are constant per region (trees) or affine (GLM), and it has "
                     "no inverse normal CDF; export ONNX for it"),
}


@dataclass(frozen=True)
class _Lowered:
    """Sub-models to run in order, and the features the last of them leaves for the next stage."""

    models: list[Spec]
    outputs: list[Feature]


def _lower_transform(node: ir.Node, source: Feature, output_name: str, names: Names) -> _Lowered:
    """A transform reading the vector `source` and writing the DOUBLE vector `output_name`."""
    output = Feature(output_name, vector_type(ir.output_width(node)))
    match node:
        case ir.Scaler() | ir.Normalizer() | ir.Imputer() | ir.OneHotEncoder() | ir.Bins() | ir.MissingIndicator():
            return _Lowered([_one_model(node, source, output_name)], [output])
        case ir.ClassifierOutput() | ir.PiecewiseLinear():
            return _lower_classifier_output(node, source, output_name, names)
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
            if _is_scores(node):  # a member's pipeline inside a combinator (BaggingRegressor's feature subsets)
                return _lower_scores(node, source, names)
            return _lower_pipeline(node, ir.Transformed(), source, names, output_name, _NO_OUTPUTS)
        case ir.Monomials() | ir.UnaryFunction() | ir.QuantileMap() | ir.PowerTransform() | ir.BSplines():
            raise UnsupportedEstimatorError(NO_DOUBLE_PRECISION_ENCODING[type(node)])
        case ir.CategoryLookup() | ir.TextVectorizer() | ir.DictVectorizer():
            raise ExportFailedError(f"a {type(node).__name__} reads String columns as a body step of its own, never "
                                    "a numeric vector")
        case ir.TreeEnsemble() | ir.LinearModel() | ir.NeuralNetwork() | ir.SupportVectorMachine() \
                | ir.NearestNeighbors() | ir.GaussianNaiveBayes() | ir.QuadraticDiscriminant() | ir.Average() \
                | ir.OneVsOneDecision():
            return _lower_scores(node, source, names)
        case _:
            assert_never(node)


def _one_model(node: ir.Scaler | ir.Normalizer | ir.Imputer | ir.OneHotEncoder | ir.Bins | ir.MissingIndicator,
               source: Feature, output_name: str) -> Spec:
    """The transforms that are one Core ML model reading `source` and writing the vector `output_name`."""
    match node:
        case ir.Scaler():
            return scaler_model(node, source, output_name)
        case ir.Normalizer():
            return normalizer_model(node, source, output_name)
        case ir.Imputer():
            return imputer_model(node, source, output_name)
        case ir.OneHotEncoder():
            return one_hot_model(node, source, output_name)
        case ir.Bins():
            return bins_model(node, source, output_name)
        case ir.MissingIndicator():
            return missing_indicator_model(node, source, output_name)
        case _:
            assert_never(node)


def _lower_classifier_output(node: ir.ClassifierOutput | ir.PiecewiseLinear, source: Feature, output_name: str,
                             names: Names) -> _Lowered:
    """A member classifier lowered as Core ML's classifier model of its own (its label and probability rule, as
    for a whole model), then its probability Dictionary as a vector in label order (DictVectorizer +
    FeatureVectorizer), or its label one-hot (oneHotEncoder of the Int64/String label, categories = labels).
    Interpolated calibrators (isotonic) are refused: no exact Core ML encoding."""
    if isinstance(node, ir.PiecewiseLinear) or any(isinstance(n, ir.PiecewiseLinear) for n in ir.walk(node.member)):
        raise UnsupportedEstimatorError(_NO_INTERPOLATION)
    if not _is_scores(node.member):
        raise UnsupportedEstimatorError(f"Core ML: a member ending in {type(ir.final_producer(node.member)).__name__}"
                                        " has no classifier model")
    if node.output == "probabilities" and node.rule.link == "ovo_votes" and node.rule.n_classes == 2:
        # a whole SVC model accepts this as a stated 0.5 % tolerance; inside a combination it would pass silently
        raise UnsupportedEstimatorError("Core ML: a binary SVC member's probabilities are libsvm's Platt value "
                                        "itself, scikit-learn couples it (they differ by up to 0.5 %); export this "
                                        "model with --formats onnx")
    rule = node.rule if node.output == "probabilities" else replace(node.rule, has_proba=False)
    inner = OutputNames(names.fresh("member_label"), names.fresh("member_probability"), names.fresh("member_scores"),
                        names.fresh("member_transformed"))
    lowered = _lower_node(node.member, rule, source, names, inner.transformed, inner)
    produced = {feature.name: feature for feature in lowered.outputs}
    labels = rule.labels.tolist()
    if node.output == "probabilities":
        models, output = dictionary_vector_models(produced[inner.probability], labels, names.fresh("member_indexed"),
                                                  output_name)
        return _Lowered([*lowered.models, *models], [output])
    models, outputs = one_hot_columns_models(ir.OneHotEncoder((rule.labels,)), [produced[inner.label]], output_name,
                                             names)
    return _Lowered([*lowered.models, *models], outputs)


def _average_models(node: ir.Average, head: ir.Regression | ir.Classification, source: Feature,
                    outputs: OutputNames, names: Names) -> list[Spec]:
    """The weighted mean as one GLMRegressor row per output column (double; the weights folded into w_i / divisor,
    a few ulp from numpy's sum-then-divide). Averaged probabilities under the identity rule end in a one-layer
    identity neuralNetworkClassifier: Core ML has no double-precision classifier that passes computed
    probabilities through, so this last stage rounds them to float32 (and ranks the rounded values)."""
    coef = np.zeros((node.width, node.n_features))
    for i, weight in enumerate(node.weights.tolist()):
        coef[np.arange(node.width), i * node.width + np.arange(node.width)] = weight / node.divisor
    bias = np.zeros(node.width)
    if isinstance(head, ir.Regression):
        _require_identity(head, "Average")
        if node.width == 1:
            return [glm_regressor_model(coef[0], 0.0, source, Feature(outputs.prediction, double_type()))]
        return affine_models(coef, bias, source, outputs.prediction, names)
    if head.link == "none":  # weighted vote counts whose sums round: the order of additions decides ties
        raise UnsupportedEstimatorError("Core ML: weighted vote counts whose sums round (weights such as 0.1) must "
                                        "be added in scikit-learn's order, and GLMRegressor's order is undocumented; "
                                        "supported for Core ML: integer or binary-fraction weights (ONNX takes any)")
    if head.link != "identity":
        raise ExportFailedError(f"Average: link {head.link!r} over averaged scores; supported: identity, none")
    averaged = Feature(names.fresh("average"), vector_type(node.width))
    identity = ir.DenseLayer(np.eye(node.width), bias, "identity")
    return [*affine_models(coef, bias, source, averaged.name, names),
            nn_classifier_model((identity,), head, averaged, outputs)]


def _lower_model(node: ir.Producer, head: ir.Head, source: Feature, outputs: OutputNames,
                 names: Names) -> _Lowered:
    """A producer reading the vector `source` whose scores `head` turns into the interface's outputs. Core ML's
    model types fuse the two (a treeEnsembleClassifier is trees + its label rule), so each producer's emitter reads
    the head; heads Core ML cannot express are refused here, once."""
    if isinstance(head, ir.Anomaly):
        raise UnsupportedEstimatorError(
            "Core ML: outlier detectors are not exported (the Core ML interface names one predicted feature, so an "
            "app cannot tell the anomaly score from the ±1 label; IsolationForest's 2^x also has no double-precision "
            "Core ML encoding); export this model with --formats onnx")
    head = _supported_head(node, head)
    match node:
        case ir.TreeEnsemble() if isinstance(head, ir.Regression) and head.link == "exp":
            # Core ML has no exp postEvaluationTransform: the ensemble writes raw scores into a fresh vector and a
            # unary EXP network stage applies the link (the one Core ML lowering of the exp link)
            scores = names.fresh("tree_scores")
            ensemble = tree_ensemble_model(node, ir.Regression(n_targets=head.n_targets), source,
                                           replace(outputs, prediction=scores), vector_output=True)
            models = [ensemble, *exp_models(Feature(scores, vector_type(node.n_outputs)), head.n_targets,
                                            outputs, names)]
        case ir.TreeEnsemble():
            models = [tree_ensemble_model(node, head, source, outputs)]
        case ir.LinearModel():
            models = _linear_model_models(node, head, source, outputs, names)
        case ir.NeuralNetwork():
            models = _neural_network_models(node.layers, head, source, outputs, names)
        case ir.SupportVectorMachine():
            models = [svm_model(node, head, source, outputs)]
        case ir.NearestNeighbors():
            if not isinstance(head, ir.Classification):
                raise UnsupportedEstimatorError("Core ML: k-NN regression has no exact encoding (the only neighbour "
                                                "model, kNearestNeighborsClassifier, is a classifier with float32 "
                                                "samples); export this model with --formats onnx")
            models = [nearest_neighbors_model(node, head, source, outputs)]
        case ir.GaussianNaiveBayes():
            if not isinstance(head, ir.Classification):
                raise ExportFailedError("GaussianNaiveBayes needs a Classification head")
            models = gaussian_naive_bayes_models(node, head, source, outputs, names)
        case ir.QuadraticDiscriminant():
            if not isinstance(head, ir.Classification):
                raise ExportFailedError("QuadraticDiscriminant needs a Classification head")
            models = quadratic_discriminant_models(node, head, source, outputs, names)
        case ir.Average():
            models = _average_models(node, head, source, outputs, names)
        case ir.OneVsOneDecision():
            raise UnsupportedEstimatorError(_NO_OVO_DECISION)
        case _:
            assert_never(node)
    last = models[-1].description.output
    return _Lowered(models, [Feature(feature.name, feature.type) for feature in last])


def _supported_head(node: ir.Producer, head: ir.Head) -> ir.Regression | ir.Classification:
    """The head, if Core ML can fuse it with `node`: a classification, or a regression whose link is the identity
    (or exp / logistic after a tree ensemble, its float32 exp stage and post-transform; exp after a float32
    network)."""
    if not isinstance(head, (ir.Regression, ir.Classification)):
        raise ExportFailedError(f"the Core ML writer has no encoding for a {type(head).__name__} head; supported: "
                                "Regression, Classification, Transformed")
    if isinstance(head, ir.Regression) and head.link != "identity" and not (
            isinstance(node, ir.TreeEnsemble) and head.link in ("exp", "logistic")) and not (
            isinstance(node, ir.NeuralNetwork) and head.link == "exp"):  # MLPRegressor(loss='poisson')
        _require_identity(head, type(node).__name__)
    return head


def _require_identity(head: ir.Regression, producer: str) -> None:
    if head.link != "identity":
        # Core ML's GLMRegressor has no link; a neural-network exp layer would compute in float32 (not exact).
        raise UnsupportedEstimatorError(f"{producer}: regression link {head.link!r} has no exact Core ML encoding; "
                                        "supported: identity (export ONNX for this model)")


def _neural_network_models(layers: tuple[ir.DenseLayer, ...], head: ir.Regression | ir.Classification,
                           source: Feature, outputs: OutputNames, names: Names) -> list[Spec]:
    if isinstance(head, ir.Classification):
        return [nn_classifier_model(layers, head, source, outputs)]
    if head.link == "exp":
        # MLPRegressor(loss='poisson'): the network is float32 already, so the unary EXP stage after its raw
        # [T] scores (as for tree ensembles) keeps the model within the same float32 bound.
        network = nn_regressor_models(layers, head.n_targets, source, replace(outputs, prediction=names.fresh(
            "nn_scores")), names)[0]  # T == 1: the [1] vector before its extractor
        scores = network.description.output[0]
        return [network, *exp_models(Feature(scores.name, scores.type), head.n_targets, outputs, names)]
    _require_identity(head, "NeuralNetwork")
    return nn_regressor_models(layers, head.n_targets, source, outputs, names)


def _linear_model_models(node: ir.LinearModel, head: ir.Regression | ir.Classification, source: Feature,
                         outputs: OutputNames, names: Names) -> list[Spec]:
    if isinstance(head, ir.Classification):
        if head.link == "softmax" or (head.link == "none" and head.n_classes > 2):
            # GLMClassifier has no softmax (§1.3): softmax → a one-layer network, innerProduct + softmax (float32
            # weights). 'none' with K scores → the same network without softmax (label = argmax of the raw
            # scores): GLMClassifier's OvR σ(z_k) saturates to 1.0 for z_k > ~37, so unscaled scores (Perceptron)
            # would tie and pick the wrong class.
            layer = ir.DenseLayer(node.coef, node.intercept, "identity")
            return [nn_classifier_model((layer,), head, source, outputs)]
        return [glm_classifier_model(node, head, source, outputs)]
    _require_identity(head, "LinearModel")
    if node.coef.shape[0] != head.n_targets:
        raise ExportFailedError(f"LinearModel: {node.coef.shape[0]} score rows for {head.n_targets} targets")
    if head.n_targets == 1:
        return [glm_regressor_model(node.coef[0], float(node.intercept[0]), source,
                                    Feature(outputs.prediction, double_type()))]
    # Multi-target: GLMRegressor outputs must be Double, so one regressor per target + a FeatureVectorizer.
    return affine_models(node.coef, node.intercept, source, outputs.prediction, names)


def _lower_scores(node: ir.Node, source: Feature, names: Names) -> _Lowered:
    """A producer inside the body (its scores feed later steps, e.g. stacking): lowered as a regressor of its raw
    scores into a fresh DOUBLE vector."""
    width = ir.output_width(node)
    inner = OutputNames(names.fresh("label"), names.fresh("probability"), names.fresh("scores"),
                        names.fresh("transformed"))
    if isinstance(node, ir.Pipeline):
        lowered = _lower_pipeline(node, ir.Regression(width), source, names, inner.transformed, inner)
    else:
        assert isinstance(node, ir.PRODUCER_TYPES)
        lowered = _lower_model(node, ir.Regression(width), source, inner, names)
    scores = lowered.outputs[0]
    if scores.type.WhichOneof("Type") == "doubleType":  # one target: a Double; later steps read vectors
        vectorizer, vector = feature_vectorizer_model([scores], names.fresh("scores_vector"))
        return _Lowered([*lowered.models, vectorizer], [vector])
    return lowered


def _lower_pipeline(node: ir.Pipeline, head: ir.Head, source: Feature, names: Names, final_output: str,
                    outputs: OutputNames) -> _Lowered:
    """Steps in order; the last one writes `final_output` (Transformed head) or the head's outputs."""
    models: list[Spec] = []
    current = source
    for index, step in enumerate(node.steps):
        if index == len(node.steps) - 1:
            lowered = _lower_node(step, head, current, names, final_output, outputs)
        elif _is_scores(step):
            lowered = _lower_scores(step, current, names)
        else:
            lowered = _lower_transform(step, current, names.fresh("step"), names)
        models.extend(lowered.models)
        current = lowered.outputs[0]
    return _Lowered(models, lowered.outputs)


def _is_scores(node: ir.Node) -> bool:
    """Whether `node` ends in a score producer (its output is raw scores, lowered through `_lower_scores`)."""
    return isinstance(ir.final_producer(node), ir.PRODUCER_TYPES)


def _lower_node(node: ir.Node, head: ir.Head, source: Feature, names: Names, final_output: str,
                outputs: OutputNames) -> _Lowered:
    """The last node of the body: a transform (Transformed head), a producer with its head, or a pipeline."""
    if isinstance(node, ir.Pipeline):
        return _lower_pipeline(node, head, source, names, final_output, outputs)
    if isinstance(head, ir.Transformed):
        if _is_scores(node):
            raise ExportFailedError(f"{type(node).__name__} produces scores but the head is Transformed; give the "
                                    "model its head (Regression, Classification, ...)")
        return _lower_transform(node, source, final_output, names)
    if isinstance(node, ir.PRODUCER_TYPES):
        return _lower_model(node, head, source, outputs, names)
    raise ExportFailedError(f"the body ends in a {type(node).__name__} (a transform) under a {type(head).__name__} "
                            "head; the Core ML writer needs a score producer last")


def _step_source(model: ir.Model, step: ir.Step, env: dict[str, Feature], names: Names) -> tuple[list[Spec], Feature]:
    """The one DOUBLE vector a step reads: its input itself when that is one vector, else a FeatureVectorizer of its
    inputs side by side (Double/Int64 scalars and vectors, §0.3). The vectorizer of the whole schema keeps
    coremltools' name `__feature_vector__`."""
    sources = [env[name] for name in step.inputs]
    if len(sources) == 1 and sources[0].type.WhichOneof("Type") == "multiArrayType":
        return [], sources[0]
    whole_schema = step.inputs == model.inputs.names and FEATURE_VECTOR_NAME not in names.used
    name = FEATURE_VECTOR_NAME if whole_schema else names.fresh("inputs")
    names.used.add(name)
    vectorizer, source = feature_vectorizer_model(sources, name)
    return [vectorizer], source


def to_spec(model: ir.Model, interface: CoreMLInterface) -> Spec:
    """The complete, validated Model spec for `model` with the outputs and metadata of `interface`."""
    interface.check_inputs(model.inputs)
    if any(isinstance(node, ir.OneVsOneDecision) for node in model.nodes()):
        raise UnsupportedEstimatorError(_NO_OVO_DECISION)  # before its inputs (libsvm's raw pairwise values)
    text_columns = model.text_columns()
    dictionary_columns = model.dictionary_columns()
    inputs = [Feature(feature.name, term_counts_type()) if column.name in text_columns else feature
              for column, feature in zip(model.inputs.columns, input_features(model.inputs), strict=True)]
    outputs = interface.output_names
    names = Names({*(feature.name for feature in inputs), outputs.label, outputs.probability, outputs.prediction,
                   outputs.transformed})
    env = {column.name: feature for column, feature in zip(model.inputs.columns, inputs, strict=True)}
    models: list[Spec] = []
    for index, step in enumerate(model.body):
        last = index == len(model.body) - 1
        target = outputs.transformed if last else names.fresh("step")
        if isinstance(step.node, (ir.CategoryLookup, ir.TextVectorizer, ir.DictVectorizer)):
            if last and not isinstance(model.head, ir.Transformed):
                raise ExportFailedError(f"step {step.name!r} (a {type(step.node).__name__}) is a transform; a model "
                                        "head needs a score producer last")
            if isinstance(step.node, ir.DictVectorizer):
                models, vector = dictionary_vector_models(env[step.inputs[0]], step.node.terms,
                                                          names.fresh("term_indexes"), target)
                lowered = _Lowered(models, [vector])
            elif isinstance(step.node, ir.TextVectorizer):
                lowered = _Lowered(*text_vectorizer_models(step.node, env[step.inputs[0]], target, names))
            else:
                lowered = _Lowered(*category_lookup_models(step.node, [env[n] for n in step.inputs], target, names))
        elif model.reads_columns_one_by_one(step):
            if not isinstance(step.node, ir.OneHotEncoder) or (last and not isinstance(model.head, ir.Transformed)):
                raise ExportFailedError(f"step {step.name!r} reads string/int64 columns one by one; only a "
                                        "OneHotEncoder can, and it is a transform")
            lowered = _Lowered(*one_hot_columns_models(step.node, [env[n] for n in step.inputs], target, names))
        else:
            vectorizers, source = _step_source(model, step, env, names)
            models.extend(vectorizers)
            if last:
                lowered = _lower_node(step.node, model.head, source, names, target, outputs)
            elif _is_scores(step.node):
                lowered = _lower_scores(step.node, source, names)
            else:
                lowered = _lower_transform(step.node, source, target, names)
        models.extend(lowered.models)
        env[step.name] = lowered.outputs[0]
    head = model.head
    # A transformer export is never a regressor at the top (parity and apps read predictedFeatureName as "the
    # prediction"): a lone regressor-typed sub-model (the exact one-hot's treeEnsembleRegressor) goes in a pipeline.
    if len(models) == 1 and not (isinstance(head, ir.Transformed) and models[0].description.predictedFeatureName):
        spec = models[0]
    else:
        spec = head_pipeline(head, models, inputs, lowered.outputs, outputs)
    apply_descriptions(spec, interface, model.inputs)
    for column, feature in zip(model.inputs.columns, spec.description.input, strict=True):
        if column.name in text_columns:
            feature.shortDescription = counts_description(column.name, text_columns[column.name])
        elif column.name in dictionary_columns:
            feature.shortDescription = dictionary_description(column.name, dictionary_columns[column.name])
    validate_spec(spec)
    return spec


def head_pipeline(head: ir.Head, models: list[Spec], inputs: list[Feature], produced: list[Feature],
                  outputs: OutputNames) -> Spec:
    """`models` in a pipeline of the head's kind, with the predicted feature (and probabilities) named."""
    kind: PipelineKind = ("pipelineClassifier" if isinstance(head, ir.Classification) else
                          "pipelineRegressor" if isinstance(head, ir.Regression) else "pipeline")
    spec = pipeline_model(kind, models, inputs, produced)
    names = {feature.name for feature in produced}
    if isinstance(head, ir.Classification):
        spec.description.predictedFeatureName = outputs.label
        if outputs.probability in names:
            spec.description.predictedProbabilitiesName = outputs.probability
    elif isinstance(head, ir.Regression):
        spec.description.predictedFeatureName = outputs.prediction
    return spec
