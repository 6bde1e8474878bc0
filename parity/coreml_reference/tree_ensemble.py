"""Core ML reference evaluator for `treeEnsembleRegressor` / `treeEnsembleClassifier` (TreeEnsemble.proto, §1.1).

A spec is compiled once into flat numpy arrays; prediction walks a block of rows through one tree at a time in
lock-step (a vector of node states, a few numpy gathers per level, no per-row Python), then sums the leaves' sparse
`evaluationInfo` into `basePredictionValue` (Core ML sums over trees; it never averages) and applies
`postEvaluationTransform`. Two layouts: all-`<=` ensembles no deeper than 16 are padded to perfect trees in heap
order (the next node is 2h + go_true, no child gather); anything else uses the compact node table with an explicit
child table and per-mode truth table. Tests check that both layouts agree.

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

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
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
from parity.coreml_reference.tree_nodes import TreeNodeColumns, read_nodes
from parity.coreml_reference.validation import class_label_values, fail, validate_tree_structure
from parity.errors import CoreMLSpecError

# TreeNode.TreeNodeBehavior values.
LESS_THAN_EQUAL, LESS_THAN, GREATER_THAN_EQUAL, GREATER_THAN, EQUAL, NOT_EQUAL, LEAF = range(7)
BRANCH_MODE_NAMES = ("BranchOnValueLessThanEqual", "BranchOnValueLessThan", "BranchOnValueGreaterThanEqual",
                     "BranchOnValueGreaterThan", "BranchOnValueEqual", "BranchOnValueNotEqual", "LeafNode")
# TreeEnsemblePostEvaluationTransform values.
NO_TRANSFORM, SOFTMAX, LOGISTIC, SOFTMAX_ZERO_REFERENCE = range(4)
SUPPORTED_TRANSFORMS = "NoTransform, Classification_SoftMax, Regression_Logistic"

# Truth table of each branch mode against the comparison outcome code: 0 = x > t (or NaN), 1 = x == t, 2 = x < t.
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
# Rows walked together through one tree: large enough to amortise numpy call overhead, small enough for the
# per-row work arrays to stay cache-resident.
_ROWS_PER_BLOCK = 1 << 14
_TREE_GROUPS = 2
_MAX_WORKERS = max(1, min(_TREE_GROUPS, os.cpu_count() or 1))
# Set by `single_threaded()`: the parity suite already runs the evaluator beside scikit-learn and onnxruntime, one
# thread each, so the evaluator's own tree-group threads would only oversubscribe the cores.
_thread_limit: int | None = None


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Evaluate tree groups one after another (same grouping, so the same summation order and results)."""
    global _thread_limit
    previous, _thread_limit = _thread_limit, 1
    try:
        yield
    finally:
        _thread_limit = previous


@dataclass(frozen=True)
class HeapLayout:
    """Each tree padded to a perfect binary tree in heap order (root 1, children 2h = false, 2h + 1 = true).

    Walking needs no child table: h = 2h + go_true. A leaf above the bottom level becomes a subtree whose padding
    nodes have threshold +inf and whose bottom cells all hold the leaf's value, so any route through it ends on that
    value. Only used for all-`<=` ensembles. NaN (for which `<=` is false) goes to the true child iff the real node's
    `tracks_true` flag is set; padding nodes are indifferent, their whole subtree holding one value.
    """

    feature: np.ndarray  # concatenated per-tree tables of 2**(depth+1) entries
    threshold: np.ndarray
    tracks_true: np.ndarray
    table_offset: np.ndarray  # (T,) start of each tree's table
    leaf: np.ndarray  # (sum 2**depth, D) bottom level of each tree
    leaf_offset: np.ndarray  # (T,)
    depths: np.ndarray  # (T,)

    def tree_sums(self, flat: np.ndarray, row_offset: np.ndarray, trees: np.ndarray, has_nan: bool) -> np.ndarray:
        """Sum of the leaves reached in the given trees by rows whose flattened values are `flat`."""
        n_rows = row_offset.shape[0]
        n_features = flat.shape[0] // n_rows if n_rows else 1
        feature = np.empty(n_rows, dtype=np.intp)
        position = np.empty(n_rows, dtype=np.intp)
        value = np.empty(n_rows, dtype=np.float64)
        threshold = np.empty(n_rows, dtype=np.float64)
        go_true = np.empty(n_rows, dtype=bool)
        missing = np.empty(n_rows, dtype=bool)
        tracks_true = np.empty(n_rows, dtype=bool)
        total = np.zeros((n_rows, self.leaf.shape[1]))
        for tree in trees.tolist():
            depth = int(self.depths[tree])
            start = int(self.table_offset[tree])
            size = 2 << depth
            feature_table = self.feature[start : start + size]
            threshold_table = self.threshold[start : start + size]
            tracks_table = self.tracks_true[start : start + size]
            if depth == 0:
                state = np.ones(n_rows, dtype=np.intp)
            else:
                # Level 0: every row is at the root, whose feature column is a strided view of the rows.
                root_values = flat[int(feature_table[1]) :: n_features]
                np.less_equal(root_values, threshold_table[1], out=go_true)
                if has_nan and tracks_table[1]:
                    go_true |= np.isnan(root_values)
                state = go_true.astype(np.intp)
                state += 2
            for _ in range(depth - 1):
                np.take(feature_table, state, out=feature, mode="clip")
                np.add(row_offset, feature, out=position)
                np.take(flat, position, out=value, mode="clip")
                np.take(threshold_table, state, out=threshold, mode="clip")
                np.less_equal(value, threshold, out=go_true)
                if has_nan:
                    # NaN <= t is false; it goes to the true child only where missingValueTracksTrueChild is set.
                    np.isnan(value, out=missing)
                    np.take(tracks_table, state, out=tracks_true, mode="clip")
                    missing &= tracks_true
                    go_true |= missing
                np.left_shift(state, 1, out=state)
                np.add(state, go_true, out=state)
            state -= 1 << depth
            state += int(self.leaf_offset[tree])
            total += self.leaf[state]
        return total


