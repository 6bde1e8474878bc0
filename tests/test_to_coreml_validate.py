"""export.to_coreml.validate: Apple's validator rules (coreml-semantics §0–1). Each case builds a valid spec with
to_spec, breaks exactly one thing, and expects ExportFailedError naming the rule; Apple-converted specs pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ir_models import array_model

from export import ir
from export.errors import ExportFailedError
from export.to_coreml import CoreMLInterface, to_spec, validate_spec
from export.to_coreml.protos import FeatureTypes_pb2, GLMClassifier_pb2, Model_pb2

APPLE_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "apple"


def tree_classifier() -> Any:
    task = ir.Classification(np.array([0, 1, 2]), "identity", True)
    node = ir.TreeEnsemble(
        n_features=2,
        tree_id=np.array([0, 0, 0]),
        node_id=np.array([0, 1, 2]),
        feature=np.array([1, -1, -1]),
        threshold=np.array([0.5, 0, 0]),
        mode=np.array([0, 0, 0]),
        true_child=np.array([1, -1, -1]),
        false_child=np.array([2, -1, -1]),
        missing_tracks_true=np.zeros(3, dtype=bool),
        leaf_value=np.array([[0, 0, 0], [1.0, 0, 0], [0, 0.5, 0.5]]),
        leaf_target=np.array([-1, -1, -1]),
        base=np.array([0.0, 0.0, 0.0]),
        compares_float32=False,
    )
    return to_spec(array_model(node, task, 2), CoreMLInterface())


def glm_classifier() -> Any:
    task = ir.Classification(np.array([0, 1, 2]), "ovr_logistic", True)
    return to_spec(array_model(ir.LinearModel(np.eye(3)[:, :2], np.zeros(3)), task), CoreMLInterface())


def glm_regressor() -> Any:
    return to_spec(array_model(ir.LinearModel(np.array([[1.0, 2.0]]), np.array([0.0])), ir.Regression()),
                   CoreMLInterface())


def svm_classifier() -> Any:
    task = ir.Classification(np.array(["a", "b", "c"]), "ovo_votes", True)
    node = ir.SupportVectorMachine(
        kernel="poly",
        gamma=0.5,
        coef0=1.0,
        degree=2,
        support_vectors=np.array([[0.0], [5.0], [10.0]]),
        dual_coef=np.array([[1.0, -1.0, -1.0], [1.0, 1.0, -1.0]]),
        rho=np.array([0.0, 0.1, 0.2]),
        n_support=np.array([1, 1, 1]),
        prob_a=np.array([-1.0, -1.0, -1.0]),
        prob_b=np.array([0.0, 0.0, 0.0]),
    )
    return to_spec(array_model(node, task, 1), CoreMLInterface())


def knn_pipeline() -> Any:
    task = ir.Classification(np.array([4, 5]), "neighbour_votes", False)
    node = ir.NearestNeighbors(
        samples=np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), sample_class=np.array([0, 0, 1]), k=3, n_classes=2)
    return to_spec(array_model(node, task, names=("x", "y")), CoreMLInterface())


def mlp_classifier() -> Any:
    task = ir.Classification(np.array([0, 1]), "logistic", True)
    layers = (
        ir.DenseLayer(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 0.0, 0.0]), "tanh"),
        ir.DenseLayer(np.array([[1.0, -1.0, 0.5]]), np.array([0.1]), "identity"),
    )
    return to_spec(array_model(ir.NeuralNetwork(layers), task, 2), CoreMLInterface())


def transform_pipeline() -> Any:
    node = ir.Pipeline(
        (
            ir.Imputer(np.nan, np.array([0.0, 1.0, 2.0])),
            ir.Scaler(np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 2.0])),
            ir.Normalizer("l2", 3),
            ir.Concat(
                (
                    ir.ColumnSelect(np.array([0, 2]), 3),
                    ir.OneHotEncoder((np.array([0, 1]), np.array([3]), np.array([1, 2]))),
                )
            ),
        )
    )
    return to_spec(array_model(node), CoreMLInterface())


def one_hot_encoder() -> Any:
    """Core ML's own OneHotEncoder (our writer uses exact equality stumps instead; Apple's converter emits this)."""
    spec = Model_pb2.Model(specificationVersion=1)
    source = spec.description.input.add(name="category")
    source.type.int64Type.SetInParent()
    target = spec.description.output.add(name="indicators")
    target.type.multiArrayType.shape.append(2)
    target.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.DOUBLE
    spec.oneHotEncoder.int64Categories.vector.extend([4, 8])
    spec.oneHotEncoder.handleUnknown = 1
    return spec


def models_of(spec: Any) -> list[Any]:
    kind = spec.WhichOneof("Type")
    return list((spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline).models)


def sub(spec: Any, kind: str) -> Any:
    """The first sub-model of type `kind` inside a pipeline spec (mutable in place)."""
    return next(model for model in models_of(spec) if model.WhichOneof("Type") == kind)


def _set_float32(feature: Any) -> None:
    feature.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.FLOAT32


def _add_second_root(spec: Any) -> None:
    node = spec.treeEnsembleClassifier.treeEnsemble.nodes.add()
    node.treeId, node.nodeId, node.nodeBehavior = 0, 9, 6
    node.evaluationInfo.add().evaluationValue = 1.0


def _make_cycle(spec: Any) -> None:
    """Two extra branches of tree 0 that are each other's children: one root still, but a cycle nobody reaches."""
    nodes = spec.treeEnsembleClassifier.treeEnsemble.nodes
    for node_id, other in ((3, 4), (4, 3)):
        node = nodes.add()
        node.treeId, node.nodeId, node.nodeBehavior = 0, node_id, 0
        node.trueChildNodeId = node.falseChildNodeId = other


