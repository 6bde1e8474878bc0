"""Diagnosis step of the parity flow: name the root cause of each failing check in one line.

Causes, most specific first: class labels swapped/different; probabilities not normalised; for tree models the first
node where the artifact's path leaves scikit-learn's (re-walking scikit-learn's trees and the artifact's own tree nodes,
parsed from the .mlmodel TreeEnsemble or the ONNX TreeEnsemble* attributes), or a leaf reached only by failing rows;
a Core ML scaler's reciprocal (scikit-learn replayed with the artifact's scaleValue reproduces the artifact); constant
offset; scale factor (binary on the logit scale, multiclass on centred log-probabilities); NaN routing (only rows with
NaN fail); float32 threshold rounding (only float32-neighbour probes fail).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from parity.columns import trained_frame
from parity.compare import as_2d
from parity.references import WalkTree, adapter_for, final_model
from parity.report import CheckResult, DriftResult, ParityReport
from parity.sub_estimators import final_step

MAX_ROWS_WALKED = 20
THRESHOLD_PROBES = ("thresholds", "float32-neighbours", "rounding-boundaries")


# ----------------------------------------------------------------------------------------------------------------
# Facts that need no failing rows


def class_label_problem(
    artifact_labels: np.ndarray | None, classes: np.ndarray | None, roles: dict[str, str]
) -> str | None:
    """A named failure when the artifact's class labels are not scikit-learn's classes_ in the same order."""
    if classes is None or artifact_labels is None or not ({"label", "probabilities"} & set(roles.values())):
        return None
    mine = [str(v) for v in np.asarray(artifact_labels).tolist()]
    theirs = [str(v) for v in np.asarray(classes).tolist()]
    if mine == theirs:
        return None
    if np.asarray(classes).dtype.kind == "b" and mine == [str(int(v)) for v in np.asarray(classes).tolist()]:
        return None  # boolean classes_ exported as Int64 labels 0 = False, 1 = True (numpy's bool -> int cast)
    if sorted(mine) == sorted(theirs):
        return f"class-label order swapped: artifact lists {mine}, scikit-learn classes_ is {theirs}"
    return f"class labels differ: artifact has {mine}, scikit-learn classes_ is {theirs}"


def reference_drift(other: dict[str, np.ndarray], contract: dict[str, np.ndarray], probe: str) -> list[DriftResult]:
    """scikit-learn on float64 vs float32-rounded rows (both directions of the contract), per output role."""
    results = []
    for role, values in contract.items():
        if role not in other:
            continue
        if role == "label":
            changed = np.asarray(other[role]).ravel() != np.asarray(values).ravel()
            results.append(DriftResult(role, probe, len(values), int(changed.sum()), float(changed.any())))
            continue
        a, b = as_2d(np.asarray(other[role], dtype=float)), as_2d(np.asarray(values, dtype=float))
        with np.errstate(invalid="ignore"):
            delta = np.abs(a - b)
            changed_rows = np.any(~((a == b) | (np.isnan(a) & np.isnan(b))), axis=1)
        finite = delta[np.isfinite(delta)]
        results.append(DriftResult(role, probe, len(a), int(changed_rows.sum()),
                                   float(finite.max()) if finite.size else 0.0))
    return results


# ----------------------------------------------------------------------------------------------------------------
# Tree structures: scikit-learn's and the artifact's, walked side by side


def sklearn_trees(model: Any) -> list[WalkTree] | None:
    """The Python model's trees as WalkTrees (left child = true branch of x <= threshold), from its adapter."""
    return adapter_for(model).trees(model)


_COREML_MODES = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "LEAF"]
_ONNX_V5_MODES = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "BRANCH_MEMBER"]


