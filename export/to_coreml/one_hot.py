"""IR OneHotEncoder → Core ML treeEnsembleRegressor of BranchOnValueEqual stumps: exact one-hot over doubles."""

from __future__ import annotations

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import Feature, Names, new_model, vector_type
from export.to_coreml.pipeline import feature_vectorizer_model
from export.to_coreml.protos import OneHotEncoder_pb2, Spec, TreeEnsemble_pb2

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


def one_hot_columns_models(node: ir.OneHotEncoder, sources: list[Feature], output_name: str,
                           names: Names) -> tuple[list[Spec], list[Feature]]:
    """A OneHotEncoder reading schema columns one by one (category list j for source j), into the DOUBLE vector
    `output_name`: a String or Int64 column through Core ML's own oneHotEncoder (§1.7: one scalar in, a dense
    MultiArray of len(categories) out; handleUnknown=IgnoreUnknown gives all zeros, scikit-learn's
    handle_unknown='ignore'), a Double column through the exact stump encoding above. Blocks are side by side."""
    if len(sources) != node.n_features:
        raise ExportFailedError(f"OneHotEncoder has {node.n_features} category lists for {len(sources)} columns")
    models: list[Spec] = []
    blocks: list[Feature] = []
    single = len(sources) == 1
    for column, (source, categories) in enumerate(zip(sources, node.categories, strict=True)):
        block = Feature(output_name if single else names.fresh("one_hot"), vector_type(int(categories.size)))
        kind = source.type.WhichOneof("Type")
        if kind == "doubleType":
            vectorizer, vector = feature_vectorizer_model([source], names.fresh("one_hot_input"))
            models.extend([vectorizer, one_hot_model(ir.OneHotEncoder((categories,)), vector, block.name)])
        else:
            is_string = kind == "stringType"
            if is_string != (categories.dtype == object):
                raise ExportFailedError(f"OneHotEncoder column {column}: {kind} input with "
                                        f"{'string' if categories.dtype == object else 'integer'} categories")
            spec = new_model([source], [block])
            encoder = spec.oneHotEncoder
            if is_string:
                encoder.stringCategories.vector.extend([str(c) for c in categories.tolist()])
            else:
                encoder.int64Categories.vector.extend([int(c) for c in categories.tolist()])
            encoder.outputSparse = False
            encoder.handleUnknown = OneHotEncoder_pb2.OneHotEncoder.IgnoreUnknown
            models.append(spec)
        blocks.append(block)
    if single:
        return models, blocks
    vectorizer, output = feature_vectorizer_model(blocks, output_name)
    return [*models, vectorizer], [output]