# Perfect-tree padding doubles per level: only worth it (and affordable) for shallow trees.
_MAX_HEAP_DEPTH = 16
_MAX_HEAP_CELLS = 1 << 25


def build_heap_layout(
    feature: np.ndarray, threshold: np.ndarray, tracks_true: np.ndarray, next_state: np.ndarray,
    leaf_values: np.ndarray, roots: np.ndarray, depths: np.ndarray,
) -> HeapLayout | None:
    """Heap tables for the compact (state = 2 * node) arrays, or None when the trees are too deep for padding."""
    if depths.max(initial=0) > _MAX_HEAP_DEPTH:
        return None
    sizes = np.left_shift(2, depths)
    if int(sizes.sum()) * (2 + leaf_values.shape[1]) > _MAX_HEAP_CELLS:
        return None
    table_offset = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    leaf_sizes = sizes // 2
    leaf_offset = np.concatenate([[0], np.cumsum(leaf_sizes)[:-1]])
    heap_feature = np.zeros(int(sizes.sum()), dtype=np.intp)
    heap_threshold = np.full(int(sizes.sum()), np.inf)
    heap_tracks_true = np.zeros(int(sizes.sum()), dtype=bool)
    heap_leaf = np.zeros((int(leaf_sizes.sum()), leaf_values.shape[1]))
    # Level-by-level over all trees at once: (tree, heap position h, compact node).
    tree = np.arange(len(roots))
    position = np.ones(len(roots), dtype=np.int64)
    node = roots.astype(np.int64)
    level = 0
    while tree.size:
        is_leaf = next_state[2 * node] == 2 * node
        inner = ~is_leaf
        global_position = table_offset[tree[inner]] + position[inner]
        heap_feature[global_position] = feature[node[inner]]
        heap_threshold[global_position] = threshold[node[inner]]
        heap_tracks_true[global_position] = tracks_true[node[inner]]
        # A leaf at this level owns 2**(depth - level) bottom cells starting at h << (depth - level): every leaf
        # of the level at once, each cell index = its leaf's first cell + its offset within the leaf's run.
        leaf_tree, leaf_node = tree[is_leaf], node[is_leaf]
        below = depths[leaf_tree].astype(np.int64) - level
        first = (position[is_leaf] << below) - (np.int64(1) << depths[leaf_tree].astype(np.int64)) + leaf_offset[
            leaf_tree]
        counts = np.int64(1) << below
        run_start = np.cumsum(counts) - counts
        within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(run_start, counts)
        heap_leaf[np.repeat(first, counts) + within] = leaf_values[np.repeat(leaf_node, counts)]
        tree = np.repeat(tree[inner], 2)
        position = np.stack([2 * position[inner], 2 * position[inner] + 1], axis=1).ravel()
        node = np.stack([next_state[2 * node[inner]] // 2, next_state[2 * node[inner] + 1] // 2], axis=1).ravel()
        level += 1
    return HeapLayout(heap_feature, heap_threshold, heap_tracks_true, table_offset, heap_leaf, leaf_offset, depths)


@dataclass(frozen=True)
class CompiledForest:
    """Flat arrays of one tree ensemble, nodes grouped by tree.

    The walk state of a row is s = 2 * node; `feature_s`, `threshold_s`, `mode_s`, `tracks_true_s` repeat each node's
    value twice so they are indexed by s directly, and `next_s[s + go_true]` is 2 * (false child, true child). A leaf
    points at itself, so walking `depth` levels from the root lands every row on its leaf.
    """

    feature_s: np.ndarray  # (2N,) intp; 0 for leaves
    threshold_s: np.ndarray  # (2N,) float64
    mode_s: np.ndarray  # (2N,) intp TreeNodeBehavior
    tracks_true_s: np.ndarray  # (2N,) bool missingValueTracksTrueChild
    next_s: np.ndarray  # (2N,) intp
    roots: np.ndarray  # (T,) intp node index of each tree's root
    depths: np.ndarray  # (T,) int depth of each tree
    leaf_values: np.ndarray  # (N, D) float64 per-node contribution (zeros for branches)
    base: np.ndarray  # (D,) float64
    all_less_equal: bool
    heap: HeapLayout | None  # fast path for NaN-free rows when every branch is BranchOnValueLessThanEqual

    def raw_scores(self, x: np.ndarray) -> np.ndarray:
        """Sum of base + activated leaves, (n, D), before postEvaluationTransform."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        scores = np.empty((x.shape[0], self.base.shape[0]), dtype=np.float64)
        # numpy releases the GIL inside take/ufunc loops, so tree groups run concurrently on threads. The grouping
        # (and so the floating-point summation order) is fixed, whatever the machine's core count.
        tree_groups = [np.arange(group, len(self.roots), _TREE_GROUPS) for group in range(_TREE_GROUPS)]
        workers = _thread_limit or _MAX_WORKERS
        # Single-threaded (inside parity runs): the groups one after another on the calling thread, no pool, so the
        # caller's thread CPU time counts the work.
        pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
        try:
            for start in range(0, x.shape[0], _ROWS_PER_BLOCK):
                rows = x[start : start + _ROWS_PER_BLOCK]
                if pool is None:
                    partial_sums = [self._tree_sums(rows, trees) for trees in tree_groups]
                else:
                    partial_sums = list(pool.map(lambda trees, rows=rows: self._tree_sums(rows, trees), tree_groups))
                scores[start : start + _ROWS_PER_BLOCK] = self.base + sum(partial_sums)
        finally:
            if pool is not None:
                pool.shutdown()
        return scores

    def _tree_sums(self, rows: np.ndarray, trees: np.ndarray) -> np.ndarray:
        """Sum of the leaves reached by `rows` in the given trees, (rows, D)."""
        n_rows, n_features = rows.shape
        flat = rows.ravel()
        has_nan = bool(np.isnan(flat).any())
        row_offset = np.arange(n_rows, dtype=np.intp) * n_features
        if self.heap is not None:
            return self.heap.tree_sums(flat, row_offset, trees, has_nan)
        fast = self.all_less_equal and not has_nan
        # Work buffers reused by every level of every tree (np.take(..., out=) avoids reallocating them).
        feature = np.empty(n_rows, dtype=np.intp)
        position = np.empty(n_rows, dtype=np.intp)
        value = np.empty(n_rows, dtype=np.float64)
        threshold = np.empty(n_rows, dtype=np.float64)
        go_true = np.empty(n_rows, dtype=bool)
        total = np.zeros((n_rows, self.base.shape[0]))
        for root, depth in zip(self.roots[trees].tolist(), self.depths[trees].tolist(), strict=True):
            state = np.full(n_rows, 2 * root, dtype=np.intp)
            for _ in range(depth):
                # mode="clip" skips bounds checks; every index is valid by construction.
                np.take(self.feature_s, state, out=feature, mode="clip")
                np.add(row_offset, feature, out=position)
                np.take(flat, position, out=value, mode="clip")
                np.take(self.threshold_s, state, out=threshold, mode="clip")
                if fast:
                    np.less_equal(value, threshold, out=go_true)
                else:
                    go_true[:] = self._general_condition(state, value, threshold, has_nan)
                np.add(state, go_true, out=state)
                np.take(self.next_s, state, out=state, mode="clip")
            total += self.leaf_values[state >> 1]
        return total

    def _general_condition(self, state: np.ndarray, value: np.ndarray, threshold: np.ndarray,
                           has_nan: bool) -> np.ndarray:
        outcome = (value == threshold).astype(np.intp) + 2 * (value < threshold)
        condition = _MODE_TRUTH[self.mode_s[state], outcome]
        if has_nan:
            # NaN is "missing": true child iff missingValueTracksTrueChild, whatever the comparison says.
            condition = np.where(np.isnan(value), self.tracks_true_s[state], condition)
        return condition


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
    columns = read_nodes(params)  # decoded from the wire format: no per-node Python objects
    if columns.n_nodes == 0:
        raise fail(model_type, "treeEnsemble.nodes is empty")
    tree_ids, node_ids = columns.tree_id, columns.node_id
    mode = columns.behavior
    if ((mode < 0) | (mode > LEAF)).any():
        bad = int(np.flatnonzero((mode < 0) | (mode > LEAF))[0])
        raise fail(model_type, f"tree node (treeId={tree_ids[bad]}, nodeId={node_ids[bad]}) has unknown "
                               f"nodeBehavior {mode[bad]}; supported: {', '.join(BRANCH_MODE_NAMES)}")
    is_leaf = mode == LEAF
    feature = columns.feature
    threshold = columns.threshold
    tracks_true = columns.missing_true
    n_entries = np.bincount(columns.info_node, minlength=columns.n_nodes).astype(np.int64)

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

    true_index, false_index, roots, node_depth = validate_tree_structure(
        model_type, tree_ids, node_ids, is_leaf, columns.true_child, columns.false_child,
    )
    leaf_values = _leaf_value_matrix(model_type, columns, is_leaf, dimensions)

    # Group nodes by tree (treeId order) so each tree's tables are contiguous and cache-friendly during its walk.
    _, tree_rank = np.unique(tree_ids, return_inverse=True)
    order = np.argsort(tree_rank, kind="stable")
    new_index = np.empty_like(order)
    new_index[order] = np.arange(order.size)
    next_s = np.empty(2 * order.size, dtype=np.intp)
    next_s[0::2] = 2 * new_index[false_index[order]]
    next_s[1::2] = 2 * new_index[true_index[order]]
    depths = np.zeros(len(roots), dtype=np.int64)
    np.maximum.at(depths, tree_rank, node_depth)
    all_less_equal = bool((mode[~is_leaf] == LESS_THAN_EQUAL).all())
    grouped_feature = np.where(is_leaf, 0, feature).astype(np.intp)[order]
    grouped_leaves = leaf_values[order]
    heap = None
    if all_less_equal:
        heap = build_heap_layout(grouped_feature, threshold[order], tracks_true[order], next_s, grouped_leaves,
                                 new_index[roots], depths)
    return CompiledForest(
        feature_s=np.repeat(grouped_feature, 2),
        threshold_s=np.repeat(threshold[order], 2),
        mode_s=np.repeat(mode[order].astype(np.intp), 2),
        tracks_true_s=np.repeat(tracks_true[order], 2),
        next_s=next_s,
        roots=new_index[roots].astype(np.intp),
        depths=depths,
        leaf_values=grouped_leaves,
        base=base,
        all_less_equal=all_less_equal,
        heap=heap,
    )


def _leaf_value_matrix(model_type: str, columns: TreeNodeColumns, is_leaf: np.ndarray, dimensions: int) -> np.ndarray:
    n_nodes = columns.n_nodes
    tree_ids, node_ids = columns.tree_id, columns.node_id
    if n_nodes * dimensions > (1 << 27):
        raise fail(model_type, f"{n_nodes} nodes x {dimensions} dimensions exceeds the evaluator's dense leaf "
                               f"table limit")
    on_leaf = is_leaf[columns.info_node]  # evaluationInfo on branch nodes has no effect (only leaves add values)
    owner = columns.info_node[on_leaf]
    indices = columns.info_index[on_leaf]
    values = columns.info_value[on_leaf]
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
    table = np.zeros(n_nodes * dimensions, dtype=np.float64)
    table[flat] = values
    return table.reshape(n_nodes, dimensions)


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
        # a Double output is one column; a MultiArray output (also [1], feeding a pipeline stage) stays 2-D
        return {target: scores[:, 0] if feature_kind(declared) == "doubleType" else scores}

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
