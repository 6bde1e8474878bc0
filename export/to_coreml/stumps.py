"""IR Bins and MissingIndicator → Core ML treeEnsembleRegressor of one-split trees ("stumps"), exact over doubles:
thresholds and leaf values are doubles (TreeEnsemble.proto) and every output is a sum of 0.0/1.0 leaves — small
integers, exact in any summation order. The same encoding as the exact one-hot (export/to_coreml/one_hot.py)."""

from __future__ import annotations

import math

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import Feature, new_model, vector_type
from export.to_coreml.protos import Spec, TreeEnsemble_pb2

_NODE = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode


def _stumps_regressor(source: Feature, output_name: str, n_outputs: int) -> tuple[Spec, list[int]]:
    """An empty treeEnsembleRegressor writing the DOUBLE vector `output_name`; the list counts its trees."""
    output = Feature(output_name, vector_type(n_outputs))
    spec = new_model([source], [output])
    spec.description.predictedFeatureName = output_name
    regressor = spec.treeEnsembleRegressor
    regressor.postEvaluationTransform = TreeEnsemble_pb2.TreeEnsemblePostEvaluationTransform.NoTransform
    regressor.treeEnsemble.numPredictionDimensions = n_outputs
    regressor.treeEnsemble.basePredictionValue.extend([0.0] * n_outputs)
    return spec, [0]


def _add_stump(spec: Spec, trees: list[int], behavior: int, feature: int, value: float, dimension: int,
               leaves: tuple[float, float], missing_true: bool) -> None:
    """One tree: `x[feature] <behavior> value` → a leaf adding leaves[0] to `dimension`, else leaves[1]."""
    params = spec.treeEnsembleRegressor.treeEnsemble
    tree = trees[0]
    trees[0] += 1
    params.nodes.add(treeId=tree, nodeId=0, nodeBehavior=behavior, branchFeatureIndex=feature,
                     branchFeatureValue=value, trueChildNodeId=1, falseChildNodeId=2,
                     missingValueTracksTrueChild=missing_true)
    for node_id, leaf_value in zip((1, 2), leaves, strict=True):
        leaf = params.nodes.add(treeId=tree, nodeId=node_id, nodeBehavior=_NODE.LeafNode)
        leaf.evaluationInfo.add(evaluationIndex=dimension, evaluationValue=leaf_value)


def bins_model(node: ir.Bins, source: Feature, output_name: str) -> Spec:
    """y_j = #{e in edges[j] : e <= x_j}: one stump per edge, `x_j < e` → 0 else 1 into dimension j (NaN takes the
    true child: 0, as NaN >= e is false)."""
    if source.width != node.n_features:
        raise ExportFailedError(f"Bins reads {node.n_features} features but its input has {source.width}")
    spec, trees = _stumps_regressor(source, output_name, node.n_features)
    for j, edges in enumerate(node.edges):
        for edge in edges.tolist():
            _add_stump(spec, trees, _NODE.BranchOnValueLessThan, j, edge, j, (0.0, 1.0), missing_true=True)
    if trees[0] == 0:  # every feature has one bin (no edges): the constant 0, one stump adding 0 either way
        _add_stump(spec, trees, _NODE.BranchOnValueLessThan, 0, 0.0, 0, (0.0, 0.0), missing_true=True)
    return spec


def missing_indicator_model(node: ir.MissingIndicator, source: Feature, output_name: str) -> Spec:
    """Indicator k reads feature f = features[k]: NaN missing → `x_f <= +inf` (true for every non-NaN double) → 0,
    NaN to the false child → 1; a numeric missing value m → `x_f == m` → 1 else 0."""
    if source.width != node.n_features:
        raise ExportFailedError(f"MissingIndicator reads {node.n_features} features but its input has "
                                f"{source.width}")
    spec, trees = _stumps_regressor(source, output_name, int(node.features.size))
    for k, feature in enumerate(node.features.tolist()):
        if math.isnan(node.missing_value):
            _add_stump(spec, trees, _NODE.BranchOnValueLessThanEqual, feature, math.inf, k, (0.0, 1.0),
                       missing_true=False)
        else:
            _add_stump(spec, trees, _NODE.BranchOnValueEqual, feature, node.missing_value, k, (1.0, 0.0),
                       missing_true=False)
    return spec
