"""DataFrame models with string columns → an IR `Model` whose schema has one input per column: a ColumnTransformer
(alone or first in a Pipeline) fitted on a DataFrame, some of whose parts encode string columns.

Each ColumnTransformer part becomes a body step reading its columns by name: a string encoder (OneHotEncoder,
OrdinalEncoder, TargetEncoder, optionally after a SimpleImputer) a `CategoryLookup`, a numeric part its usual node;
the rest of the Pipeline is one step reading the parts side by side, in `transformers_` order.

The missing-string contract (docs: categorical-semantics §5): the app feeds "" for a missing string, and "" is
given what scikit-learn does with NaN in that column. Refused where that cannot hold: "" itself a training
category, `None` a category (object columns: a second "missing" scikit-learn keeps apart from NaN), keys that are
not NFC-normalised (apps and parity compare NFC strings).
"""

from __future__ import annotations

import unicodedata
import warnings
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder

from export import ir
from export.from_sklearn.composition import _flatten, _is_passthrough, _require_transform
from export.from_sklearn.estimator_checks import refuse
from export.from_sklearn.text import text_part_steps
from export.frontends import _allows_nan, convert

STRING_ENCODERS = (OneHotEncoder, OrdinalEncoder, TargetEncoder)
_UNKNOWN = "\0mlexport: a category never seen in training"  # NUL: no real category is this string


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and value != value


def _string_categories(est: Any) -> list[bool]:
    """Per input column of an encoder: whether its categories are strings (else numbers)."""
    kinds = []
    for j, categories in enumerate(est.categories_):
        values = [c for c in np.asarray(categories, dtype=object).tolist() if not _is_nan(c) and c is not None]
        strings = [isinstance(c, str) for c in values]
        if any(strings) and not all(strings):
            raise refuse(est, f"column {j} mixes string and non-string categories {values!r}; supported: all "
                              "strings or all numbers")
        kinds.append(bool(values) and all(strings))
    return kinds


def _block_widths(est: Any) -> list[int]:
    """Output columns per input column, in output order (`get_feature_names_out` is grouped by input column)."""
    n = len(est.categories_)
    if isinstance(est, OneHotEncoder):
        return [int(w) for w in est._n_features_outs]
    if isinstance(est, TargetEncoder) and est.target_type_ == "multiclass":
        return [len(est.classes_)] * n
    return [1] * n


def _transform(est: Any, rows: np.ndarray) -> np.ndarray | None:
    """`est.transform` on object rows (named like the fit input), dense float64; None where scikit-learn raises."""
    import pandas as pd

    names = getattr(est, "feature_names_in_", None)
    data: Any = pd.DataFrame(rows, columns=list(names), dtype=object) if names is not None else rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown-category warnings: the table records what transform does
        try:
            out = est.transform(data)
        except ValueError:
            return None
    if hasattr(out, "toarray"):
        out = out.toarray()
    return np.asarray(out, dtype=np.float64)


def _transform_per_column(est: Any, base: list[Any], values: list[list[Any]]) -> list[np.ndarray | None]:
    """For each column j, `est.transform` of rows equal to `base` except column j, set to each of `values[j]` —
    in one call when scikit-learn accepts every row, else column by column (None where it raises)."""
    blocks = []
    for j, column_values in enumerate(values):
        rows = np.array([base] * len(column_values), dtype=object).reshape(len(column_values), len(base))
        rows[:, j] = column_values
        blocks.append(rows)
    together = _transform(est, np.vstack(blocks))
    if together is None:
        return [_transform(est, rows) for rows in blocks]
    ends = np.cumsum([len(rows) for rows in blocks])
    return list(np.split(together, ends[:-1]))


def string_category_problem(column: str, category: str) -> str | None:
    """Why a training category cannot be a key of the string-input contract (categorical-semantics §5.2), or None."""
    if category == "":
        return (f"column {column!r} has the empty string as a training category; the export feeds \"\" for a "
                "missing value — replace \"\" by NaN (or another label) before fitting")
    if unicodedata.normalize("NFC", category) != category:
        return (f"column {column!r} category {category!r} is not NFC-normalised; apps and parity compare NFC "
                "strings — fit on df[col].str.normalize('NFC')")
    return None


