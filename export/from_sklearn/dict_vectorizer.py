"""scikit-learn's DictVectorizer in the one flow: a model fitted on a list of dicts (string key -> number, or
string -> string for one-hot "key=value" features) reads one dictionary column through an `ir.DictVectorizer`
body step, then what follows it in a Pipeline as ordinary steps.

A DictVectorizer reads dicts, never a numeric vector, so it is lowered by the whole-model builder `dicts_model`
(alone, or first in a Pipeline), not by its registry row's converter (which refuses with where it *is* supported).
The input column is named `DEFAULT_DICT_COLUMN` (a model fitted on dicts records no column name).

Exact by construction: `transform` copies each known key's value into its column (`feature_names_` order, which is
`vocabulary_`'s) and ignores unknown keys; sparse or dense output, `sort` True or False, give the same numbers
(the output is densified; the column order is read from `vocabulary_`, whatever `sort` made it).
"""

from __future__ import annotations

from typing import Any

from sklearn.feature_extraction import DictVectorizer
from sklearn.pipeline import Pipeline

from export import ir
from export.errors import UnsupportedEstimatorError
from export.from_sklearn.estimator_checks import refuse
from export.frontends import Converted, convert

DEFAULT_DICT_COLUMN = "features"  # the input of a model fitted on dicts (no column name recorded)
_WHERE = "supported: alone or first in a Pipeline fitted on a list of dicts"


def _active_steps(est: Any) -> list[Any]:
    steps = [s for _, s in est.steps] if type(est) is Pipeline else [est]
    return [s for s in steps if s is not None and not (isinstance(s, str) and s == "passthrough")]


def reads_dicts(est: Any) -> bool:
    """Whether `est` (a DictVectorizer, or a Pipeline starting with one) takes dicts rather than a numeric X."""
    steps = _active_steps(est)
    return bool(steps) and type(steps[0]) is DictVectorizer


def dict_vectorizer_to_ir(est: Any) -> Converted:
    """The registry row's converter: reached only where a DictVectorizer would read a numeric vector."""
    raise refuse(est, f"reads dicts (one dictionary column), not a numeric vector; {_WHERE}")


def dict_vectorizer_node(est: Any) -> ir.DictVectorizer:
    """The IR node of a fitted DictVectorizer: its terms in output-column order (`vocabulary_[term]` = column)."""
    vocabulary = getattr(est, "vocabulary_", None)
    if vocabulary is None:
        raise refuse(est, "is not fitted (no vocabulary_)")
    terms = sorted(vocabulary, key=vocabulary.__getitem__)
    if [vocabulary[t] for t in terms] != list(range(len(terms))) or not all(isinstance(t, str) for t in terms):
        raise refuse(est, "vocabulary_ must map string keys to the columns 0..n-1")
    if not terms:
        raise refuse(est, "learned no feature (vocabulary_ is empty)")
    if "" in vocabulary:
        raise refuse(est, 'learned the key "" (the padding of the ONNX keys input); supported: non-empty keys')
    return ir.DictVectorizer(terms=tuple(terms))


def dicts_model(est: Any) -> ir.Model | None:
    """The Model of an estimator fitted on dicts (see the module docstring); None for other estimators."""
    if not reads_dicts(est):
        return None
    first, *rest = _active_steps(est)
    node = dict_vectorizer_node(first)
    column = ir.Column(DEFAULT_DICT_COLUMN, "dictionary", DEFAULT_DICT_COLUMN)
    if not rest:
        return ir.Model(ir.Schema((column,)), (ir.Step("transformed", node, (column.name,)),), ir.Transformed())
    after = est[est.steps.index(next(s for s in est.steps if s[1] is first)) + 1:]  # the fitted steps after it
    converted = convert(rest[0] if len(rest) == 1 else after)
    width = ir.input_width(converted.node)
    if width is not None and width != node.n_outputs:
        raise UnsupportedEstimatorError(f"{type(rest[0]).__name__} reads {width} features, the DictVectorizer makes "
                                        f"{node.n_outputs}")
    final = "transformed" if isinstance(converted.head, ir.Transformed) else "scores"
    body = (ir.Step(f"{final}:features", node, (column.name,)), ir.Step(final, converted.node, (f"{final}:features",)))
    return ir.Model(ir.Schema((column,)), body, converted.head)
