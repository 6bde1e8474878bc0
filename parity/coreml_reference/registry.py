"""Dispatch of the Core ML reference evaluator: spec type name (the Model `oneof Type` field) -> evaluator builder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from parity.coreml_reference import (
    array_feature_extractor,
    categorical_mapping,
    dict_vectorizer,
    feature_vectorizer,
    glm,
    identity,
    imputer,
    k_nearest_neighbors,
    neural_network,
    normalizer,
    one_hot_encoder,
    scaler,
    svm,
    tree_ensemble,
)
from parity.coreml_reference.feature_columns import Column
from parity.coreml_reference.pipeline import build_pipeline_of
from parity.coreml_reference.validation import validate_model
from parity.errors import CoreMLSpecError

Evaluate = Callable[[Mapping[str, Column]], dict[str, Column]]


def build_evaluator(spec: Any) -> Evaluate:
    """Validate a (sub-)model spec and compile it into a function of its input columns."""
    model_type = validate_model(spec)
    builder = EVALUATORS.get(model_type)
    if builder is None:
        raise CoreMLSpecError(
            f"Model type {model_type!r} is not supported by the Core ML reference evaluator; supported: "
            f"{', '.join(sorted(EVALUATORS))}"
        )
    evaluate = builder(spec)
    output_names = [feature.name for feature in spec.description.output]

    def evaluate_checked(env: Mapping[str, Column]) -> dict[str, Column]:
        produced = evaluate(env)
        missing = [name for name in output_names if name not in produced]
        if missing:
            raise CoreMLSpecError(f"{model_type}: declared output(s) {missing} are not produced by this model type")
        return {name: produced[name] for name in output_names}

    return evaluate_checked


EVALUATORS: dict[str, Callable[[Any], Evaluate]] = {
    "treeEnsembleRegressor": tree_ensemble.build_tree_ensemble_regressor,
    "treeEnsembleClassifier": tree_ensemble.build_tree_ensemble_classifier,
    "glmRegressor": glm.build_glm_regressor,
    "glmClassifier": glm.build_glm_classifier,
    "supportVectorRegressor": svm.build_support_vector_regressor,
    "supportVectorClassifier": svm.build_support_vector_classifier,
    "kNearestNeighborsClassifier": k_nearest_neighbors.build_k_nearest_neighbors_classifier,
    "neuralNetwork": neural_network.build_neural_network,
    "neuralNetworkClassifier": neural_network.build_neural_network_classifier,
    "neuralNetworkRegressor": neural_network.build_neural_network_regressor,
    "scaler": scaler.build_scaler,
    "normalizer": normalizer.build_normalizer,
    "imputer": imputer.build_imputer,
    "oneHotEncoder": one_hot_encoder.build_one_hot_encoder,
    "arrayFeatureExtractor": array_feature_extractor.build_array_feature_extractor,
    "featureVectorizer": feature_vectorizer.build_feature_vectorizer,
    "dictVectorizer": dict_vectorizer.build_dict_vectorizer,
    "categoricalMapping": categorical_mapping.build_categorical_mapping,
    "identity": identity.build_identity,
    "pipeline": build_pipeline_of("pipeline", build_evaluator),
    "pipelineClassifier": build_pipeline_of("pipelineClassifier", build_evaluator),
    "pipelineRegressor": build_pipeline_of("pipelineRegressor", build_evaluator),
}