def _check_key(est: Any, column: str, category: str) -> None:
    problem = string_category_problem(column, category)
    if problem:
        raise refuse(est, problem)


def encoder_lookup(est: Any, columns: list[str], imputer: Any = None) -> ir.CategoryLookup:
    """The exact table of a fitted string encoder, read from its own `transform`: each category (and NaN when it
    was a category: key ""), and an unseen value for the default. A SimpleImputer in front maps its missing value
    to the fill's row. handle_unknown='error' (scikit-learn raises): the default is all zeros (OneHotEncoder) or
    NaN (OrdinalEncoder)."""
    widths = _block_widths(est)
    per_column = [[c for c in np.asarray(cats, dtype=object).tolist()] for cats in est.categories_]
    for column, categories in zip(columns, per_column, strict=True):
        if any(c is None for c in categories):
            raise refuse(est, f"column {column!r} has None as a category (an object column with None); the export "
                              "has one missing value, \"\" = scikit-learn's NaN — convert the column to pandas 3 str "
                              "(missing = NaN) before fitting")
        for c in categories:
            if isinstance(c, str):
                _check_key(est, column, c)
    fill: list[Any] = [None] * len(columns)
    if imputer is not None:
        fill = list(np.asarray(imputer.statistics_, dtype=object).tolist())
    base = [next((c for c in cats if not _is_nan(c)), _UNKNOWN) for cats in per_column]
    # Two transform calls for all columns (one row per category of each column, then one unseen row per column),
    # not two per column: each call costs scikit-learn's input validation of a DataFrame.
    probe_values = []
    for j, categories in enumerate(per_column):
        column_values: list[Any] = list(categories)  # NaN included when it was a category
        if fill[j] is not None:
            column_values = [c for c in column_values if not _is_nan(c)] + [fill[j]]
        probe_values.append(column_values)
    tables = _transform_per_column(est, base, probe_values)
    unknowns = _transform_per_column(est, base, [[_UNKNOWN]] * len(per_column))
    keys, values, defaults = [], [], []
    offset = 0
    for j, table in enumerate(tables):
        if table is None:
            raise refuse(est, f"column {columns[j]!r}: transform of its own categories failed")
        imputed = fill[j] is not None
        block = table[:, offset:offset + widths[j]]
        unknown = unknowns[j]
        if unknown is not None:
            default = unknown[0, offset:offset + widths[j]]
        else:
            default = np.full(widths[j], 0.0 if isinstance(est, OneHotEncoder) else np.nan)
        column_keys = ["" if _is_nan(c) else str(c) for c in probe_values[j]]
        column_rows = list(block)
        if imputed:
            # the imputer's missing value becomes the fill, so its key gets the fill's row; "" is NaN only when
            # the imputer imputes NaN (missing_values=np.nan), else "" keeps the encoder's own row for NaN
            fill_row = column_rows.pop()
            column_keys.pop()
            missing = imputer.missing_values
            missing_key = "" if _is_nan(missing) else missing
            if missing_key in column_keys:
                column_rows[column_keys.index(missing_key)] = fill_row
            else:
                column_keys.append(missing_key)
                column_rows.append(fill_row)
        keys.append(np.array(column_keys, dtype=object))
        values.append(np.array(column_rows, dtype=np.float64).reshape(len(column_keys), widths[j]))
        defaults.append(default)
        offset += widths[j]
    return ir.CategoryLookup(keys=tuple(keys), values=tuple(values), default=tuple(defaults))


