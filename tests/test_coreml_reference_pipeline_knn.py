"""Hand-computed checks of the Core ML reference evaluator on pipeline and kNearestNeighborsClassifier specs."""

from __future__ import annotations

import numpy as np
import pytest

from parity.coreml_reference import class_labels, output_kinds, predict
from parity.coreml_reference.spec_loading import FeatureTypes_pb2, Model_pb2
from parity.errors import CoreMLSpecError

DOUBLE, FLOAT32 = FeatureTypes_pb2.ArrayFeatureType.DOUBLE, FeatureTypes_pb2.ArrayFeatureType.FLOAT32


def add(features: object, name: str, kind: str | int, data_type: int = DOUBLE) -> None:
    feature = features.add()  # type: ignore[attr-defined]
    feature.name = name
    if isinstance(kind, int):
        feature.type.multiArrayType.shape.append(kind)
        feature.type.multiArrayType.dataType = data_type
    elif kind == "dict_int":
        feature.type.dictionaryType.int64KeyType.SetInParent()
    elif kind == "dict_str":
        feature.type.dictionaryType.stringKeyType.SetInParent()
    else:
        getattr(feature.type, f"{kind}Type").SetInParent()


def stage(inputs: list[tuple], outputs: list[tuple]) -> Model_pb2.Model:
    spec = Model_pb2.Model()
    spec.specificationVersion = 1
    for args in inputs:
        add(spec.description.input, *args)
    for args in outputs:
        add(spec.description.output, *args)
    return spec


def vectorizer_scaler_glm(scaler_input_type: int = DOUBLE) -> Model_pb2.Model:
    vectorizer = stage([("a", "double"), ("b", "double")], [("__fv__", 2)])
    vectorizer.featureVectorizer.inputList.add(inputColumn="a", inputDimensions=1)
    vectorizer.featureVectorizer.inputList.add(inputColumn="b", inputDimensions=1)
    scaler = stage([("__fv__", 2, scaler_input_type)], [("__fv__", 2)])  # overwrites the same name, as coremltools does
    scaler.scaler.shiftValue.extend([1.0, -1.0])
    scaler.scaler.scaleValue.extend([2.0, 3.0])
    glm = stage([("__fv__", 2)], [("y", "double")])
    glm.description.predictedFeatureName = "y"
    glm.glmRegressor.weights.add().value.extend([0.5, -1.0])
    glm.glmRegressor.offset.append(4.0)
    pipeline = stage([("a", "double"), ("b", "double")], [("y", "double")])
    pipeline.description.predictedFeatureName = "y"
    pipeline.pipelineRegressor.pipeline.models.extend([vectorizer, scaler, glm])
    return pipeline


def test_pipeline_features_flow_through_stages_and_overwrite_names() -> None:
    a, b = np.array([0.0, 2.0]), np.array([1.0, -3.0])
    expected = 0.5 * (2.0 * (a + 1.0)) - 1.0 * (3.0 * (b - 1.0)) + 4.0
    spec = vectorizer_scaler_glm()
    np.testing.assert_allclose(predict(spec, {"a": a, "b": b})["y"], expected, rtol=1e-15)
    np.testing.assert_allclose(predict(spec, np.column_stack([a, b]))["y"], expected, rtol=1e-15)
    assert output_kinds(spec) == {"y": "prediction"}


def test_pipeline_type_mismatch_between_stages_is_a_spec_error() -> None:
    # coremltools issue #1018: a FLOAT32 input fed by a DOUBLE FeatureVectorizer output is invalid in Core ML.
    with pytest.raises(CoreMLSpecError, match="does not match the type"):
        predict(vectorizer_scaler_glm(scaler_input_type=FLOAT32), {"a": [0.0], "b": [0.0]})


def test_pipeline_missing_feature_or_output_is_a_spec_error() -> None:
    spec = vectorizer_scaler_glm()
    spec.pipelineRegressor.pipeline.models[2].description.input[0].name = "nowhere"
    with pytest.raises(CoreMLSpecError, match="'nowhere'"):
        predict(spec, {"a": [0.0], "b": [0.0]})
    spec = vectorizer_scaler_glm()
    spec.description.output[0].name = "z"
    spec.description.predictedFeatureName = "z"
    with pytest.raises(CoreMLSpecError, match="'z'"):
        predict(spec, {"a": [0.0], "b": [0.0]})


