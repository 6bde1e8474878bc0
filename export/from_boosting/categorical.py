"""Categorical splits of a boosted forest (LightGBM bitsets, XGBoost partitions) lowered to the IR exactly, in the
HistGradientBoosting way (`export.from_sklearn.dataframe.MembershipColumns`): one membership column per distinct
(column, category set, missing side), and the split node becomes `membership <= 0.5`.

- A **string** input (the categories the library recorded: LightGBM `pandas_categorical`, XGBoost >= 3.1 `cats`;
  code = position in that list) gets its membership columns from a `CategoryLookup`; "" (missing) and every
  unknown string are the missing value the library routes (LightGBM: pandas maps an unknown category to NaN).
- A **numeric** (integer-coded) input gets them from a small TreeEnsemble step: per membership column one tree over
  the column whose leaves are 1.0 on the code intervals of the set and 0.0 elsewhere, with the library's own code
  rule (`forest.CodeRule`): LightGBM code c >= 1 is `c <= x < c + 1`, code 0 is `-1 < x < 1` (truncation toward 0);
  XGBoost code c is `c <= float32(x) < c + 1` (snapped to an exact double test like every XGBoost threshold). NaN
  takes the node's missing direction. The tree compares against integers, so both formats route it exactly.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from export import ir
from export.errors import UsageError
from export.from_boosting.forest import BoostedForest, Op, concatenate_trees, to_tree_ensemble
from export.from_sklearn.dataframe import MEMBER_THRESHOLD, MembershipColumns, MembershipKey
from export.signature import coreml_input_names

MEMBERSHIP_STEP = "categories:membership"
CODES_STEP = "codes:membership"


def _code_boundaries(members: frozenset[int], forest: BoostedForest) -> list[tuple[float, int]]:
    """(value, op) boundaries, ascending, between the alternating non-member / member intervals of `members`: a
    value v with `v <op> value` true lies below the boundary. The first interval (below everything) is non-member."""
    boundaries: list[tuple[float, int]] = []
    codes = sorted(members)
    runs: list[tuple[int, int]] = []
    for c in codes:
        if runs and c == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    for first, last in runs:
        if first == 0 and forest.code_rule == "lightgbm":
            boundaries.append((-1.0, Op.LE))  # trunc(x) = 0 for -1 < x < 1
        else:
            boundaries.append((float(first), Op.LT))  # XGBoost: float32(x) < 0 is no code (-0.0 is code 0)
        boundaries.append((float(last) + 1.0, Op.LT))
    return boundaries


def _membership_tree(feature: int, members: frozenset[int], missing_member: bool, target: int,
                     forest: BoostedForest) -> dict[str, np.ndarray]:
    """One tree: 1.0 into output `target` where the column's code is in `members` (NaN: `missing_member`)."""
    boundaries = _code_boundaries(members, forest)
    rows: list[list[float]] = []  # feature, threshold, op, true, false, missing_true, leaf

    def label(region: int) -> float:
        return float(region % 2)  # regions alternate non-member (even) / member (odd)

    def build(lo: int, hi: int) -> int:
        index = len(rows)
        rows.append([])
        if lo == hi:
            rows[index] = [-1, 0.0, Op.LE, -1, -1, 0, label(lo)]
            return index
        mid = (lo + hi) // 2
        value, op = boundaries[mid]
        # NaN goes to a side holding a leaf of the missing label (both sides do unless they are single regions)
        left_has = mid > lo or label(lo) == float(missing_member)
        true_child = build(lo, mid)
        false_child = build(mid + 1, hi)
        rows[index] = [feature, value, op, true_child, false_child, int(left_has), 0.0]
        return index

    if not boundaries:  # an empty set: only NaN can be a member
        if missing_member:
            rows = [[feature, np.inf, Op.LE, 1, 2, 0, 0.0], [-1, 0.0, Op.LE, -1, -1, 0, 0.0],
                    [-1, 0.0, Op.LE, -1, -1, 0, 1.0]]
        else:
            rows = [[-1, 0.0, Op.LE, -1, -1, 0, 0.0]]
    else:
        build(0, len(boundaries))
    table = np.array(rows, dtype=np.float64)
    return {"feature": table[:, 0].astype(np.int64), "threshold": table[:, 1], "op": table[:, 2].astype(np.int64),
            "true_child": table[:, 3].astype(np.int64), "false_child": table[:, 4].astype(np.int64),
            "missing_true": table[:, 5] != 0, "leaf": table[:, 6], "target": np.full(len(rows), target)}