def _string_imputer(est: Any) -> None:
    """SimpleImputer on string columns: most_frequent / constant; missing_values NaN or a string."""
    if est.strategy not in ("most_frequent", "constant"):
        raise refuse(est, f"strategy={est.strategy!r} on string columns; allowed: 'most_frequent', 'constant'")
    if est.add_indicator:
        raise refuse(est, "add_indicator=True is not supported; allowed: False")
    missing = est.missing_values
    if not (_is_nan(missing) or (isinstance(missing, str) and missing != "")):
        raise refuse(est, f"missing_values={missing!r} on string columns; allowed: np.nan or a non-empty string")
    if not all(isinstance(v, str) for v in np.asarray(est.statistics_, dtype=object).tolist()):
        raise refuse(est, "string columns need string fill values (statistics_); a column was all missing")


def _string_part(transformer: Any) -> tuple[Any, Any, list[Any]] | None:
    """(imputer or None, encoder, following transformers) when `transformer` encodes string columns, else None."""
    steps = [s for _, s in transformer.steps if not _is_passthrough(s) and s is not None] \
        if isinstance(transformer, Pipeline) else [transformer]
    imputer = None
    if steps and type(steps[0]) is SimpleImputer and len(steps) > 1 and type(steps[1]) in STRING_ENCODERS \
            and any(_string_categories(steps[1])):
        imputer, steps = steps[0], steps[1:]
    if not steps or type(steps[0]) not in STRING_ENCODERS:
        if steps and type(steps[0]) is SimpleImputer and np.asarray(steps[0].statistics_).dtype.kind == "O" \
                and any(isinstance(v, str) for v in np.asarray(steps[0].statistics_, dtype=object).tolist()):
            raise refuse(steps[0], "a SimpleImputer on string columns must be followed by an encoder "
                                   "(OneHotEncoder, OrdinalEncoder, TargetEncoder); its string output has no "
                                   "numeric export")
        return None
    kinds = _string_categories(steps[0])
    if not any(kinds):
        return None
    if not all(kinds):
        raise refuse(steps[0], "one encoder over both string and numeric columns; supported: separate encoders "
                               "for string and numeric columns")
    if imputer is not None:
        _string_imputer(imputer)
    return imputer, steps[0], steps[1:]


Part = tuple[str, Any, list[str]]  # (name, fitted transformer, the DataFrame columns it reads)


def _leading_parts(est: Any) -> tuple[Any, list[str], list[Part], list[Any]] | None:
    """(owner for messages, DataFrame column names, parts, the estimators after them) of a ColumnTransformer alone
    or first in a Pipeline — or of a string encoder (optionally after a SimpleImputer) alone or first in a
    Pipeline, as one part over every column."""
    active = [s for _, s in est.steps if s is not None and not (isinstance(s, str) and s == "passthrough")] \
        if type(est) is Pipeline else [est]
    if not active:
        return None
    first = active[0]
    names = getattr(first, "feature_names_in_", None)
    if names is None:
        return None
    names = [str(n) for n in names]
    if type(first) is ColumnTransformer:
        if first.transformer_weights:
            raise refuse(first, f"transformer_weights={first.transformer_weights!r} is not supported; allowed: None")
        parts = []
        for part_name, transformer, _ in first.transformers_:
            indices = np.asarray(first._transformer_to_input_indices[part_name], dtype=np.int64)
            if indices.size and not (isinstance(transformer, str) and transformer == "drop"):
                parts.append((part_name, transformer, [names[i] for i in indices]))
        return first, names, parts, active[1:]
    leading = 2 if type(first) is SimpleImputer and len(active) > 1 and type(active[1]) in STRING_ENCODERS else 1
    if type(active[leading - 1]) not in STRING_ENCODERS:
        return None
    part = Pipeline([(f"step{i}", s) for i, s in enumerate(active[:leading])]) if leading == 2 else first
    return est, names, [("encoder", part, names)], active[leading:]


