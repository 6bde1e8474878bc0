"""export.to_coreml on small hand-built IR nodes: spec fields checked against the Core ML proto semantics, and
predictions (through the independent reference evaluator parity.coreml_reference) against hand-computed values."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ir_models import array_model

from export import ir
from export.errors import ExportFailedError, OutputDirError, UsageError
from export.to_coreml import CoreMLInterface, save_spec, spec_bytes, to_spec
from export.to_coreml.protos import GLMClassifier_pb2, Model_pb2, TreeEnsemble_pb2
from parity.coreml_reference import predict

TREE_NODE = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode
TRANSFORM = TreeEnsemble_pb2.TreeEnsemblePostEvaluationTransform


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def stump(mode: ir.BranchMode, missing_true: bool, task: ir.Head, leaves: Any, base: Any,
          threshold: float = 0.5) -> ir.Model:
    """One tree over two features: x0 <mode> threshold → node 1 (true child) else node 2."""
    n_out = len(base)
    return array_model(ir.TreeEnsemble(
        n_features=2,
        tree_id=np.array([0, 0, 0]),
        node_id=np.array([0, 1, 2]),
        feature=np.array([0, -1, -1]),
        threshold=np.array([threshold, 0.0, 0.0]),
        mode=np.array([int(mode), 0, 0]),
        true_child=np.array([1, -1, -1]),
        false_child=np.array([2, -1, -1]),
        missing_tracks_true=np.array([missing_true, False, False]),
        leaf_value=np.array([[0.0] * n_out, *leaves]),
        leaf_target=np.array([-1, -1, -1]),
        base=base,
        compares_float32=False,
    ), task, 2)


BINARY = ir.Classification(np.array([3, 7]), "identity", True)


# ---------------------------------------------------------------------------------------------------------------
# Tree ensembles


def test_tree_binary_fields_and_predictions() -> None:
    spec = to_spec(stump(ir.BranchMode.LEQ, True, BINARY, np.array([[0.2], [0.9]]), np.array([0.0])), CoreMLInterface())
    assert spec.WhichOneof("Type") == "treeEnsembleClassifier"
    assert spec.specificationVersion == 1
    message = spec.treeEnsembleClassifier
    assert message.postEvaluationTransform == TRANSFORM.NoTransform
    assert list(message.int64ClassLabels.vector) == [3, 7]
    root = message.treeEnsemble.nodes[0]
    assert root.nodeBehavior == TREE_NODE.BranchOnValueLessThanEqual
    assert (root.branchFeatureIndex, root.branchFeatureValue) == (0, 0.5)
    assert (root.trueChildNodeId, root.falseChildNodeId, root.missingValueTracksTrueChild) == (1, 2, True)
    leaf = message.treeEnsemble.nodes[1]
    assert leaf.nodeBehavior == TREE_NODE.LeafNode
    assert [(i.evaluationIndex, i.evaluationValue) for i in leaf.evaluationInfo] == [(0, 0.2)]
    assert spec.description.output[0].type.WhichOneof("Type") == "int64Type"
    assert spec.description.output[1].type.dictionaryType.WhichOneof("KeyType") == "int64KeyType"
    # x0 = 0.5 satisfies <= (true child, P(7) = 0.2); 0.6 goes right (0.9); NaN tracks the true child.
    out = predict(spec, np.array([[0.5, 0.0], [0.6, 0.0], [np.nan, 0.0]]))
    assert out["classLabel"].tolist() == [3, 7, 3]
    np.testing.assert_allclose(out["classProbability"], [[0.8, 0.2], [0.1, 0.9], [0.8, 0.2]], rtol=0, atol=1e-15)


def test_tree_less_than_mode_and_no_leaf_nudge() -> None:
    # BranchMode.LT (x0 < 0.5) is written as BranchOnValueLessThanEqual with the largest double below 0.5
    # (0.5 - 2**-54): x0 = 0.5 is NOT < 0.5 and goes to the false child, the double just below it to the true one.
    # A leaf of exactly 0.5 is written as 0.5 (no 0.5 - 1e-7 nudge): the tie is the parity suite's business.
    spec = to_spec(stump(ir.BranchMode.LT, False, BINARY, np.array([[0.5], [0.9]]), np.array([0.0])), CoreMLInterface())
    nodes = spec.treeEnsembleClassifier.treeEnsemble.nodes
    assert nodes[0].nodeBehavior == TREE_NODE.BranchOnValueLessThanEqual
    assert nodes[0].branchFeatureValue == 0.5 - 2.0**-54
    assert nodes[1].evaluationInfo[0].evaluationValue == 0.5
    below = 0.5 - 2.0**-54
    out = predict(spec, np.array([[0.5, 0.0], [0.4, 0.0], [below, 0.0], [-np.inf, 0.0], [np.inf, 0.0]]))
    np.testing.assert_allclose(out["classProbability"][:, 1], [0.9, 0.5, 0.5, 0.5, 0.9], rtol=0, atol=0)


@pytest.mark.parametrize(
    ("threshold", "written", "behavior"),
    [
        (np.inf, np.finfo(np.float64).max, "BranchOnValueLessThanEqual"),  # x < inf  <=>  x <= DBL_MAX
        (0.0, -5e-324, "BranchOnValueLessThanEqual"),  # x < 0  <=>  x <= -min subnormal (-0.0 included: false)
        (-np.inf, -np.inf, "BranchOnValueLessThan"),  # x < -inf is never true; x <= -inf is at -inf: kept as LT
    ],
)
def test_tree_less_than_edge_thresholds(threshold: float, written: float, behavior: str) -> None:
    model = stump(ir.BranchMode.LT, False, BINARY, np.array([[0.25], [0.75]]), np.array([0.0]), threshold)
    root = to_spec(model, CoreMLInterface()).treeEnsembleClassifier.treeEnsemble.nodes[0]
    assert root.nodeBehavior == TREE_NODE.TreeNodeBehavior.Value(behavior)
    assert root.branchFeatureValue == written
    rows = np.array([-np.inf, -np.finfo(np.float64).max, -5e-324, -0.0, 0.0, 5e-324, 1.0, np.finfo(np.float64).max,
                     np.inf])
    spec = to_spec(model, CoreMLInterface())
    got = predict(spec, np.column_stack([rows, np.zeros_like(rows)]))["classProbability"][:, 1]
    np.testing.assert_array_equal(got, np.where(rows < threshold, 0.25, 0.75))  # the IR's own rule: x < threshold


def test_tree_logistic_link_and_string_labels() -> None:
    task = ir.Classification(np.array(["no", "yes"]), "logistic", True)
    spec = to_spec(stump(ir.BranchMode.LEQ, False, task, np.array([[-1.0], [2.0]]), np.array([0.25])),
                   CoreMLInterface())
    message = spec.treeEnsembleClassifier
    assert message.postEvaluationTransform == TRANSFORM.Regression_Logistic
    assert list(message.stringClassLabels.vector) == ["no", "yes"]
    assert list(message.treeEnsemble.basePredictionValue) == [0.25]
    assert spec.description.output[0].type.WhichOneof("Type") == "stringType"
    out = predict(spec, np.array([[0.0, 0.0], [1.0, 0.0]]))
    assert out["classLabel"].tolist() == ["no", "yes"]
    np.testing.assert_allclose(out["classProbability"][:, 1], [sigmoid(-0.75), sigmoid(2.25)], rtol=1e-14)


def test_tree_softmax_with_leaf_targets() -> None:
    # Gradient-boosting layout: one single-leaf tree per class, each adding only to dimension leaf_target.
    task = ir.Classification(np.array([0, 1, 2]), "softmax", True)
    values = np.zeros((3, 3))
    values[[0, 1, 2], [0, 1, 2]] = [0.5, -0.25, 1.0]
    node = ir.TreeEnsemble(
        n_features=1,
        tree_id=np.array([0, 1, 2]),
        node_id=np.array([0, 0, 0]),
        feature=np.array([-1, -1, -1]),
        threshold=np.zeros(3),
        mode=np.zeros(3, dtype=np.int64),
        true_child=np.full(3, -1),
        false_child=np.full(3, -1),
        missing_tracks_true=np.zeros(3, dtype=bool),
        leaf_value=values,
        leaf_target=np.array([0, 1, 2]),
        base=np.array([0.1, 0.2, 0.3]),
        compares_float32=True,
        hit_rate=np.array([1.0, 1.0, 1.0]),
    )
    spec = to_spec(array_model(node, task, 1), CoreMLInterface())
    message = spec.treeEnsembleClassifier
    assert message.postEvaluationTransform == TRANSFORM.Classification_SoftMax
    assert message.treeEnsemble.numPredictionDimensions == 3
    leaves = message.treeEnsemble.nodes
    assert [[(i.evaluationIndex, i.evaluationValue) for i in n.evaluationInfo] for n in leaves] == [
        [(0, 0.5)],
        [(1, -0.25)],
        [(2, 1.0)],
    ]
    # relativeHitRate (an optimisation hint, "no effect on the accuracy") is not written, even when the IR has it.
    assert [n.relativeHitRate for n in leaves] == [0.0, 0.0, 0.0]
    scores = np.array([0.6, -0.05, 1.3])
    expected = np.exp(scores) / np.exp(scores).sum()
    out = predict(spec, np.array([[0.0]]))
    np.testing.assert_allclose(out["classProbability"][0], expected, rtol=1e-14)
    assert out["classLabel"].tolist() == [2]


def test_tree_regressor_single_and_multi_target() -> None:
    single = to_spec(stump(ir.BranchMode.LEQ, False, ir.Regression(), np.array([[1.5], [-2.0]]), np.array([10.0])),
                     CoreMLInterface())
    assert single.WhichOneof("Type") == "treeEnsembleRegressor"
    assert single.description.output[0].type.WhichOneof("Type") == "doubleType"
    np.testing.assert_array_equal(predict(single, np.array([[0.0, 0], [1.0, 0]]))["prediction"], [11.5, 8.0])
    multi = to_spec(stump(ir.BranchMode.LEQ, False, ir.Regression(2), np.array([[1.0, 2.0], [3.0, 4.0]]),
                          np.array([0.0, 1.0])), CoreMLInterface())
    assert list(multi.description.output[0].type.multiArrayType.shape) == [2]
    np.testing.assert_array_equal(
        predict(multi, np.array([[0.0, 0], [1.0, 0]]))["prediction"], [[1.0, 3.0], [3.0, 5.0]]
    )


def test_tree_unsupported_link_is_refused() -> None:
    task = ir.Classification(np.array([0, 1]), "ovr_logistic", True)
    with pytest.raises(ExportFailedError, match="TreeEnsemble: link 'ovr_logistic'"):
        to_spec(stump(ir.BranchMode.LEQ, False, task, np.array([[0.0], [1.0]]), np.array([0.0])), CoreMLInterface())


# ---------------------------------------------------------------------------------------------------------------
# Linear models


def test_glm_regressor_single_target() -> None:
    node = ir.LinearModel(coef=np.array([[1.0, 2.0]]), intercept=np.array([3.0]))
    spec = to_spec(array_model(node, ir.Regression(), 2), CoreMLInterface())
    assert spec.WhichOneof("Type") == "glmRegressor"
    assert list(spec.glmRegressor.weights[0].value) == [1.0, 2.0]
    assert list(spec.glmRegressor.offset) == [3.0]
    np.testing.assert_array_equal(predict(spec, np.array([[1.0, 1.0], [0.5, -1.0]]))["prediction"], [6.0, 1.5])


def test_multi_target_linear_regression_is_a_glm_pipeline() -> None:
    node = ir.LinearModel(
        coef=np.array([[1.0, 0.0], [0.0, 2.0]]), intercept=np.array([0.0, 1.0]))
    spec = to_spec(array_model(node, ir.Regression(2), 2), CoreMLInterface())
    assert spec.WhichOneof("Type") == "pipelineRegressor"
    kinds = [m.WhichOneof("Type") for m in spec.pipelineRegressor.pipeline.models]
    assert kinds == ["glmRegressor", "glmRegressor", "featureVectorizer"]
    assert list(spec.description.output[0].type.multiArrayType.shape) == [2]
    np.testing.assert_array_equal(predict(spec, np.array([[3.0, 4.0]]))["prediction"], [[3.0, 9.0]])


def test_glm_binary_logistic_string_labels() -> None:
    task = ir.Classification(np.array(["cat", "dog"]), "logistic", True)
    node = ir.LinearModel(coef=np.array([[0.5, -1.0]]), intercept=np.array([0.25]))
    spec = to_spec(array_model(node, task, 2), CoreMLInterface())
    message = spec.glmClassifier
    assert message.classEncoding == GLMClassifier_pb2.GLMClassifier.OneVsRest
    assert message.postEvaluationTransform == GLMClassifier_pb2.GLMClassifier.Logit
    assert len(message.weights) == 1 and list(message.stringClassLabels.vector) == ["cat", "dog"]
    out = predict(spec, np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert out["classLabel"].tolist() == ["dog", "cat"]
    np.testing.assert_allclose(out["classProbability"][:, 1], [sigmoid(0.75), sigmoid(-0.75)], rtol=1e-14)


def test_glm_ovr_logistic_three_classes() -> None:
    task = ir.Classification(np.array([10, 20, 30]), "ovr_logistic", True)
    coef = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    node = ir.LinearModel(coef=coef, intercept=np.array([0.0, 0.5, 0.0]))
    spec = to_spec(array_model(node, task, 2), CoreMLInterface())
    assert len(spec.glmClassifier.weights) == 3
    z = coef @ np.array([0.3, -0.1]) + [0.0, 0.5, 0.0]  # [0.3, 0.4, -0.2]
    s = 1 / (1 + np.exp(-z))
    out = predict(spec, np.array([[0.3, -0.1]]))
    np.testing.assert_allclose(out["classProbability"][0], s / s.sum(), rtol=1e-14)
    assert out["classLabel"].tolist() == [20]


def test_glm_no_probability_link() -> None:
    task = ir.Classification(np.array([0, 1]), "none", False)
    spec = to_spec(array_model(ir.LinearModel(coef=np.array([[1.0]]), intercept=np.array([-2.0])), task, 1),
                   CoreMLInterface())
    assert spec.WhichOneof("Type") == "glmClassifier"
    assert [o.name for o in spec.description.output] == ["classLabel"]
    assert spec.description.predictedProbabilitiesName == ""
    assert predict(spec, np.array([[1.0], [3.0]]))["classLabel"].tolist() == [0, 1]


def test_none_link_multiclass_uses_raw_score_argmax() -> None:
    # Scores around 1e3: a GLM OvR sigmoid would round them all to 1.0 and tie; the NN takes argmax of raw scores.
    task = ir.Classification(np.array([0, 1, 2]), "none", False)
    node = ir.LinearModel(coef=np.array([[1000.0], [1001.0], [999.0]]), intercept=np.array([0.0, 0.0, 0.0]))
    spec = to_spec(array_model(node, task, 1), CoreMLInterface())
    assert spec.WhichOneof("Type") == "neuralNetworkClassifier"
    assert [layer.WhichOneof("layer") for layer in spec.neuralNetworkClassifier.layers] == ["innerProduct"]
    assert predict(spec, np.array([[1.0], [-1.0]]))["classLabel"].tolist() == [1, 2]


def test_softmax_linear_model_is_an_nn_classifier() -> None:
    task = ir.Classification(np.array([0, 1, 2]), "softmax", True)
    coef = np.array([[1.0, -1.0], [0.5, 0.5], [-1.0, 2.0]])
    node = ir.LinearModel(coef=coef, intercept=np.array([0.1, 0.0, -0.1]))
    spec = to_spec(array_model(node, task, 2), CoreMLInterface())
    network = spec.neuralNetworkClassifier
    assert [layer.WhichOneof("layer") for layer in network.layers] == ["innerProduct", "softmax"]
    product = network.layers[0].innerProduct
    assert (product.inputChannels, product.outputChannels) == (2, 3)
    # W stored row-major [C_out, C_in] as float32.
    np.testing.assert_array_equal(np.array(product.weights.floatValue), coef.astype(np.float32).ravel())
    assert network.labelProbabilityLayerName == network.layers[1].output[0]
    x = np.array([0.4, -0.3])
    z = coef @ x + [0.1, 0.0, -0.1]
    out = predict(spec, x[None, :])
    np.testing.assert_allclose(out["classProbability"][0], np.exp(z) / np.exp(z).sum(), rtol=1e-6)  # float32 NN


# ---------------------------------------------------------------------------------------------------------------
# Neural networks


def _mlp(n_out: int) -> ir.NeuralNetwork:
    hidden = ir.DenseLayer(
        weights=np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.25]]), bias=np.array([0.0, -0.5, 0.1]), activation="relu"
    )
    out = ir.DenseLayer(
        weights=np.arange(3 * n_out, dtype=float).reshape(n_out, 3) / 4 - 0.5,
        bias=np.linspace(-0.2, 0.2, n_out),
        activation="identity",
    )
    return ir.NeuralNetwork(layers=(hidden, out))


def _mlp_scores(node: ir.NeuralNetwork, x: np.ndarray) -> np.ndarray:
    h = np.maximum(node.layers[0].weights @ x + node.layers[0].bias, 0.0)
    return node.layers[1].weights @ h + node.layers[1].bias


def test_binary_mlp_folds_zero_row_then_softmax() -> None:
    node = _mlp(1)
    spec = to_spec(array_model(node, ir.Classification(np.array([0, 1]), "logistic", True), 2), CoreMLInterface())
    layers = spec.neuralNetworkClassifier.layers
    assert [layer.WhichOneof("layer") for layer in layers] == ["innerProduct", "activation", "innerProduct", "softmax"]
    last = layers[2].innerProduct
    assert last.outputChannels == 2
    weights = np.array(last.weights.floatValue).reshape(2, 3)
    np.testing.assert_array_equal(weights[0], 0.0)
    np.testing.assert_array_equal(weights[1], node.layers[1].weights[0].astype(np.float32))
    assert last.bias.floatValue[0] == 0.0
    x = np.array([0.7, -0.4])
    z = float(_mlp_scores(node, x)[0])
    out = predict(spec, x[None, :])
    np.testing.assert_allclose(out["classProbability"][0], [1 - sigmoid(z), sigmoid(z)], rtol=1e-6)
    assert out["classLabel"].tolist() == [int(z > 0)]


def test_binary_network_with_activated_last_layer_and_no_probabilities() -> None:
    # Last layer tanh (not foldable): a [[0], [1]] layer is appended; link 'none' → no softmax, no probabilities,
    # label = labels[1] iff tanh(z) > 0.
    layers = (ir.DenseLayer(np.array([[1.0, -1.0]]), np.array([0.25]), "tanh"),)
    head = ir.Classification(np.array([5, 6]), "none", False)
    spec = to_spec(array_model(ir.NeuralNetwork(layers), head, 2), CoreMLInterface())
    network = spec.neuralNetworkClassifier
    assert [layer.WhichOneof("layer") for layer in network.layers] == ["innerProduct", "activation", "innerProduct"]
    assert list(network.layers[2].innerProduct.weights.floatValue) == [0.0, 1.0]
    assert [o.name for o in spec.description.output] == ["classLabel"]
    out = predict(spec, np.array([[1.0, 0.0], [0.0, 1.0]]))  # z = 1.25 → 6; z = -0.75 → 5
    assert out["classLabel"].tolist() == [6, 5]


def test_mlp_regressor_single_target_is_nn_then_extractor() -> None:
    node = _mlp(1)
    spec = to_spec(array_model(node, ir.Regression(), 2), CoreMLInterface())
    assert spec.WhichOneof("Type") == "pipelineRegressor"
    models = spec.pipelineRegressor.pipeline.models
    assert [m.WhichOneof("Type") for m in models] == ["neuralNetwork", "arrayFeatureExtractor"]
    assert spec.description.output[0].type.WhichOneof("Type") == "doubleType"
    x = np.array([0.7, -0.4])
    np.testing.assert_allclose(predict(spec, x[None, :])["prediction"], _mlp_scores(node, x), rtol=1e-6)


def test_mlp_regressor_multi_target() -> None:
    node = _mlp(2)
    spec = to_spec(array_model(node, ir.Regression(2), 2), CoreMLInterface())
    assert spec.WhichOneof("Type") == "neuralNetworkRegressor"
    x = np.array([-0.3, 1.2])
    np.testing.assert_allclose(predict(spec, x[None, :])["prediction"][0], _mlp_scores(node, x), rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# SVM and nearest neighbours


def test_svr_linear_kernel() -> None:
    node = ir.SupportVectorMachine(
        kernel="linear",
        gamma=0.0,
        coef0=0.0,
        degree=3,
        support_vectors=np.array([[1.0, 0.0], [0.0, 1.0]]),
        dual_coef=np.array([[2.0, -1.0]]),
        rho=np.array([0.5]),
        n_support=np.array([]),
        prob_a=np.array([]),
        prob_b=np.array([]),
    )
    spec = to_spec(array_model(node, ir.Regression(), 2), CoreMLInterface())
    regressor = spec.supportVectorRegressor
    assert regressor.kernel.WhichOneof("kernel") == "linearKernel"
    assert list(regressor.coefficients.alpha) == [2.0, -1.0] and regressor.rho == 0.5
    # y = 2 * x0 - 1 * x1 - 0.5
    np.testing.assert_array_equal(predict(spec, np.array([[1.0, 1.0], [3.0, 0.0]]))["prediction"], [0.5, 5.5])


def test_svc_rbf_three_classes_fields() -> None:
    task = ir.Classification(np.array(["a", "b", "c"]), "ovo_votes", False)
    node = ir.SupportVectorMachine(
        kernel="rbf",
        gamma=0.5,
        coef0=0.0,
        degree=3,
        support_vectors=np.array([[0.0], [5.0], [10.0]]),
        dual_coef=np.array([[1.0, -1.0, -1.0], [1.0, 1.0, -1.0]]),
        rho=np.array([0.0, 0.0, 0.0]),
        n_support=np.array([1, 1, 1]),
        prob_a=np.array([]),
        prob_b=np.array([]),
    )
    spec = to_spec(array_model(node, task, 1), CoreMLInterface())
    classifier = spec.supportVectorClassifier
    assert classifier.kernel.rbfKernel.gamma == 0.5
    assert list(classifier.numberOfSupportVectorsPerClass) == [1, 1, 1]
    assert [list(row.alpha) for row in classifier.coefficients] == [[1.0, -1.0, -1.0], [1.0, 1.0, -1.0]]
    assert len(classifier.probA) == 0 and [o.name for o in spec.description.output] == ["classLabel"]
    # Near each support vector only its own kernel term survives, so its class wins every pair it plays.
    assert predict(spec, np.array([[0.0], [5.0], [10.0]]))["classLabel"].tolist() == ["a", "b", "c"]


def test_knn_labels_per_sample_and_version_4() -> None:
    task = ir.Classification(np.array(["near", "far"]), "neighbour_votes", False)
    node = ir.NearestNeighbors(
        samples=np.array([[0.0], [1.0], [10.0]]), sample_class=np.array([0, 0, 1]), k=1, n_classes=2)
    spec = to_spec(array_model(node, task, names=("x",)), CoreMLInterface())
    assert spec.specificationVersion == 4
    knn = spec.pipelineClassifier.pipeline.models[1]
    assert knn.specificationVersion == 4
    message = knn.kNearestNeighborsClassifier
    assert list(message.stringClassLabels.vector) == ["near", "near", "far"]
    assert message.numberOfNeighbors.defaultValue == 1
    assert (message.numberOfNeighbors.range.minValue, message.numberOfNeighbors.range.maxValue) == (1, 3)
    assert message.WhichOneof("WeightingScheme") == "uniformWeighting"
    assert message.nearestNeighborsIndex.WhichOneof("IndexType") == "linearIndex"
    # The KNN input keeps the feature vector's DOUBLE type, so the pipeline types match exactly (issue #1018).
    assert knn.description.input[0].type == spec.pipelineClassifier.pipeline.models[0].description.output[0].type
    assert predict(spec, {"x": np.array([0.2, 9.0])})["classLabel"].tolist() == ["near", "far"]


# ---------------------------------------------------------------------------------------------------------------
# Transforms


def test_scaler_shift_is_negated_offset() -> None:
    spec = to_spec(array_model(ir.Scaler(offset=np.array([1.0, 2.0]), scale=np.array([2.0, 0.5]))), CoreMLInterface())
    assert list(spec.scaler.shiftValue) == [-1.0, -2.0] and list(spec.scaler.scaleValue) == [2.0, 0.5]
    np.testing.assert_array_equal(predict(spec, np.array([[3.0, 4.0]]))["transformed_features"], [[4.0, 1.0]])


def test_normalizer_and_imputer() -> None:
    spec = to_spec(array_model(ir.Normalizer(norm="l1", n_features=2)), CoreMLInterface())
    np.testing.assert_array_equal(predict(spec, np.array([[1.0, -3.0]]))["transformed_features"], [[0.25, -0.75]])
    spec = to_spec(array_model(ir.Imputer(missing_value=np.nan, fill=np.array([5.0, 6.0]))), CoreMLInterface())
    assert math.isnan(spec.imputer.replaceDoubleValue)
    assert list(spec.imputer.imputedDoubleArray.vector) == [5.0, 6.0]
    np.testing.assert_array_equal(predict(spec, np.array([[np.nan, 1.0]]))["transformed_features"], [[5.0, 1.0]])


def test_one_hot_real_categories_and_unknowns() -> None:
    spec = to_spec(array_model(ir.OneHotEncoder(categories=(np.array([1, 3]), np.array([0, 2, 5])))), CoreMLInterface())
    # A transformer export is a plain pipeline at the top (no predictedFeatureName: apps and parity would read the
    # lone treeEnsembleRegressor's output as a prediction).
    assert spec.WhichOneof("Type") == "pipeline" and not spec.description.predictedFeatureName
    (encoder,) = spec.pipeline.models
    assert encoder.WhichOneof("Type") == "treeEnsembleRegressor"
    params = encoder.treeEnsembleRegressor.treeEnsemble
    assert params.numPredictionDimensions == 5
    roots = [n for n in params.nodes if n.nodeId == 0]
    # One BranchOnValueEqual stump per (column, category), with the real category values, in output order.
    assert [(n.treeId, n.branchFeatureIndex, n.branchFeatureValue) for n in roots] == [
        (0, 0, 1.0),
        (1, 0, 3.0),
        (2, 1, 0.0),
        (3, 1, 2.0),
        (4, 1, 5.0),
    ]
    assert {n.nodeBehavior for n in roots} == {TREE_NODE.BranchOnValueEqual}
    assert not any(n.missingValueTracksTrueChild for n in roots)
    rows = np.array([[3.0, 5.0], [2.0, 7.0], [np.nan, 2.0], [1.5, -0.0], [1e30, 5.7]])
    out = predict(spec, rows)["transformed_features"]
    # Unseen (2, 7), NaN, non-integer (1.5, 5.7) and huge values are unknown → zeros; -0.0 equals category 0.
    np.testing.assert_array_equal(
        out, [[0, 1, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]]
    )


def test_one_hot_string_categories_are_refused() -> None:
    with pytest.raises(ExportFailedError, match="string categories"):
        to_spec(array_model(ir.OneHotEncoder(categories=(np.array(["a", "b"]),))), CoreMLInterface())


def test_linear_column_select_and_concat() -> None:
    linear = ir.Linear(weights=np.array([[1.0, 1.0, 0.0], [1.0, -1.0, 0.0]]), bias=np.array([0.0, 1.0]))
    select = ir.ColumnSelect(indices=np.array([2, 0]), n_features=3)
    spec = to_spec(array_model(ir.Concat(parts=(linear, select))), CoreMLInterface())
    out = predict(spec, np.array([[2.0, 3.0, 7.0]]))["transformed_features"]
    np.testing.assert_array_equal(out, [[5.0, 0.0, 7.0, 2.0]])
    assert list(spec.description.output[0].type.multiArrayType.shape) == [4]


def test_pipeline_with_named_inputs_and_metadata() -> None:
    task = ir.Classification(np.array([0, 1]), "logistic", True)
    node = ir.Pipeline(
        steps=(
            ir.Imputer(missing_value=np.nan, fill=np.array([1.0, 1.0])),
            ir.Scaler(offset=np.array([1.0, 0.0]), scale=np.array([1.0, 2.0])),
            ir.LinearModel(coef=np.array([[1.0, 1.0]]), intercept=np.array([0.0])),
        )
    )
    schema = ir.Schema((ir.Column("age", "double", "age"), ir.Column("height (cm)", "double", "height_cm")))
    interface = CoreMLInterface(
        author="me",
        license="MIT",
        version="1.2.3",
        short_description="demo",
        user_defined={"b": "2", "a": "1"},
    )
    spec = to_spec(ir.Model.single(node, task, schema), interface)
    assert spec.WhichOneof("Type") == "pipelineClassifier"
    models = spec.pipelineClassifier.pipeline.models
    assert [m.WhichOneof("Type") for m in models] == ["featureVectorizer", "imputer", "scaler", "glmClassifier"]
    assert models[0].description.output[0].name == "__feature_vector__"
    description = spec.description
    assert [(f.name, f.shortDescription) for f in description.input] == [("age", "age"), ("height_cm", "height (cm)")]
    assert [f.type.WhichOneof("Type") for f in description.input] == ["doubleType", "doubleType"]
    assert description.output[1].shortDescription == "Probability of each class (keys: class labels)"
    assert (description.predictedFeatureName, description.predictedProbabilitiesName) == (
        "classLabel",
        "classProbability",
    )
    metadata = description.metadata
    assert (metadata.author, metadata.license, metadata.versionString, metadata.shortDescription) == (
        "me",
        "MIT",
        "1.2.3",
        "demo",
    )
    assert dict(metadata.userDefined) == {"a": "1", "b": "2"}
    # age NaN → 1 → (1-1)*1 = 0; height 0.5 → 1.0: z = 1
    out = predict(spec, {"age": np.array([np.nan]), "height_cm": np.array([0.5])})
    np.testing.assert_allclose(out["classProbability"][0], [1 - sigmoid(1.0), sigmoid(1.0)], rtol=1e-14)


def test_interface_checks() -> None:
    with pytest.raises(UsageError, match="distinct"):
        CoreMLInterface(label_name="prediction")
    scaler = ir.Scaler(offset=np.array([0.0]), scale=np.array([1.0]))
    with pytest.raises(UsageError, match="clash"):
        to_spec(array_model(scaler, names=("classLabel",)), CoreMLInterface())
    with pytest.raises(ir.IRError, match="Scaler reads 2 values, its inputs have 3"):
        array_model(ir.Scaler(offset=np.array([0.0, 0.0]), scale=np.array([1.0, 1.0])), n_features=3)


# ---------------------------------------------------------------------------------------------------------------
# Files


def test_save_is_byte_reproducible_and_loads(tmp_path: Path) -> None:
    from coremltools.models.utils import load_spec

    node = stump(ir.BranchMode.LEQ, False, BINARY, np.array([[0.2], [0.9]]), np.array([0.0]))
    interface = CoreMLInterface(user_defined={f"k{i}": str(i) for i in range(20)})
    first, second = tmp_path / "a.mlmodel", tmp_path / "b.mlmodel"
    save_spec(to_spec(node, interface), first)
    save_spec(to_spec(node, interface), second)
    assert first.read_bytes() == second.read_bytes() == spec_bytes(to_spec(node, interface))
    loaded = load_spec(str(first))
    assert loaded == to_spec(node, interface)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mlmodel", "b.mlmodel"]  # no temporary left behind
    with pytest.raises(OutputDirError, match=r"must end in \.mlmodel"):
        save_spec(loaded, tmp_path / "model.bin")


def test_save_refuses_an_invalid_spec(tmp_path: Path) -> None:
    spec = Model_pb2.Model()
    with pytest.raises(ExportFailedError, match="Model.Type"):
        save_spec(spec, tmp_path / "x.mlmodel")
    assert not (tmp_path / "x.mlmodel").exists()


def test_save_without_revalidating_writes_the_same_bytes(tmp_path: Path) -> None:
    # validate=False is for a spec to_spec has just validated: it skips the check, nothing else.
    spec = to_spec(stump(ir.BranchMode.LT, True, BINARY, np.array([[0.2], [0.9]]), np.array([0.0])), CoreMLInterface())
    save_spec(spec, tmp_path / "checked.mlmodel")
    save_spec(spec, tmp_path / "trusted.mlmodel", validate=False)
    assert (tmp_path / "checked.mlmodel").read_bytes() == (tmp_path / "trusted.mlmodel").read_bytes()
    save_spec(Model_pb2.Model(), tmp_path / "unchecked.mlmodel", validate=False)  # the caller's responsibility
    assert (tmp_path / "unchecked.mlmodel").read_bytes() == b""


def test_nested_pipeline_ending_in_a_model() -> None:
    task = ir.Classification(np.array([0, 1]), "logistic", True)
    inner = ir.Pipeline(
        (ir.Scaler(np.array([1.0]), np.array([2.0])), ir.LinearModel(np.array([[1.0]]), np.zeros(1)))
    )
    spec = to_spec(array_model(ir.Pipeline((ir.Imputer(0.0, np.array([5.0])), inner)), task, 1), CoreMLInterface())
    kinds = [m.WhichOneof("Type") for m in spec.pipelineClassifier.pipeline.models]
    assert kinds == ["imputer", "scaler", "glmClassifier"]
    # 0 is "missing" → 5 → (5 - 1) * 2 = 8
    out = predict(spec, np.array([[0.0]]))
    np.testing.assert_allclose(out["classProbability"][0, 1], sigmoid(8.0), rtol=1e-14)


def test_import_prints_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import export.to_coreml"], capture_output=True, text=True, check=True
    )
    assert (result.stdout, result.stderr) == ("", "")