def test_pipeline_classifier_labels_come_from_its_classifier() -> None:
    vectorizer = stage([("a", "double")], [("__fv__", 1)])
    vectorizer.featureVectorizer.inputList.add(inputColumn="a", inputDimensions=1)
    tree = stage([("__fv__", 1)], [("label", "string"), ("probs", "dict_str")])
    tree.description.predictedFeatureName, tree.description.predictedProbabilitiesName = "label", "probs"
    tree.treeEnsembleClassifier.stringClassLabels.vector.extend(["lo", "hi"])
    ensemble = tree.treeEnsembleClassifier.treeEnsemble
    ensemble.numPredictionDimensions = 1
    ensemble.nodes.add(treeId=0, nodeId=0, nodeBehavior=0, branchFeatureValue=0.0, trueChildNodeId=1,
                       falseChildNodeId=2)
    ensemble.nodes.add(treeId=0, nodeId=1, nodeBehavior=6).evaluationInfo.add(evaluationValue=0.25)
    ensemble.nodes.add(treeId=0, nodeId=2, nodeBehavior=6).evaluationInfo.add(evaluationValue=0.75)
    pipeline = stage([("a", "double")], [("label", "string"), ("probs", "dict_str")])
    pipeline.description.predictedFeatureName, pipeline.description.predictedProbabilitiesName = "label", "probs"
    pipeline.pipelineClassifier.pipeline.models.extend([vectorizer, tree])
    out = predict(pipeline, {"a": [-1.0, 1.0]})
    assert class_labels(pipeline) == ["lo", "hi"]
    assert out["label"].tolist() == ["lo", "hi"]
    np.testing.assert_allclose(out["probs"], [[0.75, 0.25], [0.25, 0.75]])


# --- k nearest neighbours ----------------------------------------------------------------------------------------

def knn(samples: list[list[float]], labels: list, k: int, inverse_distance: bool = False) -> Model_pb2.Model:
    spec = stage([("x", len(samples[0]) if samples else 2)], [("label", "string"), ("probs", "dict_str")])
    spec.specificationVersion = 4
    spec.description.predictedFeatureName = "label"
    spec.description.predictedProbabilitiesName = "probs"
    params = spec.kNearestNeighborsClassifier
    index = params.nearestNeighborsIndex
    index.numberOfDimensions = len(samples[0]) if samples else 2
    for sample in samples:
        index.floatSamples.add().vector.extend(sample)
    index.linearIndex.SetInParent()
    index.squaredEuclideanDistance.SetInParent()
    params.numberOfNeighbors.defaultValue = k
    params.stringClassLabels.vector.extend(labels)
    params.defaultStringLabel = "none"
    (params.inverseDistanceWeighting if inverse_distance else params.uniformWeighting).SetInParent()
    return spec


SAMPLES = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [6.0, 5.0]]
LABELS = ["a", "a", "b", "b", "b"]


def test_knn_majority_vote_of_k_nearest_samples() -> None:
    spec = knn(SAMPLES, LABELS, k=3)
    out = predict(spec, np.array([[0.1, 0.1], [5.5, 4.0], [0.2, 2.0]]))
    # row 0: nearest (0,0)a (1,0)a (0,1)b -> a; row 1: (5,5)b (6,5)b (1,0)a -> b
    # row 2: (0,1)b (0,0)a (1,0)a -> a
    assert out["label"].tolist() == ["a", "b", "a"]
    np.testing.assert_allclose(out["probs"][0], [2 / 3, 1 / 3])
    assert class_labels(spec) == ["a", "b"]


def test_knn_vote_tie_goes_to_smallest_label() -> None:
    spec = knn(SAMPLES, LABELS, k=2)
    # nearest two of (0, 0.5): (0,0)a and (0,1)b, both at squared distance 0.25 -> one vote each -> "a"
    assert predict(spec, np.array([[0.0, 0.5]]))["label"].tolist() == ["a"]


def test_knn_inverse_distance_weights_use_squared_distance() -> None:
    spec = knn([[0.0], [3.0], [4.0]], ["a", "b", "b"], k=3, inverse_distance=True)
    spec.kNearestNeighborsClassifier.nearestNeighborsIndex.numberOfDimensions = 1
    spec.description.input[0].type.multiArrayType.shape[:] = [1]
    # x = 1: squared distances 1, 4, 9 -> weights a: 1, b: 1/4 + 1/9 = 0.36 -> "a"
    out = predict(spec, np.array([[1.0]]))
    assert out["label"].tolist() == ["a"]
    np.testing.assert_allclose(out["probs"][0], np.array([1.0, 1 / 4 + 1 / 9]) / (1 + 1 / 4 + 1 / 9))


def test_knn_empty_index_predicts_default_label_and_inconsistent_index_is_error() -> None:
    spec = knn([], [], k=1)
    spec.description.output.pop()
    spec.description.predictedProbabilitiesName = ""
    assert predict(spec, np.zeros((2, 2)))["label"].tolist() == ["none", "none"]
    bad = knn(SAMPLES, LABELS[:-1], k=1)
    with pytest.raises(CoreMLSpecError, match="one label per sample"):
        predict(bad, np.zeros((1, 2)))


def test_knn_matches_sklearn_uniform_neighbours() -> None:
    from sklearn.datasets import make_classification
    from sklearn.neighbors import KNeighborsClassifier

    x, y = make_classification(n_samples=150, n_features=3, n_informative=3, n_redundant=0, random_state=2)
    x = x.astype(np.float32).astype(np.float64)  # Core ML stores samples as float32
    model = KNeighborsClassifier(n_neighbors=5).fit(x, y)
    spec = knn(x.tolist(), [str(v) for v in y], k=5)
    probe = np.random.default_rng(0).normal(size=(40, 3))
    out = predict(spec, probe)
    np.testing.assert_array_equal(out["label"].astype(int), model.predict(probe))
    np.testing.assert_allclose(out["probs"], model.predict_proba(probe))