def _group_trees(tree_ids: np.ndarray, node_ids: np.ndarray, leaf: np.ndarray, feature: np.ndarray,
                 threshold: np.ndarray, modes: list[str], true_ids: np.ndarray, false_ids: np.ndarray,
                 missing: np.ndarray, compares_float32: bool) -> list[WalkTree]:
    trees = []
    for tree_id in np.unique(tree_ids):  # one loop per tree, not per row
        at = np.flatnonzero(tree_ids == tree_id)
        ids = node_ids[at]
        order = np.argsort(ids)
        at, ids = at[order], ids[order]
        position = {int(n): i for i, n in enumerate(ids)}
        is_leaf = leaf[at]
        trees.append(WalkTree(
            ids, is_leaf, feature[at], threshold[at], [modes[i] for i in at],
            np.array([-1 if is_leaf[i] else position.get(int(true_ids[a]), -1) for i, a in enumerate(at)]),
            np.array([-1 if is_leaf[i] else position.get(int(false_ids[a]), -1) for i, a in enumerate(at)]),
            missing[at], compares_float32))
    return trees


def coreml_trees(spec: Any) -> list[WalkTree] | None:
    model = _coreml_tree_model(spec)
    if model is None:
        return None
    nodes = model.treeEnsemble.nodes
    n = len(nodes)
    get = np.array
    behaviors = [_COREML_MODES[node.nodeBehavior] for node in nodes]
    return _group_trees(
        get([node.treeId for node in nodes], dtype=np.int64), get([node.nodeId for node in nodes], dtype=np.int64),
        get([b == "LEAF" for b in behaviors], dtype=bool) if n else np.zeros(0, dtype=bool),
        get([node.branchFeatureIndex for node in nodes], dtype=np.int64),
        get([node.branchFeatureValue for node in nodes], dtype=np.float64), behaviors,
        get([node.trueChildNodeId for node in nodes], dtype=np.int64),
        get([node.falseChildNodeId for node in nodes], dtype=np.int64),
        get([node.missingValueTracksTrueChild for node in nodes], dtype=bool), compares_float32=False)


def _coreml_tree_model(spec: Any) -> Any:
    kind = spec.WhichOneof("Type")
    if kind in ("treeEnsembleClassifier", "treeEnsembleRegressor"):
        return getattr(spec, kind)
    if kind in ("pipeline", "pipelineClassifier", "pipelineRegressor"):
        pipeline = spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline
        for sub in pipeline.models:
            found = _coreml_tree_model(sub)
            if found is not None:
                return found
    return None


def onnx_trees(path: Any) -> list[WalkTree] | None:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    casts_to_float = any(n.op_type == "Cast" and any(a.name == "to" and a.i == 1 for a in n.attribute)
                         for n in graph.node)
    float_input = graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    trees: list[WalkTree] = []
    offset = 0
    for node in graph.node:
        if node.op_type not in ("TreeEnsembleRegressor", "TreeEnsembleClassifier", "TreeEnsemble"):
            continue
        attrs = {a.name: a for a in node.attribute}
        if node.op_type == "TreeEnsemble":
            found = _onnx_v5_trees(attrs, numpy_helper)
        else:
            found = _onnx_v1_trees(attrs, numpy_helper)
        for tree in found:
            tree.compares_float32 = tree.compares_float32 or float_input or casts_to_float
        trees += found
        offset += len(found)
    return trees or None


def _onnx_trees_for(path: Any) -> list[WalkTree] | None:
    """Trees of an .onnx file; for an .ort (a flatbuffer we don't parse) those of the sibling .onnx it was made from,
    which the exporter writes next to it under the same name."""
    from pathlib import Path

    path = Path(path)
    if path.suffix.lower() == ".ort":
        sibling = path.with_suffix(".onnx")
        return onnx_trees(sibling) if sibling.is_file() else None
    return onnx_trees(path)


def _ints(attrs: dict[str, Any], name: str) -> np.ndarray:
    return np.array(list(attrs[name].ints), dtype=np.int64) if name in attrs else np.zeros(0, dtype=np.int64)


def _onnx_v1_trees(attrs: dict[str, Any], numpy_helper: Any) -> list[WalkTree]:
    if "nodes_values_as_tensor" in attrs:
        values = numpy_helper.to_array(attrs["nodes_values_as_tensor"].t).astype(np.float64)
        stored_float = values.dtype == np.float32
    else:
        values = np.array(list(attrs["nodes_values"].floats), dtype=np.float32).astype(np.float64)
        stored_float = True
    modes = [m.decode() for m in attrs["nodes_modes"].strings]
    missing = _ints(attrs, "nodes_missing_value_tracks_true")
    if len(missing) == 0:
        missing = np.zeros(len(modes), dtype=np.int64)
    return _group_trees(_ints(attrs, "nodes_treeids"), _ints(attrs, "nodes_nodeids"),
                        np.array([m == "LEAF" for m in modes], dtype=bool), _ints(attrs, "nodes_featureids"), values,
                        modes, _ints(attrs, "nodes_truenodeids"), _ints(attrs, "nodes_falsenodeids"),
                        missing.astype(bool), compares_float32=stored_float)


