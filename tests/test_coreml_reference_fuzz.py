"""Fuzzing the Core ML reference evaluator: mutated real specs may only raise CoreMLSpecError/EvaluatorInputError."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest
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


def _classifier_outputs(spec: Any) -> None:
    label = spec.description.output.add()
    label.name = "label"
    label.type.int64Type.SetInParent()
    probability = spec.description.output.add()
    probability.name = "probs"
    probability.type.dictionaryType.int64KeyType.SetInParent()
    spec.description.predictedFeatureName = "label"
    spec.description.predictedProbabilitiesName = "probs"


def _seed_specs() -> list[Model_pb2.Model]:
    x, y = make_classification(n_samples=120, n_features=4, random_state=0)
    forest = random_forest_to_spec(RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(x, y))
    forest.description.input[0].type.multiArrayType.shape[:] = [4]

    svm = Model_pb2.Model(specificationVersion=1)
    _array_feature(svm.description.input, "input", 4)
    _classifier_outputs(svm)
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
    _classifier_outputs(glm)
    for row in ([1.0, -1.0, 0.5, 0.0], [0.0, 1.0, 1.0, -2.0], [2.0, 0.0, 0.0, 1.0]):
        glm.glmClassifier.weights.add().value.extend(row)
    glm.glmClassifier.offset.extend([0.1, 0.2, 0.3])
    glm.glmClassifier.classEncoding = 1
    glm.glmClassifier.int64ClassLabels.vector.extend([0, 1, 2])
    pipeline = Model_pb2.Model(specificationVersion=1)
    _array_feature(pipeline.description.input, "input", 4)
    _classifier_outputs(pipeline)
    pipeline.pipelineClassifier.pipeline.models.extend([vectorizer, glm])

    network = Model_pb2.Model(specificationVersion=1)
    _array_feature(network.description.input, "input", 4)
    _classifier_outputs(network)
    nn = network.neuralNetworkClassifier
    nn.int64ClassLabels.vector.extend([0, 1])
    layer = nn.layers.add(name="ip", input=["input"], output=["z"])
    layer.innerProduct.inputChannels, layer.innerProduct.outputChannels = 4, 2
    layer.innerProduct.weights.floatValue.extend(np.linspace(-1, 1, 8).tolist())
    nn.layers.add(name="relu", input=["z"], output=["a"]).activation.ReLU.SetInParent()
    nn.layers.add(name="softmax", input=["a"], output=["p"]).softmax.SetInParent()

    knn = Model_pb2.Model(specificationVersion=4)
    _array_feature(knn.description.input, "input", 4)
    _classifier_outputs(knn)
    index = knn.kNearestNeighborsClassifier.nearestNeighborsIndex
    index.numberOfDimensions = 4
    for row in x[:8]:
        index.floatSamples.add().vector.extend(row.tolist())
    index.linearIndex.SetInParent()
    index.squaredEuclideanDistance.SetInParent()
    knn.kNearestNeighborsClassifier.numberOfNeighbors.defaultValue = 3
    knn.kNearestNeighborsClassifier.uniformWeighting.SetInParent()
    knn.kNearestNeighborsClassifier.int64ClassLabels.vector.extend(y[:8].tolist())
    return [forest, svm, pipeline, network, knn]


SEEDS = _seed_specs()
INPUTS = np.random.default_rng(0).normal(size=(5, 4))
INPUTS[1, 2] = np.nan


def test_seed_specs_are_valid() -> None:
    for spec in SEEDS:
        outputs = predict(spec, INPUTS)
        assert outputs[spec.description.predictedFeatureName].shape == (5,)


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
        assert value.shape[0] == len(inputs)


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
    spec.CopyFrom(SEEDS[data.draw(st.integers(0, len(SEEDS) - 1), label="seed")])
    for _ in range(data.draw(st.integers(1, 3), label="n_mutations")):
        _mutate(spec, data)
    _exercise(spec, INPUTS)


@FUZZ
@given(data=st.data())
def test_byte_truncation_and_corruption_only_raise_evaluator_errors(data: st.DataObject) -> None:
    raw = bytearray(SEEDS[data.draw(st.integers(0, len(SEEDS) - 1), label="seed")].SerializeToString())
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="cut")]
    else:
        for _ in range(data.draw(st.integers(1, 4), label="n_flips")):
            position = data.draw(st.integers(0, len(raw) - 1), label="position")
            raw[position] = data.draw(st.integers(0, 255), label="byte")
    _exercise(bytes(raw), INPUTS)


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
    _exercise(spec, INPUTS)


@FUZZ
@given(width=st.integers(0, 7), rows=st.integers(0, 4), seed=st.integers(0, len(SEEDS) - 1),
       nan=st.booleans())
def test_random_input_shapes_only_raise_evaluator_errors(width: int, rows: int, seed: int, nan: bool) -> None:
    inputs = np.full((rows, width), np.nan) if nan else np.ones((rows, width))
    _exercise(SEEDS[seed], inputs)


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_missing_input_name_is_reported(seed: int) -> None:
    with pytest.raises(EvaluatorInputError, match="missing input 'input'"):
        predict(SEEDS[seed], {})