def _codes_ensemble(keys: list[MembershipKey], position: dict[int, int], n_numeric: int,
                    forest: BoostedForest) -> ir.TreeEnsemble:
    """The TreeEnsemble computing the numeric inputs' membership columns (0/1 sums from 0: exact)."""
    columns = concatenate_trees([_membership_tree(position[f], members, missing, k, forest)
                                 for k, (f, members, missing) in enumerate(keys)])
    n = columns["leaf"].size
    leaf_value = np.zeros((n, len(keys)))
    leaf_value[np.arange(n), columns["target"]] = columns["leaf"]
    codes = replace(forest, n_features=n_numeric, tree=columns["tree"], node=columns["node"],
                    feature=columns["feature"], threshold=columns["threshold"], op=columns["op"],
                    true_child=columns["true_child"], false_child=columns["false_child"],
                    missing_true=columns["missing_true"], leaf_value=leaf_value, leaf_target=columns["target"],
                    base=np.zeros(len(keys)), head=ir.Regression(n_targets=len(keys)), sums_float32=False,
                    category_sets=(), string_categories=())
    return to_tree_ensemble(codes)


def categorical_model(forest: BoostedForest, feature_names: tuple[str, ...] | None = None) -> ir.Model:
    """The IR root of a forest with categorical splits: membership steps, then the forest reading the membership
    columns (strings first, then numeric codes) and its numeric inputs."""
    n = forest.n_features
    strings = forest.string_categories or (None,) * n
    is_string = [c is not None for c in strings]
    names = feature_names or forest.feature_names
    if any(is_string) and names is None:
        raise UsageError(f"{forest.library} model with string categories needs its feature names")
    if names is not None and len(names) != n:
        raise UsageError(f"{len(names)} feature names for a model that takes {n} features")
    numeric = [j for j in range(n) if not is_string[j]]
    position = {j: p for p, j in enumerate(numeric)}
    by_strings, by_codes = MembershipColumns(), MembershipColumns()
    node_key: dict[int, MembershipKey] = {}
    for i in np.flatnonzero((forest.feature >= 0) & (forest.op == Op.IN)):
        f = int(forest.feature[i])
        key = (f, forest.category_sets[int(forest.threshold[i])], bool(forest.missing_true[i]))
        (by_strings if is_string[f] else by_codes).column(key)
        node_key[int(i)] = key
    for column in (j for j in range(n) if is_string[j]):  # a string column no split uses is still an input
        if not any(key[0] == column for key in by_strings.keys):
            by_strings.column((column, frozenset(), False))
    n_strings, n_codes = len(by_strings.keys), len(by_codes.keys)
    feature, threshold, op = forest.feature.copy(), forest.threshold.copy(), forest.op.copy()
    true_child, false_child, missing = forest.true_child.copy(), forest.false_child.copy(), forest.missing_true.copy()
    numeric_node = (forest.feature >= 0) & (forest.op != Op.IN)
    feature[numeric_node] = n_strings + n_codes + np.array([position[int(j)] for j in forest.feature[numeric_node]],
                                                           dtype=np.int64)
    for node, key in node_key.items():
        feature[node] = by_strings.keys[key] if is_string[key[0]] else n_strings + by_codes.keys[key]
        threshold[node], op[node], missing[node] = MEMBER_THRESHOLD, Op.LE, False
        true_child[node], false_child[node] = forest.false_child[node], forest.true_child[node]  # member -> false
    main = replace(forest, n_features=n_strings + n_codes + len(numeric), feature=feature, threshold=threshold,
                   op=op, true_child=true_child, false_child=false_child, missing_true=missing, category_sets=(),
                   string_categories=())
    if names is None:
        schema = ir.Schema.block(n, missing="nan")
        numeric_inputs: tuple[str, ...] = (schema.columns[0].name,)
    else:
        schema = ir.Schema(tuple(ir.Column(name, "string" if is_string[j] else "double", input_name,
                                           missing="refused" if is_string[j] else "nan")
                                 for j, (name, input_name) in enumerate(zip(names, coreml_input_names(tuple(names)),
                                                                            strict=True))))
        numeric_inputs = tuple(names[j] for j in numeric)
    body: list[ir.Step] = []
    if n_strings:
        categories = [list(c) if c is not None else [] for c in strings]
        body.append(ir.Step(MEMBERSHIP_STEP, by_strings.lookup(categories), by_strings.columns_read(list(names or ()))))
    if n_codes:
        body.append(ir.Step(CODES_STEP, _codes_ensemble(by_codes.ordered(), position, len(numeric), forest),
                            numeric_inputs))
    scores_inputs = tuple(step.name for step in body) + (numeric_inputs if numeric else ())
    body.append(ir.Step("scores", to_tree_ensemble(main), scores_inputs))
    return ir.Model(inputs=schema, body=tuple(body), head=forest.head)
