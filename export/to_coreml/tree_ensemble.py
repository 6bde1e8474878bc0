"""IR TreeEnsemble → Core ML treeEnsembleClassifier / treeEnsembleRegressor (TreeEnsemble.proto, spec 1)."""

from __future__ import annotations

import numpy as np

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import (
    Feature,
    OutputNames,
    classifier_outputs,
    double_type,
    mark_classifier,
    new_model,
    set_class_labels,
    vector_type,
)
from export.to_coreml.protos import Spec, TreeEnsemble_pb2
from export.to_coreml.tree_wire import TreeNodeColumns, encode_nodes

_TRANSFORM = TreeEnsemble_pb2.TreeEnsemblePostEvaluationTransform
_BEHAVIOR = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode
_LEAF = _BEHAVIOR.LeafNode
_LESS_THAN_EQUAL = _BEHAVIOR.BranchOnValueLessThanEqual
_LESS_THAN = _BEHAVIOR.BranchOnValueLessThan


def _post_transform(node: ir.TreeEnsemble, task: ir.Regression | ir.Classification) -> int:
    """Map the task's link to postEvaluationTransform (§1.1 step 4), checking Core ML's classifier modes (step 6)."""
    if isinstance(task, ir.Regression):
        if task.link == "logistic" and node.n_outputs == 1:
            return int(_TRANSFORM.Regression_Logistic)  # prediction = 1/(1+exp(-s)) (§1.1 step 4)
        if task.link != "identity":
            raise ExportFailedError(f"TreeEnsemble: regression link {task.link!r} has no Core ML encoding; "
                                    "supported: identity, logistic (one target)")
        return int(_TRANSFORM.NoTransform)
    d, k = node.n_outputs, task.n_classes
    if d == 1 and k == 2 and task.link == "identity":
        # BINARY mode: the summed score is P(labels[1]). Core ML returns labels[1] iff p >= 0.5 [inferred];
        # scikit-learn's argmax over [1-p, p] returns labels[0] at exactly p == 0.5. We do NOT nudge leaves
        # (coremltools' 0.5 - 1e-7 hack changes probabilities); the parity suite's tie rule accounts for it.
        return int(_TRANSFORM.NoTransform)
    if d == 1 and k == 2 and task.link == "logistic":
        return int(_TRANSFORM.Regression_Logistic)  # p = 1/(1+exp(-s)) = P(labels[1])
    if d == k and task.link == "identity":
        return int(_TRANSFORM.NoTransform)  # MULTICLASS: the summed vector is the probabilities, as-is
    if d == k and task.link == "softmax":
        return int(_TRANSFORM.Classification_SoftMax)
    raise ExportFailedError(
        f"TreeEnsemble: link {task.link!r} with {d} output dimensions and {k} classes has no Core ML encoding; "
        "supported: identity (D=1 binary or D=K), logistic (D=1 binary), softmax (D=K)")


def _node_ids(values: np.ndarray, field: str) -> np.ndarray:
    if values.size and int(values.min()) < 0:
        raise ExportFailedError(f"TreeEnsemble: {field} must be >= 0 (Core ML TreeNode ids are uint64), "
                                f"got {int(values.min())}")
    return values.astype(np.uint64)


def node_columns(node: ir.TreeEnsemble) -> TreeNodeColumns:
    """The TreeNode field values for every IR node, ids kept as they are (unique per tree).

    Leaves: treeId, nodeId, nodeBehavior=LeafNode and evaluationInfo — only dimension leaf_target when that is >= 0
    (one tree per class, gradient boosting), else all D dimensions. Branches: every branch is written as
    BranchOnValueLessThanEqual (the proto3 default, 0 bytes on the wire). ir.BranchMode.LT (`x < m`) becomes
    `x <= nextafter(m, -inf)`: no double lies strictly between the two, so for every double input, +-inf included,
    the comparison is the same — an exact re-encoding, not a rounding (Core ML inputs and thresholds are doubles; the
    ONNX writer does the same). The one exception is m = -inf (`x < -inf` is never true, `x <= -inf` is for
    x = -inf), which keeps BranchOnValueLessThan. NaN takes the true child iff missingValueTracksTrueChild
    (scikit-learn's missing_go_to_left), whatever the comparison. relativeHitRate is not written: Apple documents it
    as an optimisation hint with "no effect on the accuracy of the result", and it cost 10 bytes per node.
    """
    leaf = node.is_leaf
    branch = ~leaf
    threshold = np.where(branch, node.threshold, 0.0)
    less_than = branch & (node.mode == ir.BranchMode.LT)
    shifted = less_than & (threshold > -np.inf)
    threshold[shifted] = np.nextafter(threshold[shifted], -np.inf)
    behavior = np.where(leaf, _LEAF, np.where(less_than & ~shifted, _LESS_THAN, _LESS_THAN_EQUAL)).astype(np.int64)
    d = node.n_outputs
    # evaluationInfo: one entry per (leaf, dimension) in node order, dimensions ascending.
    all_dims = (node.leaf_target < 0)[:, None]
    dims = leaf[:, None] & (all_dims | (np.arange(d)[None, :] == node.leaf_target[:, None]))
    info_node, info_index = np.nonzero(dims)
    return TreeNodeColumns(
        tree_id=_node_ids(node.tree_id, "tree_id"),
        node_id=_node_ids(node.node_id, "node_id"),
        behavior=behavior,
        feature=np.where(branch, node.feature, 0).astype(np.uint64),
        threshold=threshold,
        true_child=_node_ids(np.where(branch, node.true_child, 0), "true_child"),  # leaves hold -1 in the IR
        false_child=_node_ids(np.where(branch, node.false_child, 0), "false_child"),
        missing_true=branch & node.missing_tracks_true,
        info_node=info_node.astype(np.int64),
        info_index=info_index.astype(np.uint64),
        info_value=np.ascontiguousarray(node.leaf_value[info_node, info_index], dtype=np.float64),
    )


def tree_ensemble_model(node: ir.TreeEnsemble, task: ir.Regression | ir.Classification, source: Feature,
                        names: OutputNames) -> Spec:
    """One treeEnsembleClassifier/Regressor reading the vector `source`."""
    if source.width != node.n_features:
        raise ExportFailedError(f"TreeEnsemble reads {node.n_features} features but its input has {source.width}")
    transform = _post_transform(node, task)
    if isinstance(task, ir.Classification):
        outputs = classifier_outputs(task, names, task.has_proba)
        spec = new_model([source], outputs)
        mark_classifier(spec, outputs)
        message = spec.treeEnsembleClassifier
        set_class_labels(message, task.labels, task.string_labels)
    else:
        if task.n_targets != node.n_outputs:
            raise ExportFailedError(f"TreeEnsemble: {node.n_outputs} output dimensions for {task.n_targets} targets")
        prediction_type = double_type() if node.n_outputs == 1 else vector_type(node.n_outputs)
        spec = new_model([source], [Feature(names.prediction, prediction_type)])
        spec.description.predictedFeatureName = names.prediction
        message = spec.treeEnsembleRegressor
    message.postEvaluationTransform = transform
    params = message.treeEnsemble
    params.numPredictionDimensions = node.n_outputs
    params.basePredictionValue.extend(np.asarray(node.base, dtype=np.float64).tolist())
    params.MergeFromString(encode_nodes(node_columns(node)))  # upb parses the vectorised bytes in milliseconds
    return spec