def _string_steps(ct: Any, part_name: str, columns: list[str], imputer: Any, encoder: Any,
                  after: list[Any]) -> list[ir.Step]:
    """A string part: its lookup step, then (if the part's Pipeline goes on) one step for the rest, named after
    the part."""
    step_name = f"ct:{part_name}"
    lookup = ir.Step(f"{step_name}:lookup" if after else step_name, encoder_lookup(encoder, columns, imputer),
                     tuple(columns))
    if not after:
        return [lookup]
    nodes = [_require_transform(ct, part_name, convert(t)) for t in after]
    node = nodes[0] if len(nodes) == 1 else ir.Pipeline(tuple(_flatten(nodes)))
    return [lookup, ir.Step(step_name, node, (lookup.name,))]


def _numeric_step(ct: Any, part_name: str, transformer: Any, columns: list[str]) -> ir.Step:
    """A numeric part reading its columns side by side by name ('passthrough': an identity selection)."""
    if _is_passthrough(transformer):
        node: ir.Node = ir.ColumnSelect(indices=np.arange(len(columns)), n_features=len(columns))
    else:
        node = _require_transform(ct, part_name, convert(transformer))
    return ir.Step(f"ct:{part_name}", node, tuple(columns))


def dataframe_model(est: Any) -> ir.Model | None:
    """The Model of a DataFrame ColumnTransformer pipeline with string columns; None when `est` is not one (the
    one-step route then applies)."""
    from export.signature import coreml_input_names

    found = _leading_parts(est)
    if found is None:
        return None
    ct, names, found_parts, rest = found
    parts: list[tuple[str, Any, list[str], Any]] = []  # (name, transformer, columns, text steps | string part)
    any_string = False
    for part_name, transformer, columns in found_parts:
        text = None if _is_passthrough(transformer) else text_part_steps(ct, part_name, transformer, columns)
        string = None if _is_passthrough(transformer) or text is not None else _string_part(transformer)
        any_string = any_string or string is not None or text is not None
        parts.append((part_name, transformer, columns, text if text is not None else string))
    if not any_string:
        return None
    converted_rest = [convert(step) for step in rest]
    for step, c in zip(rest[:-1], converted_rest[:-1], strict=True):
        _require_transform(est, type(step).__name__, c)
    final_estimator = rest[-1] if rest else None
    kinds: dict[str, ir.ColumnKind] = {}
    missing: dict[str, ir.MissingRule] = {}
    body: list[ir.Step] = []
    outputs: list[str] = []
    for part_name, transformer, columns, string in parts:
        for column in columns:
            kind: ir.ColumnKind = "string" if string is not None else "double"
            if kinds.setdefault(column, kind) != kind:
                raise refuse(ct, f"column {column!r} is read both as a string and as a number")
        if isinstance(string, list):  # a text part: its steps (export.from_sklearn.text)
            body.extend(string)
        elif string is not None:
            body.extend(_string_steps(ct, part_name, columns, *string))
        else:
            owner = final_estimator if _is_passthrough(transformer) else transformer
            allow_nan = _allows_nan(owner) if owner is not None else True
            for column in columns:
                missing[column] = "nan" if allow_nan and missing.get(column, "nan") == "nan" else "refused"
            body.append(_numeric_step(ct, part_name, transformer, columns))
        outputs.append(body[-1].name)
    used = [n for n in names if n in kinds]
    schema = ir.Schema(tuple(ir.Column(n, kinds[n], i, missing=missing.get(n, "refused"))
                             for n, i in zip(used, coreml_input_names(tuple(used)), strict=True)))
    if converted_rest:
        nodes = [c.node for c in converted_rest]
        final = nodes[0] if len(nodes) == 1 else ir.Pipeline(tuple(_flatten(nodes)))
        head = converted_rest[-1].head
        body.append(ir.Step("scores" if not isinstance(head, ir.Transformed) else "transformed", final,
                            tuple(outputs)))
    else:
        width = sum(ir.output_width(step.node) for step in body if step.name in outputs)
        head = ir.Transformed()
        body.append(ir.Step("transformed", ir.ColumnSelect(indices=np.arange(width), n_features=width),
                            tuple(outputs)))
    return ir.Model(inputs=schema, body=tuple(body), head=head)


