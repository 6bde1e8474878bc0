"""The normalised tree form shared by the XGBoost, LightGBM and CatBoost readers, and its one lowering to the IR.

Each reader turns its library's own model file into a `BoostedForest`: per node the feature, the threshold, the
comparison the library makes (`Op`) in the precision it makes it in (`precision`), where a missing value goes, and
the leaf values, plus the margin start, the task and the summation precision. Library quirks that change routing
(LightGBM's zero band, CatBoost's NaN substitution, XGBoost's DART weights) are resolved by the reader, so this
form states each node's decision completely. `to_tree_ensemble` is the only place that knows the IR.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

import numpy as np

from export import ir
from export.errors import ExportFailedError, UnsupportedEstimatorError, UsageError
from export.from_sklearn.trees import snap_threshold_float32

BoostingHead = ir.Regression | ir.Classification
"""What a boosted forest's margins mean: the IR v2 head (regression link identity/logistic/exp, or class labels)."""

Precision = Literal["float32", "float64"]


class Op(IntEnum):
    """The library's test for "go to the true child", evaluated on x in the forest's `precision`."""

    LT = 0  # x < threshold (XGBoost)
    LE = 1  # x <= threshold (LightGBM)
    GT = 2  # x > threshold (CatBoost)
    IN = 3  # code(x) in category_sets[int(threshold)] (a categorical split; `code_rule` says how x becomes a code)


CodeRule = Literal["lightgbm", "xgboost"]
"""How a numeric input becomes a category code at an `Op.IN` node (boosting-semantics.md §3.3, §2.6): LightGBM
truncates the double toward 0 (-0.5 is code 0) and sends NaN, negative and unseen codes to the non-member side;
XGBoost truncates float32(x), and a negative or >= 2^24 value is no code (non-member); NaN takes the node's missing
direction in both."""


@dataclass(frozen=True)
class BoostedForest:
    """A boosted forest in the library's own terms. Node arrays are flattened over trees in summation order;
    node 0 of each tree is its root; children are node ids within the tree; leaves have feature -1."""

    library: str  # "xgboost" | "lightgbm" | "catboost"
    objective: str  # as the file names it, e.g. "binary:logistic", "multiclass", "Logloss"
    n_features: int
    feature_names: tuple[str, ...] | None
    precision: Precision  # XGBoost/CatBoost compare float32(x) with float32 thresholds; LightGBM double x
    sums_float32: bool  # XGBoost accumulates the margin in float32 in tree order (the rest in double)
    tree: ir.IntArray
    node: ir.IntArray
    feature: ir.IntArray
    threshold: ir.FloatArray
    op: ir.IntArray  # Op per node
    true_child: ir.IntArray
    false_child: ir.IntArray
    missing_true: ir.BoolArray  # NaN goes to the true child
    leaf_value: ir.FloatArray  # (n_nodes, n_outputs), zero rows at branches
    leaf_target: ir.IntArray  # output dimension a leaf adds to; -1 = all dimensions
    base: ir.FloatArray  # (n_outputs,) margin start
    head: BoostingHead  # what the summed margins mean (IR v2 head: link and labels)
    notes: tuple[str, ...] = ()
    category_sets: tuple[frozenset[int], ...] = ()  # Op.IN nodes: the codes going to the true child, by threshold
    string_categories: tuple[tuple[str, ...] | None, ...] = ()  # per feature: a string input's categories (code =
    # position, as the library recorded them: LightGBM pandas_categorical, XGBoost >= 3.1 cats), None: numeric
    code_rule: CodeRule | None = None  # how a numeric input becomes a code at Op.IN nodes

    @property
    def has_categorical_splits(self) -> bool:
        return bool(np.any((self.feature >= 0) & (self.op == Op.IN)))

    @property
    def n_outputs(self) -> int:
        return int(self.base.size)

    @property
    def n_trees(self) -> int:
        return int(np.unique(self.tree).size)


def check_structure(source: str, tree: np.ndarray, node: np.ndarray, feature: np.ndarray, true_child: np.ndarray,
                    false_child: np.ndarray, n_features: int) -> None:
    """Every child index inside its own tree, every node reached at most once from its root (no cycles, no shared
    children), every feature in range: an edited model file fails here with a message, never inside a library's
    C++ tree walk."""
    from export.errors import InputFileError

    def corrupt(what: str) -> InputFileError:
        return InputFileError(f"model file '{source}' is corrupt: {what}")

    branch = feature >= 0
    if np.any(feature[branch] >= n_features):
        raise corrupt(f"a split uses feature {int(feature[branch].max())}, but the model has {n_features} features")
    if tree.size == 0:
        raise corrupt("the model has no trees")
    starts = np.flatnonzero(np.r_[True, tree[1:] != tree[:-1]])
    if np.any(node[starts] != 0) or np.any(np.diff(tree[starts]) <= 0):
        raise corrupt("tree nodes are not stored tree by tree from node 0")
    size_of = np.bincount(tree)[tree]
    offset = starts[np.searchsorted(tree[starts], tree)]
    for child in (true_child, false_child):
        if np.any((child[branch] < 0) | (child[branch] >= size_of[branch])):
            raise corrupt("a tree child index is out of range")
    visits = np.zeros(tree.size, dtype=np.int64)
    frontier = starts
    while frontier.size:  # one step per tree level, all trees at once
        visits[frontier] += 1
        if np.any(visits[frontier] > 1):
            raise corrupt("a tree node is reached twice (a cycle or a shared child)")
        inner = frontier[branch[frontier]]
        frontier = np.concatenate([offset[inner] + true_child[inner], offset[inner] + false_child[inner]])