def _onnx_v5_trees(attrs: dict[str, Any], numpy_helper: Any) -> list[WalkTree]:
    splits = numpy_helper.to_array(attrs["nodes_splits"].t)
    stored_float = splits.dtype == np.float32
    splits = splits.astype(np.float64)
    modes = [_ONNX_V5_MODES[int(m)] for m in numpy_helper.to_array(attrs["nodes_modes"].t)]
    features = _ints(attrs, "nodes_featureids")
    true_ids, false_ids = _ints(attrs, "nodes_truenodeids"), _ints(attrs, "nodes_falsenodeids")
    true_leaf, false_leaf = _ints(attrs, "nodes_trueleafs").astype(bool), _ints(attrs, "nodes_falseleafs").astype(bool)
    missing = _ints(attrs, "nodes_missing_value_tracks_true")
    if len(missing) == 0:
        missing = np.zeros(len(features), dtype=np.int64)
    roots = _ints(attrs, "tree_roots")
    n_leaves = len(_ints(attrs, "leaf_targetids"))
    n_nodes = len(features)
    # Nodes 0..n_nodes-1 are splits; leaves become nodes n_nodes + leaf index. Each tree = nodes reachable from root.
    tree_of = np.full(n_nodes + n_leaves, -1, dtype=np.int64)
    true_global = np.where(true_leaf, n_nodes + true_ids, true_ids)
    false_global = np.where(false_leaf, n_nodes + false_ids, false_ids)
    for tree_index, root in enumerate(roots):  # breadth-first per tree
        frontier = [int(root)]
        while frontier:
            node = frontier.pop()
            tree_of[node] = tree_index
            if node < n_nodes:
                frontier += [int(true_global[node]), int(false_global[node])]
    all_ids = np.arange(n_nodes + n_leaves)
    leaf = all_ids >= n_nodes
    pad = np.zeros(n_leaves, dtype=np.int64)
    return _group_trees(tree_of, all_ids, leaf, np.concatenate([features, pad]),
                        np.concatenate([splits, np.zeros(n_leaves)]), modes + ["LEAF"] * n_leaves,
                        np.concatenate([true_global, pad]), np.concatenate([false_global, pad]),
                        np.concatenate([missing.astype(bool), np.zeros(n_leaves, dtype=bool)]),
                        compares_float32=stored_float)


@dataclass
class Divergence:
    tree: int
    sklearn_node: int
    artifact_node: int
    feature: int
    sklearn_threshold: float
    artifact_threshold: float
    artifact_mode: str
    row: int
    x: float
    sklearn_left: bool
    structure: bool = False  # True: the trees differ in structure (feature/shape), not in one comparison

    def describe(self, probe: str) -> str:
        if self.structure:
            return (f"tree structure differs: tree {self.tree} node {self.sklearn_node} splits on feature "
                    f"{self.feature} in scikit-learn but not in the artifact (row {self.row} of {probe})")
        side = "left" if self.sklearn_left else "right"
        other = "right" if self.sklearn_left else "left"
        kind = "NaN routing" if np.isnan(self.x) else "routing"
        rounded = ""
        with np.errstate(over="ignore"):
            as_float32 = float(np.float32(self.sklearn_threshold))
        if self.artifact_threshold == as_float32 != self.sklearn_threshold:
            rounded = " — the artifact stores float32(threshold) (float32 threshold rounding)"
        return (f"{kind} diverges at tree {self.tree} node {self.sklearn_node} (feature {self.feature}, scikit-learn "
                f"threshold {self.sklearn_threshold!r}, artifact {self.artifact_mode} {self.artifact_threshold!r}): "
                f"row {self.row} of {probe} with x={self.x!r} goes {side} in scikit-learn, {other} in the artifact"
                f"{rounded}")