__all__ = ["MembershipColumns", "dataframe_model", "encoder_lookup", "string_category_problem"]


# ----------------------------------------------------------------------------------------------------------------
# HistGradientBoosting native categorical splits


def _bits(row: np.ndarray, n_categories: int) -> frozenset[int]:
    """Codes whose bit is set in one `raw_left_cat_bitsets` row (8 uint32 words, bit c of word c // 32)."""
    words = np.asarray(row, dtype=np.uint64)
    return frozenset(c for c in range(min(n_categories, 256)) if (int(words[c // 32]) >> (c % 32)) & 1)


MembershipKey = tuple[int, frozenset[int], bool]
"""(categorical column, the category codes on the member side of a split, whether missing and unknown values are on
the member side)."""

MEMBER_THRESHOLD = 0.5
"""A membership column holds 1.0 (member) or 0.0, so a split on it is `membership <= 0.5`: true = not a member."""


class MembershipColumns:
    """Categorical splits as membership columns, shared by every native-categorical tree model (HistGradientBoosting
    here, LightGBM and XGBoost in `export.from_boosting.categorical`): one column per distinct `MembershipKey`, so a
    split set used by many nodes costs one lookup; the node becomes `membership <= MEMBER_THRESHOLD` with its
    children swapped (true → the non-member side). Exact in both formats (0/1 compared with 0.5), one tree node per
    library node; the size cost is one lookup column (n_categories map entries) per distinct split set."""

    def __init__(self) -> None:
        self.keys: dict[MembershipKey, int] = {}

    def column(self, key: MembershipKey) -> int:
        """The membership column of `key` (a new one the first time the key is seen)."""
        return self.keys.setdefault(key, len(self.keys))

    def ordered(self) -> list[MembershipKey]:
        return sorted(self.keys, key=self.keys.__getitem__)

    def columns_read(self, names: list[str]) -> tuple[str, ...]:
        """The input column of each membership column, in column order (`names[f]` for key column f)."""
        return tuple(names[f] for f, _, _ in self.ordered())

    def lookup(self, categories: list[list[str]]) -> ir.CategoryLookup:
        """String columns → membership: a category (code = its position in `categories[f]`) → 1.0 if its code is
        in the set, else 0.0; "" (missing) and every unknown string → 1.0 iff missing goes to the member side."""
        ordered = self.ordered()
        return ir.CategoryLookup(
            keys=tuple(np.array(categories[f], dtype=object) for f, _, _ in ordered),
            values=tuple(np.array([[1.0 if c in members else 0.0] for c in range(len(categories[f]))])
                         for f, members, _ in ordered),
            default=tuple(np.array([1.0 if missing else 0.0]) for _, _, missing in ordered))


def hist_gradient_boosting_model(est: Any) -> ir.Model | None:
    """HistGradientBoosting* fitted on a DataFrame with categorical (pandas category / str) columns.

    scikit-learn (categorical-semantics §2): `_preprocessor` maps each categorical column to its rank in the
    sorted `categories_` (unknown and missing → NaN) and moves categorical columns first; a categorical node sends
    NaN to `missing_go_to_left`, a code in `raw_left_cat_bitsets[bitset_idx]` left, every other code right.
    Unknown ≡ missing. Lowering: one membership column per distinct (column, left set, missing direction) — a
    CategoryLookup string → 1.0 if in the left set else 0.0, "" and unknown → 1.0 iff missing goes left — and the
    node becomes `membership <= 0.5` (true → right). Exact in both formats (0/1 compared with 0.5), one tree node per
    scikit-learn node; size cost: one lookup column (n_categories map entries) per distinct split set. The literal
    `bitset_idx` row is used even for scikit-learn's one-category nodes (num_threshold=inf, §2.5)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from export.from_sklearn.trees import hgb_assemble, hgb_predictor_trees
    from export.signature import coreml_input_names

    if type(est) not in (HistGradientBoostingClassifier, HistGradientBoostingRegressor):
        return None
    preprocessor = getattr(est, "_preprocessor", None)
    if preprocessor is None or getattr(est, "is_categorical_", None) is None:
        return None
    names = getattr(est, "feature_names_in_", None)
    if names is None:
        raise refuse(est, "categorical features on a numpy array (numeric codes) are not supported; supported: a "
                          "DataFrame whose categorical columns hold strings")
    names = [str(n) for n in names]
    is_categorical = np.asarray(est.is_categorical_, dtype=bool)
    categorical = [names[i] for i in np.flatnonzero(is_categorical)]
    numeric = [names[i] for i in np.flatnonzero(~is_categorical)]
    encoder = preprocessor.named_transformers_["encoder"]
    categories: list[list[str]] = []
    for column, cats in zip(categorical, encoder.categories_, strict=True):
        values = [c for c in np.asarray(cats, dtype=object).tolist() if not _is_nan(c)]
        if not values or not all(isinstance(c, str) for c in values):
            raise refuse(est, f"categorical column {column!r} has non-string categories {values[:5]!r}; supported: "
                              "string categories (pandas category of strings, or str)")
        for c in values:
            _check_key(est, column, c)
        categories.append(values)
    trees = hgb_predictor_trees(est)
    membership = MembershipColumns()
    rewritten = []
    n_categorical = len(categorical)
    for predictor, arrays in trees:
        nodes = predictor.nodes
        is_cat = (np.asarray(nodes["is_categorical"]) != 0) & (arrays.feature >= 0)
        feature, threshold = arrays.feature.copy(), arrays.threshold.copy()
        true_child, false_child = arrays.true_child.copy(), arrays.false_child.copy()
        missing, mode = arrays.missing_tracks_true.copy(), arrays.mode.copy()
        for i in np.flatnonzero(is_cat):
            f = int(nodes["feature_idx"][i])
            if not 0 <= f < n_categorical or int(nodes["bitset_idx"][i]) >= predictor.raw_left_cat_bitsets.shape[0]:
                raise refuse(est, "a categorical node's feature or bitset index is out of range")
            key = (f, _bits(predictor.raw_left_cat_bitsets[int(nodes["bitset_idx"][i])], len(categories[f])),
                   bool(nodes["missing_go_to_left"][i]))
            feature[i] = membership.column(key)
            threshold[i], mode[i], missing[i] = MEMBER_THRESHOLD, ir.BranchMode.LEQ, False
            true_child[i], false_child[i] = arrays.false_child[i], arrays.true_child[i]  # member → left
        rewritten.append((is_cat, feature, threshold, mode, true_child, false_child, missing, arrays))
    if not membership.keys:  # no categorical split at all: one unused membership column keeps the columns' inputs
        membership.column((0, frozenset(), False))
    n_member = len(membership.keys)
    final = []
    from dataclasses import replace

    for is_cat, feature, threshold, mode, true_child, false_child, missing, arrays in rewritten:
        numeric_node = (arrays.feature >= 0) & ~is_cat
        feature[numeric_node] = n_member + (arrays.feature[numeric_node] - n_categorical)
        final.append(replace(arrays, feature=feature, threshold=threshold, mode=mode, true_child=true_child,
                             false_child=false_child, missing_tracks_true=missing))
    converted = hgb_assemble(est, final, n_member + len(numeric))
    member_step = ir.Step("hgb:membership", membership.lookup(categories), membership.columns_read(categorical))
    used = [n for n in names if n in categorical or n in numeric]
    schema = ir.Schema(tuple(ir.Column(n, "string" if n in categorical else "double", i,
                                       missing="refused" if n in categorical else "nan")
                             for n, i in zip(used, coreml_input_names(tuple(used)), strict=True)))
    scores = ir.Step("scores", converted.node, ("hgb:membership", *numeric))
    return ir.Model(inputs=schema, body=(member_step, scores), head=converted.head)
