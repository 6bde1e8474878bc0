"""Core ML reference evaluator for `treeEnsembleRegressor` / `treeEnsembleClassifier` (TreeEnsemble.proto, §1.1).

A spec is compiled once into flat numpy arrays; prediction walks every row through every tree in lock-step
(a (rows x trees) node matrix, one gather per level), then sums the leaves' sparse `evaluationInfo` into
`basePredictionValue` (Core ML sums over trees; it never averages) and applies `postEvaluationTransform`.

Semantics and what we chose where Apple is silent:
* Branch: go to `trueChildNodeId` iff `x[branchFeatureIndex] <op> branchFeatureValue` holds, compared in float64
  (the proto stores doubles; the runtime's internal precision is undocumented).
* NaN input: goes to the true child iff `missingValueTracksTrueChild`, for *every* branch mode, including
  BranchOnValueNotEqual (transforms/TreeEnsemble.hpp: missing values "always travel down the false path" by
  default, i.e. NaN is detected before the comparison).
* Classifier mode (TreeEnsembleCommon.cpp): D == 1 with 2 (or no) labels is BINARY: the transformed score p is
  P(labels[1]); probabilities {labels[0]: 1-p, labels[1]: p}; label = labels[1] iff p >= 0.5 (threshold and the
  tie going to labels[1] are inferred, undocumented). D >= 2 with D labels (or none -> 0..D-1) is MULTICLASS:
  probabilities are the transformed scores as-is (no renormalisation), label = first argmax (tie rule
  undocumented; we choose the lowest index).
* Classification_SoftMaxWithZeroClassReference has no documented semantics: refused as unsupported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from parity.coreml_reference.classifier_outputs import (
    classifier_outputs,
    label_array,
    sigmoid,
    softmax,
)
from parity.coreml_reference.feature_columns import Column, feature_kind, slot_count, vectorize_features
from parity.coreml_reference.validation import class_label_values, fail, validate_tree_structure
from parity.errors import CoreMLSpecError

# TreeNode.TreeNodeBehavior values.
LESS_THAN_EQUAL, LESS_THAN, GREATER_THAN_EQUAL, GREATER_THAN, EQUAL, NOT_EQUAL, LEAF = range(7)
BRANCH_MODE_NAMES = ("BranchOnValueLessThanEqual", "BranchOnValueLessThan", "BranchOnValueGreaterThanEqual",
                     "BranchOnValueGreaterThan", "BranchOnValueEqual", "BranchOnValueNotEqual", "LeafNode")
# TreeEnsemblePostEvaluationTransform values.
NO_TRANSFORM, SOFTMAX, LOGISTIC, SOFTMAX_ZERO_REFERENCE = range(4)
SUPPORTED_TRANSFORMS = "NoTransform, Classification_SoftMax, Regression_Logistic"

# Truth table of each branch mode against the comparison outcome code: 0 = x > t, 1 = x == t, 2 = x < t.
_MODE_TRUTH = np.array(
    [
        [False, True, True],  # <=
        [False, False, True],  # <
        [True, True, False],  # >=
        [True, False, False],  # >
        [False, True, False],  # ==
        [True, False, True],  # !=
        [False, False, False],  # leaf (never consulted: a leaf's children are itself)
    ]
)
# Refuse to allocate absurd score vectors from a fuzzed numPredictionDimensions.
MAX_PREDICTION_DIMENSIONS = 1 << 20
# Rows x trees cells walked per block: small enough for the node matrix and gathers to stay cache-resident.
_CELLS_PER_BLOCK = 1 << 18


@dataclass(frozen=True)
class CompiledForest:
    """Flat arrays of one tree ensemble; node i's children are children[2i] (true) and children[2i+1] (false)."""

    feature: np.ndarray  # (N,) intp; 0 for leaves
    threshold: np.ndarray  # (N,) float64
    mode: np.ndarray  # (N,) int8 TreeNodeBehavior
    tracks_true: np.ndarray  # (N,) bool missingValueTracksTrueChild
    children: np.ndarray  # (2N,) intp; a leaf points at itself twice
    roots: np.ndarray  # (T,) intp
    max_depth: int
    leaf_values: np.ndarray  # (N, D) float64 dense per-node contribution (zeros for branches)
    base: np.ndarray  # (D,) float64
    all_less_equal: bool
    any_tracks_true: bool

    def raw_scores(self, x: np.ndarray) -> np.ndarray:
        """Sum of base + activated leaves, (n, D), before postEvaluationTransform."""
        n_rows = x.shape[0]
        n_trees = len(self.roots)
        scores = np.empty((n_rows, self.base.shape[0]), dtype=np.float64)
        block = max(1, _CELLS_PER_BLOCK // max(n_trees, 1))
        for start in range(0, n_rows, block):
            rows = x[start : start + block]
            leaves = self._walk(np.ascontiguousarray(rows, dtype=np.float64))
            scores[start : start + block] = self.base + self.leaf_values[leaves].sum(axis=1)
        return scores

    def _walk(self, rows: np.ndarray) -> np.ndarray:
        n_rows, n_features = rows.shape
        node = np.broadcast_to(self.roots, (n_rows, len(self.roots))).copy()
        row_offset = (np.arange(n_rows, dtype=np.intp) * n_features)[:, None]
        flat = rows.ravel()
        has_nan = bool(np.isnan(flat).any())
        for _ in range(self.max_depth):
            value = flat[row_offset + self.feature[node]]
            threshold = self.threshold[node]
            if self.all_less_equal:
                go_true = value <= threshold
            else:
                outcome = (value == threshold).astype(np.intp) + 2 * (value < threshold)
                go_true = _MODE_TRUTH[self.mode[node], outcome]
            if has_nan:
                # NaN is "missing": true child iff missingValueTracksTrueChild, whatever the comparison says.
                go_true = np.where(np.isnan(value), self.tracks_true[node], go_true)
            node = self.children[2 * node + (~go_true)]
        return node


def compile_forest(model_type: str, spec: Any) -> CompiledForest:
    """Read TreeEnsembleParameters into flat arrays, enforcing Apple's tree rules (validation.py)."""
    params = getattr(spec, model_type).treeEnsemble
    dimensions = int(params.numPredictionDimensions)
    if dimensions == 0:
        raise fail(model_type, "treeEnsemble.numPredictionDimensions is 0 (must be > 0)")
    if dimensions > MAX_PREDICTION_DIMENSIONS:
        raise fail(model_type, f"treeEnsemble.numPredictionDimensions {dimensions} exceeds the evaluator's limit "
                               f"{MAX_PREDICTION_DIMENSIONS}")
    base = np.array(params.basePredictionValue, dtype=np.float64)
    if base.size == 0:
        base = np.zeros(dimensions)
    elif base.size != dimensions:
        raise fail(model_type, f"treeEnsemble.basePredictionValue has {base.size} values; numPredictionDimensions "
                               f"is {dimensions} (must be 0 or equal)")
    nodes = params.nodes
    records = [
        (n.treeId, n.nodeId, n.nodeBehavior, n.branchFeatureIndex, n.branchFeatureValue, n.trueChildNodeId,
         n.falseChildNodeId, n.missingValueTracksTrueChild, len(n.evaluationInfo))
        for n in nodes
    ]
    if not records:
        raise fail(model_type, "treeEnsemble.nodes is empty")
    columns = list(zip(*records, strict=True))
    tree_ids = np.array(columns[0], dtype=np.uint64)
    node_ids = np.array(columns[1], dtype=np.uint64)
    mode = np.array(columns[2], dtype=np.int64)
    if ((mode < 0) | (mode > LEAF)).any():
        bad = int(np.flatnonzero((mode < 0) | (mode > LEAF))[0])
        raise fail(model_type, f"tree node (treeId={tree_ids[bad]}, nodeId={node_ids[bad]}) has unknown "
                               f"nodeBehavior {mode[bad]}; supported: {', '.join(BRANCH_MODE_NAMES)}")
    is_leaf = mode == LEAF
    feature = np.array(columns[3], dtype=np.uint64)
    threshold = np.array(columns[4], dtype=np.float64)
    true_ids = np.array(columns[5], dtype=np.uint64)
    false_ids = np.array(columns[6], dtype=np.uint64)
    tracks_true = np.array(columns[7], dtype=bool)
    n_entries = np.array(columns[8], dtype=np.int64)

    n_features = sum(slot_count(feature_desc) for feature_desc in spec.description.input)
    out_of_range = ~is_leaf & (feature >= np.uint64(n_features))
    if out_of_range.any():  # evaluator rule: Apple checks this only at prediction time, if at all
        bad = int(np.flatnonzero(out_of_range)[0])
        raise fail(model_type, f"tree node (treeId={tree_ids[bad]}, nodeId={node_ids[bad]}) has "
                               f"branchFeatureIndex {feature[bad]} but the inputs provide {n_features} features")
    empty_leaf = is_leaf & (n_entries == 0)
    if empty_leaf.any():
        bad = int(np.flatnonzero(empty_leaf)[0])
        raise fail(model_type, f"leaf node (treeId={tree_ids[bad]}, nodeId={node_ids[bad]}) has no evaluationInfo")

    true_index, false_index, roots, max_depth = validate_tree_structure(
        model_type, tree_ids, node_ids, is_leaf, true_ids, false_ids
    )
    leaf_values = _leaf_value_matrix(model_type, nodes, is_leaf, n_entries, dimensions, tree_ids, node_ids)
    children = np.empty(2 * len(records), dtype=np.intp)
    children[0::2] = true_index
    children[1::2] = false_index
    branch_modes = mode[~is_leaf]
    return CompiledForest(
        feature=np.where(is_leaf, 0, feature).astype(np.intp),
        threshold=threshold,
        mode=mode.astype(np.int8),
        tracks_true=tracks_true,
        children=children,
        roots=roots.astype(np.intp),
        max_depth=max_depth,
        leaf_values=leaf_values,
        base=base,
        all_less_equal=bool((branch_modes == LESS_THAN_EQUAL).all()),
        any_tracks_true=bool(tracks_true[~is_leaf].any()),
    )


def _leaf_value_matrix(
    model_type: str,
    nodes: Any,
    is_leaf: np.ndarray,
    n_entries: np.ndarray,
    dimensions: int,
    tree_ids: np.ndarray,
    node_ids: np.ndarray,
) -> np.ndarray:
    leaf_rows = np.flatnonzero(is_leaf)
    if len(nodes) * dimensions > (1 << 27):
        raise fail(model_type, f"{len(nodes)} nodes x {dimensions} dimensions exceeds the evaluator's dense leaf "
                               f"table limit")
    entries = [(info.evaluationIndex, info.evaluationValue) for i in leaf_rows.tolist()
               for info in nodes[i].evaluationInfo]
    indices = np.array([e[0] for e in entries], dtype=np.uint64)
    values = np.array([e[1] for e in entries], dtype=np.float64)
    owner = np.repeat(leaf_rows, n_entries[leaf_rows])
    if (indices >= np.uint64(dimensions)).any():
        bad = int(owner[np.flatnonzero(indices >= np.uint64(dimensions))[0]])
        raise fail(model_type, f"leaf node (treeId={tree_ids[bad]}, nodeId={node_ids[bad]}) has evaluationIndex "
                               f">= numPredictionDimensions {dimensions}")
    flat = owner.astype(np.int64) * dimensions + indices.astype(np.int64)
    if len(np.unique(flat)) != len(flat):
        _, first = np.unique(flat, return_index=True)
        bad = int(owner[np.setdiff1d(np.arange(len(flat)), first)[0]])
        raise fail(model_type, f"leaf node (treeId={tree_ids[bad]}, nodeId={node_ids[bad]}) sets the same "
                               f"evaluationIndex twice")
    table = np.zeros(len(nodes) * dimensions, dtype=np.float64)
    table[flat] = values
    return table.reshape(len(nodes), dimensions)


def _transform(model_type: str, transform: int, scores: np.ndarray) -> np.ndarray:
    if transform == NO_TRANSFORM:
        return scores
    if transform == SOFTMAX:
        return softmax(scores)
    if transform == LOGISTIC:
        return sigmoid(scores)
    raise fail(model_type, f"postEvaluationTransform {transform} is not supported (Classification_SoftMaxWith"
                           f"ZeroClassReference has no documented semantics); supported: {SUPPORTED_TRANSFORMS}")


def build_tree_ensemble_regressor(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `treeEnsembleRegressor`: transformed scores; D == 1 -> Double, D > 1 -> MultiArray."""
    model_type = "treeEnsembleRegressor"
    forest = compile_forest(model_type, spec)
    transform = int(spec.treeEnsembleRegressor.postEvaluationTransform)
    _transform(model_type, transform, np.zeros((1, forest.base.size)))  # reject unsupported transforms up front
    description = spec.description
    target = description.predictedFeatureName
    declared = next(feature for feature in description.output if feature.name == target)
    if feature_kind(declared) == "doubleType" and forest.base.size != 1:
        raise fail(model_type, f"output {target!r} is doubleType but numPredictionDimensions is {forest.base.size}")

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        scores = _transform(model_type, transform, forest.raw_scores(vectorize_features(description.input, env)))
        return {target: scores[:, 0] if forest.base.size == 1 else scores}

    return evaluate


def tree_classifier_labels(spec: Any) -> list[Any]:
    """Class labels of a treeEnsembleClassifier, defaulting like TreeEnsembleCommon ({0,1} or 0..D-1)."""
    params = spec.treeEnsembleClassifier
    labels = class_label_values("treeEnsembleClassifier", params)
    if labels is None:
        dimensions = int(params.treeEnsemble.numPredictionDimensions)
        return [0, 1] if dimensions == 1 else list(range(min(dimensions, MAX_PREDICTION_DIMENSIONS)))
    return labels


def build_tree_ensemble_classifier(spec: Any) -> Callable[[Mapping[str, Column]], dict[str, Column]]:
    """Evaluator for `treeEnsembleClassifier` in BINARY (D == 1) or MULTICLASS (D == #labels) mode."""
    model_type = "treeEnsembleClassifier"
    forest = compile_forest(model_type, spec)
    transform = int(spec.treeEnsembleClassifier.postEvaluationTransform)
    _transform(model_type, transform, np.zeros((1, forest.base.size)))
    labels = label_array(tree_classifier_labels(spec))
    dimensions = forest.base.size
    binary = dimensions == 1 and len(labels) == 2
    if not binary and dimensions != len(labels):
        raise fail(model_type, f"numPredictionDimensions {dimensions} does not fit {len(labels)} class labels "
                               f"(supported: D == 1 with 2 labels, or D == number of labels)")
    description = spec.description

    def evaluate(env: Mapping[str, Column]) -> dict[str, Column]:
        scores = _transform(model_type, transform, forest.raw_scores(vectorize_features(description.input, env)))
        if binary:
            positive = scores[:, 0]
            probabilities = np.column_stack([1.0 - positive, positive])
            winner = (positive >= 0.5).astype(np.intp)
        else:
            probabilities = scores
            winner = np.argmax(scores, axis=1)
        return classifier_outputs(model_type, description, labels, winner, probabilities)

    return evaluate


__all__ = [
    "CompiledForest",
    "CoreMLSpecError",
    "build_tree_ensemble_classifier",
    "build_tree_ensemble_regressor",
    "compile_forest",
    "tree_classifier_labels",
]
