"""IR OneHotEncoder → Core ML treeEnsembleRegressor of BranchOnValueEqual stumps: exact one-hot over doubles."""

from __future__ import annotations

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import Feature, new_model, vector_type
from export.to_coreml.protos import Spec, TreeEnsemble_pb2

_NODE = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode
_EXACT_INTEGER_LIMIT = 2**53  # int64 categories above this are not exactly representable as doubles


def one_hot_model(node: ir.OneHotEncoder, source: Feature, output_name: str) -> Spec:
    """Indicator k (column j, category c) is one stump: `x[j] == c` → leaf adding 1.0 to dimension k, else a leaf
    adding 0.0. The sum over stumps is exactly the one-hot row; a value in no category (unseen, non-integer, NaN —
    NaN goes to the false child since missingValueTracksTrueChild is false) gives zeros, like scikit-learn's
    handle_unknown='ignore'.

    Why not Core ML's OneHotEncoder: it reads one Int64 or String scalar (§1.7), so a double column must first be
    cast to Int64 by an ArrayFeatureExtractor, and that cast is undocumented (truncation would map 5.7 to category
    5, and NaN has no Int64 value) — scikit-learn treats both as unknown. Comparing doubles is exact.
    """
    if source.width != node.n_features:
        raise ExportFailedError(f"OneHotEncoder reads {node.n_features} features but its input has {source.width}")
    output = Feature(output_name, vector_type(node.n_outputs))
    spec = new_model([source], [output])
    spec.description.predictedFeatureName = output_name
    regressor = spec.treeEnsembleRegressor
    regressor.postEvaluationTransform = TreeEnsemble_pb2.TreeEnsemblePostEvaluationTransform.NoTransform
    params = regressor.treeEnsemble
    params.numPredictionDimensions = node.n_outputs
    params.basePredictionValue.extend([0.0] * node.n_outputs)
    dimension = 0
    for column, categories in enumerate(node.categories):
        if categories.dtype == object:
            raise ExportFailedError(f"OneHotEncoder column {column} has string categories; the Core ML export "
                                    "reads a numeric row, so only integer categories are supported")
        for category in categories.tolist():
            if abs(category) > _EXACT_INTEGER_LIMIT:
                raise ExportFailedError(f"OneHotEncoder column {column} category {category} is not exactly "
                                        f"representable as a double (|category| must be <= 2**53)")
            params.nodes.add(treeId=dimension, nodeId=0, nodeBehavior=_NODE.BranchOnValueEqual,
                             branchFeatureIndex=column, branchFeatureValue=float(category), trueChildNodeId=1,
                             falseChildNodeId=2, missingValueTracksTrueChild=False)
            hit = params.nodes.add(treeId=dimension, nodeId=1, nodeBehavior=_NODE.LeafNode)
            hit.evaluationInfo.add(evaluationIndex=dimension, evaluationValue=1.0)
            miss = params.nodes.add(treeId=dimension, nodeId=2, nodeBehavior=_NODE.LeafNode)
            miss.evaluationInfo.add(evaluationIndex=dimension, evaluationValue=0.0)
            dimension += 1
    return spec