def _own_child(spec: Any) -> None:
    spec.treeEnsembleClassifier.treeEnsemble.nodes[0].trueChildNodeId = 0


def _two_parents(spec: Any) -> None:
    """Leaf 2 becomes a branch whose children are leaf 1 (already the root's child) and a new leaf."""
    nodes = spec.treeEnsembleClassifier.treeEnsemble.nodes
    nodes[2].nodeBehavior = 0
    nodes[2].ClearField("evaluationInfo")
    nodes[2].trueChildNodeId, nodes[2].falseChildNodeId = 1, 3
    leaf = nodes.add()
    leaf.treeId, leaf.nodeId, leaf.nodeBehavior = 0, 3, 6
    leaf.evaluationInfo.add().evaluationValue = 1.0


# (name, builder, mutation, expected message fragment)
BREAKAGES: list[tuple[str, Callable[[], Any], Callable[[Any], object], str]] = [
    # envelope (§0.1, §0.4)
    ("version 0", glm_regressor, lambda s: setattr(s, "specificationVersion", 0), "must be >= 1"),
    ("version too new", glm_regressor, lambda s: setattr(s, "specificationVersion", 99), "newer than"),
    ("no type", glm_regressor, lambda s: s.ClearField("glmRegressor"), "no model type is set"),
    ("empty input name", glm_regressor, lambda s: setattr(s.description.input[0], "name", ""), "non-empty name"),
    (
        "input without shape",
        glm_regressor,
        lambda s: s.description.input[0].type.multiArrayType.ClearField("shape"),
        "needs a shape",
    ),
    ("type unset", glm_regressor, lambda s: s.description.output[0].ClearField("type"), "type is not set"),
    (
        "duplicate outputs",
        glm_classifier,
        lambda s: setattr(s.description.output[1], "name", "classLabel"),
        "must be unique",
    ),
    (
        "knn below version 4",
        knn_pipeline,
        lambda s: setattr(sub(s, "kNearestNeighborsClassifier"), "specificationVersion", 1),
        "below 4",
    ),
    # classifier / regressor interface (§0.2)
    (
        "no predictedFeatureName",
        glm_classifier,
        lambda s: s.description.ClearField("predictedFeatureName"),
        "predictedFeatureName is required",
    ),
    (
        "label type mismatch",
        svm_classifier,
        lambda s: s.description.output[0].type.int64Type.SetInParent(),
        "stringType",
    ),
    (
        "probability key mismatch",
        glm_classifier,
        lambda s: s.description.output[1].type.dictionaryType.stringKeyType.SetInParent(),
        "stringKeyType keys but the class labels need int64KeyType",
    ),
    (
        "labels missing",
        glm_classifier,
        lambda s: s.glmClassifier.ClearField("int64ClassLabels"),
        "class labels .* are required",
    ),
    (
        "regressor output missing",
        glm_regressor,
        lambda s: setattr(s.description, "predictedFeatureName", "nope"),
        "predictedFeatureName 'nope' is not an output",
    ),
    (
        "duplicate labels",
        glm_classifier,
        lambda s: s.glmClassifier.int64ClassLabels.vector.__setitem__(1, 0),
        "class labels must be unique",
    ),
    # tree ensembles (§1.1)
    (
        "duplicate node id",
        tree_classifier,
        lambda s: setattr(s.treeEnsembleClassifier.treeEnsemble.nodes[2], "nodeId", 1),
        "is duplicated",
    ),
    (
        "missing child",
        tree_classifier,
        lambda s: setattr(s.treeEnsembleClassifier.treeEnsemble.nodes[0], "falseChildNodeId", 7),
        "not declared in that tree",
    ),
    ("two roots", tree_classifier, _add_second_root, "2 root nodes; each tree needs exactly one"),
    # Apple (TreeEnsembleCommon.cpp) links false then true child: a branch naming one child twice gives it two parents
    ("cycle", tree_classifier, _make_cycle, "more than one parent"),
    (
        "leaf without value",
        tree_classifier,
        lambda s: s.treeEnsembleClassifier.treeEnsemble.nodes[1].ClearField("evaluationInfo"),
        "evaluationInfo",
    ),
    (
        "evaluation index",
        tree_classifier,
        lambda s: setattr(s.treeEnsembleClassifier.treeEnsemble.nodes[1].evaluationInfo[0], "evaluationIndex", 3),
        "evaluationIndex must be <",
    ),
    (
        "base length",
        tree_classifier,
        lambda s: s.treeEnsembleClassifier.treeEnsemble.basePredictionValue.append(1),
        "basePredictionValue",
    ),
    (
        "labels vs dimensions",
        tree_classifier,
        lambda s: s.treeEnsembleClassifier.int64ClassLabels.vector.append(9),
        "prediction dimensions",
    ),
    (
        "feature index",
        tree_classifier,
        lambda s: setattr(s.treeEnsembleClassifier.treeEnsemble.nodes[0], "branchFeatureIndex", 2),
        "input width",
    ),
    (
        "duplicate evaluation index",
        tree_classifier,
        lambda s: s.treeEnsembleClassifier.treeEnsemble.nodes[1].evaluationInfo.add(),
        "duplicate evaluationIndex",
    ),
    ("own child", tree_classifier, _own_child, "own child"),
    ("two parents", tree_classifier, _two_parents, "more than one parent"),
    # GLMs (§1.2, §1.3)
    ("offsets", glm_classifier, lambda s: s.glmClassifier.offset.append(0.0), "one offset per weight row"),
    ("ragged rows", glm_classifier, lambda s: s.glmClassifier.weights[1].value.append(0.0), "same nonzero length"),
    ("ovr rows", glm_classifier, lambda s: s.glmClassifier.int64ClassLabels.vector.append(3), "OneVsRest needs 4"),
    (
        "probit multiclass",
        glm_classifier,
        lambda s: setattr(s.glmClassifier, "postEvaluationTransform", GLMClassifier_pb2.GLMClassifier.Probit),
        "Probit",
    ),
    (
        "glm regressor two rows",
        glm_regressor,
        lambda s: (s.glmRegressor.weights.add().value.extend([0.0, 0.0]), s.glmRegressor.offset.append(0.0)),
        "one weight row",
    ),
    # SVMs (§1.4)
    ("svm coefficient rows", svm_classifier, lambda s: s.supportVectorClassifier.coefficients.add(), "K-1"),
    ("svm rho", svm_classifier, lambda s: s.supportVectorClassifier.rho.append(0.0), "K\\(K-1\\)/2"),
    ("svm probA", svm_classifier, lambda s: s.supportVectorClassifier.probA.append(0.0), "probA/probB"),
    (
        "svm per-class counts",
        svm_classifier,
        lambda s: s.supportVectorClassifier.numberOfSupportVectorsPerClass.__setitem__(0, 2),
        "summing to 3",
    ),
    (
        "svm gamma",
        svm_classifier,
        lambda s: setattr(s.supportVectorClassifier.kernel.polyKernel, "gamma", -1.0),
        "gamma",
    ),
    # transformers (§1.5–1.10)
    (
        "scaler length",
        transform_pipeline,
        lambda s: sub(s, "scaler").scaler.shiftValue.append(0.0),
        "length must be 0, 1",
    ),
    (
        "imputer length",
        transform_pipeline,
        lambda s: sub(s, "imputer").imputer.imputedDoubleArray.vector.append(0),
        "imputedDoubleArray",
    ),
    (
        "normalizer lengths",
        transform_pipeline,
        lambda s: sub(s, "normalizer").description.output[0].type.multiArrayType.shape.__setitem__(0, 4),
        "output length must equal",
    ),
    (
        "one-hot category type",
        one_hot_encoder,
        lambda s: s.oneHotEncoder.stringCategories.vector.append("x"),
        "int64Categories",
    ),
    (
        "one-hot width",
        one_hot_encoder,
        lambda s: s.oneHotEncoder.int64Categories.vector.append(7),
        "MultiArray of 3 values",
    ),
    (
        "extract index",
        transform_pipeline,
        lambda s: sub(s, "arrayFeatureExtractor").arrayFeatureExtractor.extractIndex.append(3),
        "extractIndex",
    ),
    (
        "vectorizer dims",
        transform_pipeline,
        lambda s: setattr(sub(s, "featureVectorizer").featureVectorizer.inputList[0], "inputDimensions", 5),
        "inputDimensions",
    ),
    # k-nearest neighbours (§1.13)
    (
        "knn labels per sample",
        knn_pipeline,
        lambda s: sub(s, "kNearestNeighborsClassifier").kNearestNeighborsClassifier.int64ClassLabels.vector.append(5),
        "one label per stored sample",
    ),
    (
        "knn weighting",
        knn_pipeline,
        lambda s: sub(s, "kNearestNeighborsClassifier").kNearestNeighborsClassifier.ClearField("uniformWeighting"),
        "weighting scheme",
    ),
    (
        "knn k range",
        knn_pipeline,
        lambda s: setattr(
            sub(s, "kNearestNeighborsClassifier").kNearestNeighborsClassifier.numberOfNeighbors.range, "maxValue", 2
        ),
        "allowed range",
    ),
    # neural networks (§1.16)
    (
        "nn unknown blob",
        mlp_classifier,
        lambda s: s.neuralNetworkClassifier.layers[1].input.__setitem__(0, "zz"),
        "produced by no earlier",
    ),
    (
        "nn weights size",
        mlp_classifier,
        lambda s: s.neuralNetworkClassifier.layers[0].innerProduct.weights.floatValue.append(0.0),
        "inputChannels x outputChannels",
    ),
    (
        "nn duplicate layer",
        mlp_classifier,
        lambda s: setattr(s.neuralNetworkClassifier.layers[1], "name", s.neuralNetworkClassifier.layers[0].name),
        "unique",
    ),
    (
        "nn probability blob",
        mlp_classifier,
        lambda s: setattr(s.neuralNetworkClassifier, "labelProbabilityLayerName", "nothing"),
        "produced by no layer",
    ),
    (
        "nn channels",
        mlp_classifier,
        lambda s: setattr(s.neuralNetworkClassifier.layers[2].innerProduct, "inputChannels", 4),
        "inputChannels",
    ),
    # pipelines (§1.15)
    (
        "pipeline exact types (issue #1018)",
        knn_pipeline,
        lambda s: _set_float32(sub(s, "kNearestNeighborsClassifier").description.input[0]),
        "exact equality",
    ),
    (
        "pipeline missing feature",
        transform_pipeline,
        lambda s: setattr(sub(s, "scaler").description.input[0], "name", "ghost"),
        "produced by no earlier",
    ),
    (
        "pipeline sub-model version",
        transform_pipeline,
        lambda s: setattr(sub(s, "scaler"), "specificationVersion", 4),
        "exceeds the pipeline",
    ),
    (
        "pipeline output",
        transform_pipeline,
        lambda s: setattr(s.description.output[0], "name", "other"),
        "not produced by the pipeline",
    ),
    ("pipeline names", transform_pipeline, lambda s: s.pipeline.names.append("only-one"), "one unique name"),
]


