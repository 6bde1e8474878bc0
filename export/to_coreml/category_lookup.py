"""IR CategoryLookup → Core ML: per String column a CategoricalMapping (string → Int64), then either Core ML's own
OneHotEncoder (one-hot tables) or an equality-chain tree regressor that copies the looked-up row (any table)."""

from __future__ import annotations

import numpy as np

from export import ir
from export.errors import ExportFailedError
from export.to_coreml.features import Feature, Names, int64_type, new_model, vector_type
from export.to_coreml.pipeline import feature_vectorizer_model
from export.to_coreml.protos import OneHotEncoder_pb2, Spec, TreeEnsemble_pb2

_NODE = TreeEnsemble_pb2.TreeEnsembleParameters.TreeNode


def _mapping_model(source: Feature, keys: np.ndarray, codes: list[int], unknown: int, output: Feature) -> Spec:
    """CategoricalMapping.stringToInt64Map key → code, ValueOnUnknown.int64Value = `unknown` (every key is in the
    map, so "" and a dropped category never fall through to the unknown value by accident)."""
    spec = new_model([source], [output])
    mapping = spec.categoricalMapping
    for key, code in zip(keys.tolist(), codes, strict=True):
        mapping.stringToInt64Map.map[str(key)] = int(code)
    mapping.int64Value = int(unknown)
    return spec


def _one_hot_block(source: Feature, node: ir.CategoryLookup, j: int, block: Feature, names: Names) -> list[Spec]:
    """Rows that are one-hot or all zero: key → the position of its 1 (−1 for all zero), then OneHotEncoder over
    0..width−1 with IgnoreUnknown (−1 → all zeros). Exact: the encoder writes 0/1 only."""
    def position(row: np.ndarray) -> int:
        hits = np.flatnonzero(row == 1)
        return int(hits[0]) if hits.size else -1

    codes = [position(row) for row in node.values[j]]
    code = Feature(names.fresh("category_position"), int64_type())
    mapping = _mapping_model(source, node.keys[j], codes, position(node.default[j]), code)
    encoder = new_model([code], [block])
    encoder.oneHotEncoder.int64Categories.vector.extend(range(node.widths[j]))
    encoder.oneHotEncoder.outputSparse = False
    encoder.oneHotEncoder.handleUnknown = OneHotEncoder_pb2.OneHotEncoder.IgnoreUnknown
    return [mapping, encoder]


def _table_block(source: Feature, node: ir.CategoryLookup, j: int, block: Feature, names: Names) -> list[Spec]:
    """Any rows (ordinal codes, NaN, target encodings): key → row index (unknown → n), then one tree whose chain of
    BranchOnValueEqual nodes `index == i` ends in leaf i holding row i (the last false child holds the default).
    basePredictionValue is 0 and each leaf value is added once: 0 + v == v for every double (NaN too). Linear size:
    2n + 1 nodes, no shared subtree (Core ML nodes have one parent)."""
    keys, values, default = node.keys[j], node.values[j], node.default[j]
    n, width = int(keys.size), int(default.size)
    index = Feature(names.fresh("category_row"), int64_type())
    mapping = _mapping_model(source, keys, list(range(n)), n, index)
    vectorizer, vector = feature_vectorizer_model([index], names.fresh("category_row_vector"))
    spec = new_model([vector], [block])
    spec.description.predictedFeatureName = block.name
    regressor = spec.treeEnsembleRegressor
    regressor.postEvaluationTransform = TreeEnsemble_pb2.TreeEnsemblePostEvaluationTransform.NoTransform
    params = regressor.treeEnsemble
    params.numPredictionDimensions = width
    params.basePredictionValue.extend([0.0] * width)

    def leaf(node_id: int, row: np.ndarray) -> None:
        leaf_node = params.nodes.add(treeId=0, nodeId=node_id, nodeBehavior=_NODE.LeafNode)
        dims = [k for k in range(width) if not (row[k] == 0 and not np.signbit(row[k]))] or [0]
        for k in dims:
            leaf_node.evaluationInfo.add(evaluationIndex=k, evaluationValue=float(row[k]))

    for i in range(n):
        params.nodes.add(treeId=0, nodeId=2 * i, nodeBehavior=_NODE.BranchOnValueEqual, branchFeatureIndex=0,
                         branchFeatureValue=float(i), trueChildNodeId=2 * i + 1, falseChildNodeId=2 * i + 2,
                         missingValueTracksTrueChild=False)
        leaf(2 * i + 1, values[i])
    leaf(2 * n, default)
    return [mapping, vectorizer, spec]


def category_lookup_models(node: ir.CategoryLookup, sources: list[Feature], output_name: str,
                           names: Names) -> tuple[list[Spec], list[Feature]]:
    """One block per String column (see the two lowerings above), side by side into the DOUBLE vector
    `output_name`."""
    if len(sources) != node.n_features:
        raise ExportFailedError(f"CategoryLookup has {node.n_features} key lists for {len(sources)} columns")
    models: list[Spec] = []
    blocks: list[Feature] = []
    single = len(sources) == 1
    for j, source in enumerate(sources):
        if source.type.WhichOneof("Type") != "stringType":
            raise ExportFailedError(f"CategoryLookup column {source.name!r} must be a String input")
        block = Feature(output_name if single else names.fresh("category_block"), vector_type(node.widths[j]))
        lower = _one_hot_block if node.one_hot_block(j) else _table_block
        models.extend(lower(source, node, j, block, names))
        blocks.append(block)
    if single:
        return models, blocks
    vectorizer, output = feature_vectorizer_model(blocks, output_name)
    return [*models, vectorizer], [output]