def _signature(tree: WalkTree) -> tuple[int, int]:
    return int((~tree.leaf).sum()), int(tree.feature[0]) if not tree.leaf[0] else -1


def match_trees(reference: list[WalkTree], artifact: list[WalkTree]) -> tuple[list[int], str | None]:
    """For each scikit-learn tree, the artifact tree that encodes it (same shape and root feature, nearest position).

    Writers may repeat a tree once per class (ONNX TreeEnsemble with one target per leaf), so the artifact can hold
    k × the trees; a scikit-learn tree with no counterpart means a tree was dropped.
    """
    if len(artifact) % max(len(reference), 1):
        return [], (f"tree count differs: artifact has {len(artifact)} trees, scikit-learn {len(reference)} "
                    f"(tree dropped?)")
    per_tree = len(artifact) // max(len(reference), 1)
    by_signature: dict[tuple[int, int], list[int]] = {}
    for j, tree in enumerate(artifact):
        by_signature.setdefault(_signature(tree), []).append(j)
    matched = []
    for i, tree in enumerate(reference):
        candidates = by_signature.get(_signature(tree), [])
        if not candidates:
            return [], f"scikit-learn tree {i} has no counterpart in the artifact (tree dropped or changed shape)"
        target = i * per_tree
        matched.append(min(candidates, key=lambda j: abs(j - target)))
    return matched, None


def first_divergence(reference: list[WalkTree], artifact: list[WalkTree], X: np.ndarray,
                     rows: np.ndarray) -> Divergence | None:
    """The first (tree, node) where the artifact's path for one of `rows` leaves scikit-learn's path."""
    for row in rows[:MAX_ROWS_WALKED]:
        x = X[row]
        for index, (mine, theirs) in enumerate(zip(reference, artifact, strict=False)):
            found = _walk_pair(mine, theirs, x)
            if found is not None:
                node, art_node, structure = found
                return Divergence(index, node, art_node, int(mine.feature[node]), float(mine.threshold[node]),
                                  float(theirs.threshold[art_node]), theirs.mode[art_node], int(row),
                                  float(x[mine.feature[node]]), mine.goes_true(node, x[mine.feature[node]]), structure)
    return None


def _walk_pair(mine: WalkTree, theirs: WalkTree, x: np.ndarray) -> tuple[int, int, bool] | None:
    node, art = 0, 0
    while not mine.leaf[node]:
        if theirs.leaf[art] or theirs.feature[art] != mine.feature[node]:
            return node, art, True
        value = x[mine.feature[node]]
        left = mine.goes_true(node, value)
        if left != theirs.goes_true(art, value):
            return node, art, False
        node = int(mine.true_child[node] if left else mine.false_child[node])
        art = int(theirs.true_child[art] if left else theirs.false_child[art])
        if art < 0:
            return node, art, True
    return None