@pytest.mark.parametrize(("name", "build", "_mutate", "_fragment"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_valid_before_breaking(name: str, build: Callable[[], Any], _mutate: object, _fragment: str) -> None:
    validate_spec(build())  # to_spec already validates; this asserts the unbroken spec is the baseline


@pytest.mark.parametrize(("name", "build", "mutate", "fragment"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_broken_spec_is_rejected(
    name: str, build: Callable[[], Any], mutate: Callable[[Any], object], fragment: str
) -> None:
    spec = build()
    mutate(spec)
    with pytest.raises(ExportFailedError, match=fragment):
        validate_spec(spec)


def test_error_names_model_type_and_field() -> None:
    spec = transform_pipeline()
    sub(spec, "scaler").scaler.shiftValue.append(0.0)
    with pytest.raises(ExportFailedError, match=r"pipeline\)\.models\[\d\] \(scaler\): scaler\.shiftValue"):
        validate_spec(spec)


@pytest.mark.parametrize("path", sorted(APPLE_FIXTURES.glob("*.mlmodel")), ids=lambda p: p.stem)
def test_apple_converted_specs(path: Path) -> None:
    """Specs written by Apple's own converter pass, except where the notes say Apple is wrong: KNN needs spec 4
    (coremltools writes 1)."""
    spec = Model_pb2.Model.FromString(path.read_bytes())
    kinds = {spec.WhichOneof("Type")} | {
        model.WhichOneof("Type") for model in (models_of(spec) if "pipeline" in str(spec.WhichOneof("Type")) else [])
    }
    if "kNearestNeighborsClassifier" in kinds:
        with pytest.raises(ExportFailedError, match="specificationVersion: 1 is below 4"):
            validate_spec(spec)
    else:
        validate_spec(spec)


@pytest.mark.parametrize(("mutate", "fragment"), [
    (lambda dv: dv.stringToIndex.vector.append(dv.stringToIndex.vector[0]), "each listed once"),
    (lambda dv: dv.ClearField("stringToIndex"), "stringToIndex or int64ToIndex is required"),
    (lambda dv: dv.int64ToIndex.vector.extend([1, 2]), "int64ToIndex does not match the input's stringKeyType"),
])
def test_dict_vectorizer_rules(mutate: Any, fragment: str) -> None:
    """Apple's converted DictVectorizer pipeline passes (above); each broken field is named."""
    spec = Model_pb2.Model.FromString((APPLE_FIXTURES / "dict_vectorizer.mlmodel").read_bytes())
    model = next(m for m in models_of(spec) if m.WhichOneof("Type") == "dictVectorizer")
    mutate(model.dictVectorizer)
    with pytest.raises(ExportFailedError, match=fragment):
        validate_spec(spec)