def _exact_double_comparison(forest: BoostedForest) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                               np.ndarray]:
    """(threshold, mode, true, false, missing_true) of IR branches equivalent, for every double x, to the library's
    comparison in its precision.

    - float32 `float32(x) < t32` (XGBoost) is `float32(x) <= prev32(t32)` (no float32 lies between them), which
      `snap_threshold_float32` turns into an exact test on the double x (boosting-semantics.md §5.2).
    - float32 `float32(x) > b32` (CatBoost) is `not float32(x) <= b32`: the same snap with the children swapped.
    - float64 `x <= t` (LightGBM) and `x < t` are IR modes as they are.
    """
    branch = forest.feature >= 0
    t = np.where(branch, forest.threshold, 0.0)
    op = forest.op
    true_child, false_child = forest.true_child.copy(), forest.false_child.copy()
    missing = forest.missing_true.copy()
    mode = np.full(t.shape, ir.BranchMode.LEQ, dtype=np.int64)
    if forest.precision == "float64":
        if np.any(branch & (op == Op.GT)):
            raise ExportFailedError(f"{forest.library}: double 'x > t' splits are not produced by any reader")
        mode = np.where(op == Op.LT, ir.BranchMode.LT, ir.BranchMode.LEQ).astype(np.int64)
        return t, mode, true_child, false_child, missing
    t32 = t.astype(np.float32)
    if not np.array_equal(t32.astype(np.float64), t):
        raise ExportFailedError(f"{forest.library}: a float32 forest holds a threshold that is not a float32")
    lt = branch & (op == Op.LT)
    with np.errstate(over="ignore"):  # prev32(-FLT_MAX) = -inf is the intended value
        le_t32 = np.where(lt, np.nextafter(t32, np.float32(-np.inf)), t32)
    snapped, snapped_mode = snap_threshold_float32(le_t32.astype(np.float64))
    gt = branch & (op == Op.GT)
    true_child = np.where(gt, forest.false_child, forest.true_child)
    false_child = np.where(gt, forest.true_child, forest.false_child)
    missing = np.where(gt, ~forest.missing_true, forest.missing_true)
    return snapped, snapped_mode, true_child, false_child, missing


def missing_value_conflicts(forest: BoostedForest, value: float) -> np.ndarray:
    """Branch nodes where the finite `value`, compared as the library compares it (float32(x) for XGBoost), goes to
    another child than a missing value does: there, treating `value` as missing (XGBoost's call-time `missing`)
    changes the route, so the artifact must catch it before the trees."""
    branch = forest.feature >= 0
    x = float(np.float32(value)) if forest.precision == "float32" else float(value)
    t = forest.threshold
    goes_true = np.where(forest.op == Op.LT, x < t, np.where(forest.op == Op.LE, x <= t, x > t))
    return np.flatnonzero(branch & (goes_true != forest.missing_true))


def forest_inputs(forest: BoostedForest, feature_names: tuple[str, ...] | None = None) -> ir.Schema:
    """The forest's inputs: one double column per recorded (or given) feature name, else one block of doubles;
    NaN is a value every library routes (each node's default direction), so it is never refused."""
    from export.signature import coreml_input_names

    names = feature_names or forest.feature_names
    if names is None:
        return ir.Schema.block(forest.n_features, missing="nan")
    if len(names) != forest.n_features:
        raise UsageError(f"{len(names)} feature names for a model that takes {forest.n_features} features")
    return ir.Schema.doubles(tuple(names), coreml_input_names(tuple(names)), missing="nan")


def to_ir(forest: BoostedForest, feature_names: tuple[str, ...] | None = None) -> ir.Model:
    """The IR root: the forest's inputs, one TreeEnsemble step and the forest's head (categorical splits: membership
    steps first, `export.from_boosting.categorical`)."""
    if forest.has_categorical_splits or any(c is not None for c in forest.string_categories):
        from export.from_boosting.categorical import categorical_model

        return categorical_model(forest, feature_names)
    return ir.Model.single(to_tree_ensemble(forest), forest.head, forest_inputs(forest, feature_names))


def to_tree_ensemble(forest: BoostedForest) -> ir.TreeEnsemble:
    """The IR TreeEnsemble computing `forest`'s margins exactly for every double input (routing), sums in double."""
    branch = forest.feature >= 0
    if forest.has_categorical_splits or any(c is not None for c in forest.string_categories):
        raise UnsupportedEstimatorError(
            f"{forest.library} model with categorical features: export the model itself (its file or the fitted "
            "wrapper), not inside a scikit-learn Pipeline; inside a Pipeline only numerical splits are supported")
    threshold, mode, true_child, false_child, missing = _exact_double_comparison(forest)
    return ir.TreeEnsemble(
        n_features=forest.n_features,
        tree_id=forest.tree,
        node_id=forest.node,
        feature=np.where(branch, forest.feature, -1),
        threshold=np.where(branch, threshold, 0.0),
        mode=np.where(branch, mode, ir.BranchMode.LEQ),
        true_child=np.where(branch, true_child, -1),
        false_child=np.where(branch, false_child, -1),
        missing_tracks_true=branch & missing,
        leaf_value=np.where(branch[:, None], 0.0, forest.leaf_value),
        leaf_target=forest.leaf_target,
        base=forest.base,
        compares_float32=forest.precision == "float32",
    )


def concatenate_trees(trees: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-tree column dicts (same keys, node ids 0..n-1) -> flattened columns with `tree` and `node` ids."""
    sizes = [t["feature"].size for t in trees]
    out = {key: np.concatenate([t[key] for t in trees]) for key in trees[0]}
    out["tree"] = np.repeat(np.arange(len(trees), dtype=np.int64), sizes)
    out["node"] = np.concatenate([np.arange(size, dtype=np.int64) for size in sizes])
    return out