def _artifact_leaves(trees: list[WalkTree], X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(len(rows), n_trees) artifact leaf node ids reached."""
    reached = np.zeros((len(rows), len(trees)), dtype=np.int64)
    for r, row in enumerate(rows):
        for t, tree in enumerate(trees):
            node = 0
            while not tree.leaf[node] and node >= 0:
                node = int(tree.true_child[node] if tree.goes_true(node, X[row, tree.feature[node]])
                           else tree.false_child[node])
            reached[r, t] = tree.node_ids[node]
    return reached


def _tree_input(estimator: Any, X: np.ndarray) -> tuple[Any, np.ndarray]:
    """The tree model and the rows it reads (a Pipeline's earlier steps applied)."""
    if hasattr(estimator, "steps"):
        head = estimator[:-1]
        return estimator.steps[-1][1], np.asarray(head.transform(trained_frame(head, X)), dtype=np.float64)
    return estimator, X


def tree_cause(estimator: Any, artifact: Any, probe: str, X: np.ndarray, failing: np.ndarray) -> str | None:
    """Routing / dropped tree / changed leaf cause for a tree model, from the artifact's own tree nodes."""
    model, Xt = _tree_input(estimator, X)
    if getattr(model, "has_categorical_splits", False) or np.any(getattr(model, "is_categorical_", None) or False):
        # the artifact tests membership columns computed by lookup steps, not the model's own features
        return ("categorical splits are lowered to membership lookups, so the trees are not replayed node by node "
                "(see the probe set and rows)")
    reference = sklearn_trees(model)
    if reference is None:
        return None
    try:
        theirs = coreml_trees(artifact.handle) if artifact.kind == "coreml" else _onnx_trees_for(artifact.path)
    except (KeyError, ValueError, IndexError) as exc:
        return f"(artifact trees unreadable for diagnosis: {exc})"
    if theirs is None:
        return None
    matched, problem = match_trees(reference, theirs)
    if problem:
        return problem
    theirs = [theirs[j] for j in matched]
    rows = np.flatnonzero(failing)
    divergence = first_divergence(reference, theirs, Xt, rows)
    if divergence is not None:
        from parity.references import is_reference

        text = divergence.describe(probe)
        # a boosting library is its own reference: name it (its trees are walked as LEQ nodes, see references/)
        return text.replace("scikit-learn", str(estimator.library)) if is_reference(estimator) else text
    passing = np.flatnonzero(~failing)[:200]
    failing_leaves = _artifact_leaves(theirs, Xt, rows[:MAX_ROWS_WALKED])
    passing_leaves = _artifact_leaves(theirs, Xt, passing)
    for t in range(len(theirs)):
        shared = set(failing_leaves[:, t]) if len(failing_leaves) else set()
        if len(shared) == 1:
            leaf = next(iter(shared))
            if leaf not in set(passing_leaves[:, t]):
                return (f"leaf value differs: every failing row reaches tree {t} leaf node {leaf}, no passing row "
                        f"does (paths agree with scikit-learn)")
    return None


# ----------------------------------------------------------------------------------------------------------------
# Output-only causes


def output_cause(check: CheckResult, n_trees: int | None) -> str | None:
    expected, got = check.expected, check.got
    c = check.comparison
    if expected is None or got is None:
        return None
    if c.role == "label":
        return _label_permutation_cause(np.asarray(expected).ravel(), np.asarray(got).ravel(), c.failing_mask)
    expected = as_2d(np.asarray(expected, dtype=float))
    got = as_2d(np.asarray(got, dtype=float))
    if expected.shape != got.shape:
        return None
    if c.role == "probabilities":
        cause = _probability_cause(expected, got, n_trees)
        if cause:
            return cause
    return _affine_cause(expected, got, c.role)


def neighbour_tie_rows(estimator: Any, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For k-NN models: which of `rows` have the k-th and (k+1)-th nearest training points equally far (a reference
    tie: scikit-learn's pick among equidistant neighbours is arbitrary). All False for other models."""
    model = final_step(estimator)
    ties = np.zeros(len(rows), dtype=bool)
    if not hasattr(model, "kneighbors") or not len(rows) or int(model.n_neighbors) + 1 > model.n_samples_fit_:
        return ties
    points = estimator[:-1].transform(trained_frame(estimator, X[rows])) if hasattr(estimator, "steps") else X[rows]
    k = int(model.n_neighbors)
    distances, _ = model.kneighbors(points, n_neighbors=k + 1)
    return np.isclose(distances[:, k - 1], distances[:, k], rtol=1e-12, atol=0.0)


def neighbour_tie_cause(estimator: Any, X: np.ndarray, failing: np.ndarray) -> str | None:
    """k-NN: the k-th and (k+1)-th nearest training points are equally far, so the neighbour set is ambiguous."""
    model = final_step(estimator)
    if not hasattr(model, "kneighbors") or not failing.any():
        return None
    rows = X[np.flatnonzero(failing)[:MAX_ROWS_WALKED]]
    if hasattr(estimator, "steps"):
        rows = estimator[:-1].transform(trained_frame(estimator, rows))
    k = int(model.n_neighbors)
    if k + 1 > model.n_samples_fit_:
        return None
    distances, _ = model.kneighbors(rows, n_neighbors=k + 1)
    ties = np.isclose(distances[:, k - 1], distances[:, k], rtol=1e-12, atol=0.0)
    if ties.all():
        return (f"neighbour distance tie: the {k}th and {k + 1}th nearest training points are equally far on every "
                f"failing row, so scikit-learn and the artifact may pick different neighbours")
    return None


# scikit-learn scalers that divide by scale_ (`X /= scale_`); Core ML's scaler computes scaleValue · (x + shiftValue)
# only (Scaler.proto), so their export multiplies by the reciprocal: ≤ 1 ulp per scaled feature.
_DIVIDING_SCALERS = ("StandardScaler", "RobustScaler", "MaxAbsScaler")


def reciprocal_scaler_cause(estimator: Any, artifact: Any, X: np.ndarray, check: CheckResult) -> str | None:
    """A Core ML pipeline whose first stage is the scaler of a dividing scikit-learn scaler: replay scikit-learn with
    the artifact's own scaler arithmetic ((x + shiftValue) · scaleValue from the spec) feeding the rest of the
    pipeline; if that reproduces the artifact on every failing row, the scaler's last bit is the cause."""
    c = check.comparison
    if artifact.kind != "coreml" or c.failing_mask is None or check.got is None or not hasattr(estimator, "steps"):
        return None
    if len(estimator.steps) < 2 or type(estimator.steps[0][1]).__name__ not in _DIVIDING_SCALERS:
        return None
    spec = artifact.handle
    kind = spec.WhichOneof("Type")
    if kind not in ("pipeline", "pipelineClassifier", "pipelineRegressor"):
        return None
    models = (spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline).models
    if not models or models[0].WhichOneof("Type") != "scaler":
        return None
    scaler = models[0].scaler
    rows = np.flatnonzero(c.failing_mask)
    with np.errstate(all="ignore"):
        scaled = (X[rows] + np.asarray(scaler.shiftValue)) * np.asarray(scaler.scaleValue)
        rest = estimator[1:]
        try:
            if c.role == "label":
                replay = np.asarray(rest.predict(scaled)).ravel()
                got = np.asarray(check.got).ravel()[rows]
                same = np.array_equal(np.array([str(v) for v in replay]), np.array([str(v) for v in got]))
            elif c.role == "probabilities" and hasattr(rest, "predict_proba"):
                same = np.allclose(rest.predict_proba(scaled), as_2d(np.asarray(check.got))[rows], rtol=1e-9,
                                   atol=1e-12)
            else:
                return None
        except (ValueError, TypeError, FloatingPointError):
            return None
    if not same:
        return None
    step = type(estimator.steps[0][1]).__name__
    return (f"{step}'s last bit: Core ML's scaler multiplies by 1/scale_ (it cannot divide; ≤ 1 ulp per feature), and "
            f"scikit-learn replayed with the artifact's own scaleValue gives the artifact's {c.role} on every failing "
            f"row — the later model's nearly cancelling sums flip on that ulp")


def _label_permutation_cause(expected: np.ndarray, got: np.ndarray, failing: np.ndarray | None) -> str | None:
    """Labels consistently renamed (each scikit-learn label always becomes one other label): a class-order swap."""
    if failing is None or not failing.any():
        return None
    pairs = {(str(e), str(g)) for e, g in zip(expected, got, strict=True)}
    mapping: dict[str, str] = {}
    for e, g in pairs:
        if mapping.setdefault(e, g) != g:
            return None  # the same scikit-learn label became different artifact labels: not a renaming
    if len(set(mapping.values())) != len(mapping) or all(e == g for e, g in mapping.items()):
        return None
    renamed = ", ".join(f"{e}→{g}" for e, g in sorted(mapping.items()) if e != g)
    return f"class-label order swapped: the artifact renames scikit-learn's labels ({renamed})"


def _probability_cause(expected: np.ndarray, got: np.ndarray, n_trees: int | None) -> str | None:
    sums = got.sum(axis=1)
    finite = np.isfinite(sums)
    if finite.any() and np.max(np.abs(sums[finite] - 1.0)) > 1e-6:
        typical = float(np.median(sums[finite]))
        hint = " (forest leaves not averaged)" if n_trees and abs(typical - n_trees) < 0.5 else ""
        return f"probabilities not normalised: rows sum to {typical:.6g}, not 1{hint}"
    k = expected.shape[1]
    if k > 1 and k <= 8:
        from itertools import permutations

        for permutation in permutations(range(k)):
            if list(permutation) != list(range(k)) and np.allclose(got, expected[:, permutation], atol=1e-6):
                return f"class-label order swapped: artifact columns are scikit-learn's columns {list(permutation)}"
    return None


def _affine_cause(expected: np.ndarray, got: np.ndarray, role: str) -> str | None:
    keep = np.all(np.isfinite(expected) & np.isfinite(got), axis=1)
    if keep.sum() < 3:
        return None
    if role == "probabilities" and expected.shape[1] > 2:
        return _softmax_scale_cause(expected[keep], got[keep])
    if role == "probabilities" and expected.shape[1] == 2:
        # Binary: column 0 is 1 - column 1; its logit has the opposite intercept, so fit on P(classes_[1]) alone.
        expected, got = expected[:, 1:], got[:, 1:]
    e, g = expected[keep].ravel(), got[keep].ravel()
    if role == "probabilities":  # compare on the logit scale, where coefficient scaling is affine
        clip = np.clip(np.concatenate([e, g]), 1e-12, 1 - 1e-12)
        e, g = np.log(clip[: len(e)] / (1 - clip[: len(e)])), np.log(clip[len(e):] / (1 - clip[len(e):]))
    delta = g - e
    spread = float(np.std(delta))
    mean = float(np.mean(delta))
    if abs(mean) > 0 and spread <= 1e-9 * max(1.0, float(np.max(np.abs(e)))) + 1e-3 * abs(mean):
        return f"constant offset: artifact = scikit-learn {mean:+.6g} on every row (base value / intercept wrong)"
    if np.ptp(e) > 0:
        slope, intercept = np.polyfit(e, g, 1)
        residual = g - (slope * e + intercept)
        if abs(slope - 1.0) > 1e-12 and np.max(np.abs(residual)) <= 1e-3 * np.max(np.abs(delta)):
            return (f"scale factor: artifact ≈ {slope:.9g} × scikit-learn {intercept:+.3g} (coefficient or "
                    f"learning-rate scaling)")
    return None


def _softmax_scale_cause(expected: np.ndarray, got: np.ndarray) -> str | None:
    """Multiclass probabilities: softmax(z) has log p_j - mean_k log p_k = z_j - mean_k z_k, so scaling the logits'
    coefficients by c scales those centred log-probabilities by c in every column (each column keeps its own
    intercept when the intercepts are not scaled). One common slope over every column, with small residuals, is a
    scale factor."""
    positive = np.all((expected > 0) & (got > 0), axis=1)
    if positive.sum() < 3:
        return None
    le, lg = np.log(expected[positive]), np.log(got[positive])
    e, g = le - le.mean(axis=1, keepdims=True), lg - lg.mean(axis=1, keepdims=True)
    delta = float(np.max(np.abs(g - e)))
    slopes = []
    for j in range(e.shape[1]):
        if np.ptp(e[:, j]) == 0:
            continue
        slope, intercept = np.polyfit(e[:, j], g[:, j], 1)
        if np.max(np.abs(g[:, j] - (slope * e[:, j] + intercept))) > 1e-2 * delta:
            return None
        slopes.append(float(slope))
    if not slopes or delta == 0:
        return None
    mean = float(np.mean(slopes))
    if abs(mean - 1.0) <= 1e-12 or max(slopes) - min(slopes) > 1e-2 * abs(mean - 1.0):
        return None
    return (f"scale factor: the artifact's centred log-probabilities ≈ {mean:.9g} × scikit-learn's in every class "
            f"(coefficient or learning-rate scaling)")


# ----------------------------------------------------------------------------------------------------------------
# Putting the causes on the report


def _n_trees(estimator: Any) -> int | None:
    model = final_model(estimator)
    return adapter_for(model).averaged_trees(model)


def explain(report: ParityReport, estimator: Any, artifacts: list[Any], probes: Any) -> None:
    """Set `comparison.cause` on every failing check (one line each)."""
    by_path = {str(a.path): a for a in artifacts}
    problems = {a.path: a.problems for a in report.artifacts}
    failing_sets: dict[tuple[str, str, str], set[str]] = {}
    for check in report.failures():
        failing_sets.setdefault((check.artifact, check.runtime, check.comparison.output), set()).add(check.probe)
    n_trees = _n_trees(estimator)
    for check in report.failures():
        c = check.comparison
        if c.cause:
            continue
        artifact_problems = problems.get(check.artifact, [])
        label_problem = next((p for p in artifact_problems if p.startswith("class-label")), None)
        if label_problem and c.role in ("label", "probabilities"):
            c.cause = label_problem
            continue
        cause = None
        probe_data = report.probe_data.get(check.probe)
        artifact = by_path.get(check.artifact)
        if probe_data is not None and artifact is not None and c.failing_mask is not None:
            cause = tree_cause(estimator, artifact, check.probe, probe_data[1], c.failing_mask)
        if cause is None and probe_data is not None and c.failing_mask is not None:
            cause = neighbour_tie_cause(estimator, probe_data[1], c.failing_mask)
        if cause is None and failing_sets[(check.artifact, check.runtime, c.output)] == {"critical-points"}:
            cause = critical_point_cause(probes.by_name("critical-points"), c.failing_mask)
        if cause is None and probe_data is not None and artifact is not None:
            cause = reciprocal_scaler_cause(estimator, artifact, probe_data[1], check)
        if cause is None:
            cause = output_cause(check, n_trees)
        if cause and artifact is not None and artifact.dtype == "float32" and report.contract == "float64":
            cause += " (the artifact takes float32 input under a float64 contract)"
        if cause is None:
            cause = _probe_pattern_cause(check, failing_sets[(check.artifact, check.runtime, c.output)], report)
        c.cause = cause
    for check in report.failures():
        c = check.comparison
        if not c.cause:
            c.cause = _cause_of_a_sibling(check, report) or (
                f"unexplained: {c.violations + c.label_mismatches} rows differ, max |Δ| {c.max_abs_error:.3g}, "
                f"{c.jumps} jumps")


def _named(check: CheckResult) -> bool:
    cause = check.comparison.cause
    return bool(cause) and not str(cause).startswith("unexplained")


def _cause_of_a_sibling(check: CheckResult, report: ParityReport) -> str | None:
    """Labels follow the scores: the cause found for this artifact's probabilities on the same probe set. A set too
    small to fit a cause on (< 3 rows: one-row): the cause found for the same output on a larger set."""
    c = check.comparison
    same = [o for o in report.failures() if o.artifact == check.artifact and o.runtime == check.runtime and _named(o)]
    if c.role == "label":
        sibling = next((o for o in same if o.probe == check.probe and o.comparison.role == "probabilities"), None)
        return f"labels follow the probabilities: {sibling.comparison.cause}" if sibling is not None else None
    if c.n_rows < 3:
        larger = next((o for o in same if o.comparison.output == c.output and o.comparison.n_rows >= 3), None)
        if larger is not None:
            return (f"as on probe set {larger.probe} ({c.n_rows} {'row' if c.n_rows == 1 else 'rows'} here): "
                    f"{larger.comparison.cause}")
    return None


def critical_point_cause(probe_set: Any, failing: np.ndarray | None) -> str | None:
    """Only rows with a feature at a transformer's critical point (or one ulp from it) fail: a comparison on the
    wrong side of a threshold / bin edge / knot (> for >=) or a point moved — named by the first such row."""
    if probe_set is None or probe_set.split_feature is None or failing is None or not failing.any():
        return None
    row = int(np.flatnonzero(failing)[0])
    return (f"transformer critical point: only rows with a feature at a threshold / bin edge / knot or one ulp from "
            f"it fail (first: input column {int(probe_set.split_feature[row])} = "
            f"{float(probe_set.split_threshold[row])!r}); a comparison on the wrong side or a moved edge")


def _probe_pattern_cause(check: CheckResult, failing_probes: set[str], report: ParityReport) -> str | None:
    probe_data = report.probe_data.get(check.probe)
    mask = check.comparison.failing_mask
    if probe_data is not None and mask is not None and mask.any():
        has_nan = np.isnan(probe_data[1]).any(axis=1)
        if has_nan[mask].all() and not (mask & ~has_nan).any():
            return "NaN routing: only rows with NaN fail (missing values sent to the other child)"
    if failing_probes and failing_probes <= {"float32-neighbours", "rounding-boundaries"}:
        return "float32 threshold rounding: only rows next to split thresholds in float32 fail"
    return None
