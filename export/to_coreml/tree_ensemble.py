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

_TRANSFORM = TreeEnsemble_pb2.TreeEnsemblePostEvaluationTransform
_LEAF = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode.LeafNode


def _post_transform(node: ir.TreeEnsemble) -> int:
    """Map the task's link to postEvaluationTransform (§1.1 step 4), checking Core ML's classifier modes (step 6)."""
    task = node.task
    if isinstance(task, ir.Regression):
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


def _fill_nodes(params: object, node: ir.TreeEnsemble) -> None:
    """TreeEnsembleParameters.nodes: one TreeNode per IR node, ids kept as they are (unique per tree)."""
    d = node.n_outputs
    leaf_targets = node.leaf_target.tolist()
    leaf_values = node.leaf_value.tolist()
    hit_rates = node.hit_rate.tolist() if node.hit_rate is not None else None
    nodes = params.nodes  # type: ignore[attr-defined]
    for i, (tree_id, node_id, feature, threshold, mode, true_child, false_child, missing_true) in enumerate(zip(
            node.tree_id.tolist(), node.node_id.tolist(), node.feature.tolist(), node.threshold.tolist(),
            node.mode.tolist(), node.true_child.tolist(), node.false_child.tolist(),
            node.missing_tracks_true.tolist(), strict=True)):
        tree_node = nodes.add()
        tree_node.treeId = tree_id
        tree_node.nodeId = node_id
        if hit_rates is not None:
            tree_node.relativeHitRate = hit_rates[i]
        if feature < 0:
            tree_node.nodeBehavior = _LEAF
            # evaluationInfo: only dimension leaf_target (one tree per class, gradient boosting), else all D.
            dims = [leaf_targets[i]] if leaf_targets[i] >= 0 else range(d)
            for dim in dims:
                info = tree_node.evaluationInfo.add()
                info.evaluationIndex = dim
                info.evaluationValue = leaf_values[i][dim]
            continue
        # ir.BranchMode values are TreeNodeBehavior's (LEQ=0 BranchOnValueLessThanEqual, LT=1 BranchOnValueLessThan)
        tree_node.nodeBehavior = mode
        tree_node.branchFeatureIndex = feature
        tree_node.branchFeatureValue = threshold  # exact double; the front-end already snapped it
        tree_node.trueChildNodeId = true_child
        tree_node.falseChildNodeId = false_child
        tree_node.missingValueTracksTrueChild = missing_true


def tree_ensemble_model(node: ir.TreeEnsemble, source: Feature, names: OutputNames) -> Spec:
    """One treeEnsembleClassifier/Regressor reading the vector `source`."""
    if source.width != node.n_features:
        raise ExportFailedError(f"TreeEnsemble reads {node.n_features} features but its input has {source.width}")
    task = node.task
    transform = _post_transform(node)
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
    _fill_nodes(params, node)
    return spec
