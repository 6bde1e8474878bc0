"""Fuzzing the Core ML reference evaluator: mutated real specs may only raise CoreMLSpecError/EvaluatorInputError."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest
from coreml_spec_parts import add_classifier_outputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.svm import SVC

from parity.coreml_reference import class_labels, output_kinds, predict
from parity.coreml_reference.bench import random_forest_to_spec
from parity.coreml_reference.spec_loading import FeatureTypes_pb2, Model_pb2
from parity.errors import CoreMLSpecError, EvaluatorInputError

ALLOWED = (CoreMLSpecError, EvaluatorInputError)
DOUBLE = FeatureTypes_pb2.ArrayFeatureType.DOUBLE


def _array_feature(features: Any, name: str, width: int) -> None:
    feature = features.add()
    feature.name = name
    feature.type.multiArrayType.shape.append(width)
    feature.type.multiArrayType.dataType = DOUBLE




def _seed_specs() -> list[Model_pb2.Model]:
    x, y = make_classification(n_samples=120, n_features=4, random_state=0)
    forest = random_forest_to_spec(RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(x, y))
    forest.description.input[0].type.multiArrayType.shape[:] = [4]

    svm = Model_pb2.Model(specificationVersion=1)
    _array_feature(svm.description.input, "input", 4)
    add_classifier_outputs(svm)
    model = SVC(kernel="rbf", gamma=0.5).fit(x, y % 2)
    params = svm.supportVectorClassifier
    params.kernel.rbfKernel.gamma = 0.5
    for vector in model.support_vectors_[:6]:
        params.denseSupportVectors.vectors.add().values.extend(vector.tolist())
    params.numberOfSupportVectorsPerClass.extend([3, 3])
    params.coefficients.add().alpha.extend([0.5, -0.25, 1.0, -1.0, 0.5, -0.75])
    params.rho.append(0.1)
    params.probA.append(-1.5)
    params.probB.append(0.2)
    params.int64ClassLabels.vector.extend([0, 1])

    vectorizer = Model_pb2.Model(specificationVersion=1)
    _array_feature(vectorizer.description.input, "input", 4)
    _array_feature(vectorizer.description.output, "scaled", 4)
    vectorizer.scaler.shiftValue.extend([0.0, 1.0, 2.0, 3.0])
    vectorizer.scaler.scaleValue.append(0.5)
    glm = Model_pb2.Model(specificationVersion=1)
    _array_feature(glm.description.input, "scaled", 4)
    add_classifier_outputs(glm)
    for row in ([1.0, -1.0, 0.5, 0.0], [0.0, 1.0, 1.0, -2.0], [2.0, 0.0, 0.0, 1.0]):
        glm.glmClassifier.weights.add().value.extend(row)
    glm.glmClassifier.offset.extend([0.1, 0.2, 0.3])
    glm.glmClassifier.classEncoding = 1
    glm.glmClassifier.int64ClassLabels.vector.extend([0, 1, 2])
    pipeline = Model_pb2.Model(specificationVersion=1)
    _array_feature(pipeline.description.input, "input", 4)
    add_classifier_outputs(pipeline)
    pipeline.pipelineClassifier.pipeline.models.extend([vectorizer, glm])

    network = Model_pb2.Model(specificationVersion=1)
    _array_feature(network.description.input, "input", 4)
    add_classifier_outputs(network)
    nn = network.neuralNetworkClassifier
    nn.int64ClassLabels.vector.extend([0, 1])
    layer = nn.layers.add(name="ip", input=["input"], output=["z"])
    layer.innerProduct.inputChannels, layer.innerProduct.outputChannels = 4, 2
    layer.innerProduct.weights.floatValue.extend(np.linspace(-1, 1, 8).tolist())
    nn.layers.add(name="relu", input=["z"], output=["a"]).activation.ReLU.SetInParent()
    nn.layers.add(name="softmax", input=["a"], output=["p"]).softmax.SetInParent()

    knn = Model_pb2.Model(specificationVersion=4)
    _array_feature(knn.description.input, "input", 4)
    add_classifier_outputs(knn)
    index = knn.kNearestNeighborsClassifier.nearestNeighborsIndex
    index.numberOfDimensions = 4
    for row in x[:8]:
        index.floatSamples.add().vector.extend(row.tolist())
    index.linearIndex.SetInParent()
    index.squaredEuclideanDistance.SetInParent()
    knn.kNearestNeighborsClassifier.numberOfNeighbors.defaultValue = 3
    knn.kNearestNeighborsClassifier.uniformWeighting.SetInParent()
    knn.kNearestNeighborsClassifier.int64ClassLabels.vector.extend(y[:8].tolist())
    return [forest, svm, pipeline, network, knn, _transformer_pipeline()]


def _feature(features: Any, name: str, kind: str | int) -> None:
    if isinstance(kind, int):
        _array_feature(features, name, kind)
        return
    feature = features.add()
    feature.name = name
    if kind == "dict_int":
        feature.type.dictionaryType.int64KeyType.SetInParent()
    elif kind == "dict_str":
        feature.type.dictionaryType.stringKeyType.SetInParent()
    else:
        getattr(feature.type, f"{kind}Type").SetInParent()


def _stage(inputs: list[tuple[str, str | int]], outputs: list[tuple[str, str | int]]) -> Any:
    spec = Model_pb2.Model(specificationVersion=1)
    for name, kind in inputs:
        _feature(spec.description.input, name, kind)
    for name, kind in outputs:
        _feature(spec.description.output, name, kind)
    return spec


def _transformer_pipeline() -> Model_pb2.Model:
    """Imputer, normalizer, extractor, one-hot, dict vectorizer, feature vectorizer, scaler, tree, mapping."""
    imputer = _stage([("x", 3)], [("x_imp", 3)])
    imputer.imputer.imputedDoubleArray.vector.extend([0.5, 0.0, -0.5])
    imputer.imputer.replaceDoubleValue = math.nan
    normalizer = _stage([("x_imp", 3)], [("x_norm", 3)])
    normalizer.normalizer.normType = 2
    extractor = _stage([("x_norm", 3)], [("x0", "double")])
    extractor.arrayFeatureExtractor.extractIndex.append(0)
    one_hot = _stage([("c", "int64")], [("c_ohe", "dict_int")])
    one_hot.oneHotEncoder.int64Categories.vector.extend([0, 1, 2])
    one_hot.oneHotEncoder.outputSparse = True
    one_hot.oneHotEncoder.handleUnknown = 1
    dict_vectorizer = _stage([("d", "dict_str")], [("d_vec", "dict_int")])
    dict_vectorizer.dictVectorizer.stringToIndex.vector.extend(["a", "b"])
    vectorizer = _stage([("x_norm", 3), ("x0", "double"), ("c_ohe", "dict_int"), ("d_vec", "dict_int")],
                        [("fv", 9)])
    for name, width in [("x_norm", 3), ("x0", 1), ("c_ohe", 3), ("d_vec", 2)]:
        vectorizer.featureVectorizer.inputList.add(inputColumn=name, inputDimensions=width)
    scaler = _stage([("fv", 9)], [("fv2", 9)])
    scaler.scaler.shiftValue.append(1.0)
    scaler.scaler.scaleValue.extend([float(i) for i in range(9)])
    tree = _stage([("fv2", 9)], [("y", "double")])
    tree.description.predictedFeatureName = "y"
    ensemble = tree.treeEnsembleRegressor.treeEnsemble
    ensemble.numPredictionDimensions = 1
    for tree_id, (feature, mode) in enumerate([(4, 5), (8, 2), (0, 4)]):
        ensemble.nodes.add(treeId=tree_id, nodeId=0, nodeBehavior=mode, branchFeatureIndex=feature,
                           branchFeatureValue=0.5, trueChildNodeId=1, falseChildNodeId=2,
                           missingValueTracksTrueChild=bool(tree_id % 2))
        ensemble.nodes.add(treeId=tree_id, nodeId=1, nodeBehavior=6).evaluationInfo.add(evaluationValue=1.0)
        ensemble.nodes.add(treeId=tree_id, nodeId=2, nodeBehavior=6).evaluationInfo.add(evaluationValue=-2.0)
    mapping = _stage([("c", "int64")], [("c_name", "string")])
    mapping.categoricalMapping.int64ToStringMap.map.update({0: "zero", 1: "one", 2: "two"})
    mapping.categoricalMapping.strValue = "other"
    pipeline = _stage([("x", 3), ("c", "int64"), ("d", "dict_str")], [("y", "double"), ("c_name", "string")])
    pipeline.description.predictedFeatureName = "y"
    pipeline.pipelineRegressor.pipeline.models.extend(
        [imputer, normalizer, extractor, one_hot, dict_vectorizer, vectorizer, scaler, tree, mapping]
    )
    return pipeline


SEEDS = _seed_specs()
MATRIX_INPUTS = np.random.default_rng(0).normal(size=(5, 4))
MATRIX_INPUTS[1, 2] = np.nan
TRANSFORMER_INPUTS = {
    "x": np.array([[1.0, np.nan, 2.0], [0.0, 0.0, 0.0], [3.0, 4.0, np.nan], [-1.0, 1.0, 1.0], [np.nan] * 3]),
    "c": [0, 1, 2, 5, 1],
    "d": [{"a": 1.0}, {"b": 2.0}, {}, {"a": 0.5, "b": 1.0}, {}],
}


def seed_inputs(index: int) -> Any:
    """Rows fitting seed `index`: a dict for the transformer pipeline, a 5 x 4 matrix (one NaN) for the others."""
    return TRANSFORMER_INPUTS if index == len(SEEDS) - 1 else MATRIX_INPUTS


def test_seed_specs_are_valid() -> None:
    for index, spec in enumerate(SEEDS):
        outputs = predict(spec, seed_inputs(index))
        assert outputs[spec.description.predictedFeatureName].shape == (5,)


def test_transformer_pipeline_seed_by_hand() -> None:
    # Row 1: x = [0, 0, 0] -> imputer leaves it, L2 norm 0 keeps zeros; c = 1 -> one-hot [0,1,0]; d = {b: 2}.
    # fv = [0,0,0, 0, 0,1,0, 0,2]; fv2 = i * (fv_i + 1) = [0,1,2,3,4,10,6,7,24].
    # tree 0: fv2[4] = 4 != 0.5 -> true (+1); tree 1: fv2[8] = 24 >= 0.5 -> true (+1); tree 2: fv2[0] = 0 == 0.5? no
    # -> false (-2). y = 0.
    outputs = predict(SEEDS[-1], TRANSFORMER_INPUTS)
    assert outputs["y"][1] == 0.0
    assert outputs["c_name"].tolist() == ["zero", "one", "two", "other", "one"]


def _fields(message: Any, path: tuple = ()) -> list[tuple[Any, Any]]:
    """Every (message, field descriptor) reachable from `message` whose field is set."""
    found = []
    for descriptor, value in message.ListFields():
        found.append((message, descriptor))
        if descriptor.type == descriptor.TYPE_MESSAGE:
            if descriptor.is_repeated:
                if descriptor.message_type.GetOptions().map_entry:
                    continue
                for item in list(value)[:20]:
                    found.extend(_fields(item))
            else:
                found.extend(_fields(value))
    return found


INTERESTING_INTS = [0, 1, 2, 3, 5, 7, 99, -1, 2**31 - 1, 2**40, 2**63 - 1]
INTERESTING_FLOATS = [0.0, -1.0, 0.5, 1e308, -1e308, math.inf, -math.inf, math.nan, 1e-320]


def _mutate(spec: Any, data: st.DataObject) -> None:
    fields = _fields(spec)
    message, descriptor = fields[data.draw(st.integers(0, len(fields) - 1), label="field")]
    action = data.draw(st.sampled_from(["clear", "set", "drop_item", "duplicate_item"]), label="action")
    repeated = descriptor.is_repeated
    if action == "clear" or (descriptor.type == descriptor.TYPE_MESSAGE and not repeated):
        message.ClearField(descriptor.name)
        return
    container = getattr(message, descriptor.name)
    if repeated and action in ("drop_item", "duplicate_item") and len(container):
        position = data.draw(st.integers(0, len(container) - 1), label="item")
        if action == "drop_item":
            del container[position]
        elif descriptor.type == descriptor.TYPE_MESSAGE:
            if not descriptor.message_type.GetOptions().map_entry:
                container.add().CopyFrom(container[position])
        else:
            container.append(container[position])
        return
    if descriptor.type == descriptor.TYPE_MESSAGE:
        return
    value = _random_value(descriptor, data)
    if value is None:
        return
    try:
        if repeated:
            if len(container):
                container[data.draw(st.integers(0, len(container) - 1), label="item")] = value
            else:
                container.append(value)
        else:
            setattr(message, descriptor.name, value)
    except (ValueError, TypeError):  # out of range for the field's wire type: not a spec we could have read
        return


def _random_value(descriptor: Any, data: st.DataObject) -> Any:
    kind = descriptor.type
    if kind in (descriptor.TYPE_DOUBLE, descriptor.TYPE_FLOAT):
        return data.draw(st.sampled_from(INTERESTING_FLOATS), label="float")
    if kind == descriptor.TYPE_BOOL:
        return data.draw(st.booleans(), label="bool")
    if kind == descriptor.TYPE_STRING:
        return data.draw(st.sampled_from(["", "input", "label", "probs", "scaled", "z", "x"]), label="string")
    if kind == descriptor.TYPE_BYTES:
        return data.draw(st.binary(max_size=9), label="bytes")
    if kind in (descriptor.TYPE_ENUM, descriptor.TYPE_INT32, descriptor.TYPE_INT64, descriptor.TYPE_UINT64,
                descriptor.TYPE_UINT32, descriptor.TYPE_SINT64, descriptor.TYPE_SINT32):
        return data.draw(st.sampled_from(INTERESTING_INTS), label="int")
    return None


def _exercise(model: Any, inputs: Any) -> None:
    try:
        outputs = predict(model, inputs)
        class_labels(model)
        output_kinds(model)
    except ALLOWED:
        return
    for value in outputs.values():
        assert isinstance(value, np.ndarray)
        assert value.shape[0] == (len(inputs) if isinstance(inputs, np.ndarray) else 5)


# CI runs 150 examples per test (a few seconds); raise COREML_REFERENCE_FUZZ_EXAMPLES for a longer local hunt.
FUZZ = settings(
    max_examples=int(os.environ.get("COREML_REFERENCE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


@FUZZ
@given(data=st.data())
def test_field_mutations_only_raise_evaluator_errors(data: st.DataObject) -> None:
    spec = Model_pb2.Model()
    index = data.draw(st.integers(0, len(SEEDS) - 1), label="seed")
    spec.CopyFrom(SEEDS[index])
    for _ in range(data.draw(st.integers(1, 3), label="n_mutations")):
        _mutate(spec, data)
    _exercise(spec, seed_inputs(index))


@FUZZ
@given(data=st.data())
def test_byte_truncation_and_corruption_only_raise_evaluator_errors(data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(SEEDS) - 1), label="seed")
    raw = bytearray(SEEDS[index].SerializeToString())
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="cut")]
    else:
        for _ in range(data.draw(st.integers(1, 4), label="n_flips")):
            position = data.draw(st.integers(0, len(raw) - 1), label="position")
            raw[position] = data.draw(st.integers(0, 255), label="byte")
    _exercise(bytes(raw), seed_inputs(index))


@FUZZ
@given(data=st.data())
def test_random_tree_children_and_features_only_raise_evaluator_errors(data: st.DataObject) -> None:
    # Targeted tree corruption: child ids pointing anywhere (cycles, shared children, self loops), feature indices
    # beyond the input width, leaf/branch flips.
    spec = Model_pb2.Model()
    spec.CopyFrom(SEEDS[0])
    nodes = spec.treeEnsembleClassifier.treeEnsemble.nodes
    for _ in range(data.draw(st.integers(1, 4), label="n_edits")):
        node = nodes[data.draw(st.integers(0, len(nodes) - 1), label="node")]
        edit = data.draw(st.sampled_from(["true", "false", "feature", "behavior", "tree"]), label="edit")
        value = data.draw(st.integers(0, len(nodes) + 2), label="value")
        if edit == "true":
            node.trueChildNodeId = value
        elif edit == "false":
            node.falseChildNodeId = value
        elif edit == "feature":
            node.branchFeatureIndex = value
        elif edit == "behavior":
            node.nodeBehavior = value % 8
        else:
            node.treeId = value % 3
    _exercise(spec, MATRIX_INPUTS)


@FUZZ
@given(width=st.integers(0, 7), rows=st.integers(0, 4), seed=st.integers(0, len(SEEDS) - 1),
       nan=st.booleans())
def test_random_input_shapes_only_raise_evaluator_errors(width: int, rows: int, seed: int, nan: bool) -> None:
    inputs = np.full((rows, width), np.nan) if nan else np.ones((rows, width))
    _exercise(SEEDS[seed], inputs)


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_missing_input_name_is_reported(seed: int) -> None:
    first_input = SEEDS[seed].description.input[0].name
    with pytest.raises(EvaluatorInputError, match=f"missing input '{first_input}'"):
        predict(SEEDS[seed], {})
