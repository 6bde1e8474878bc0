"""scikit-learn's text vectorizers in the one flow: CountVectorizer / TfidfVectorizer / HashingVectorizer read a
column of documents (an IR string column) through an `ir.TextVectorizer` body step; TfidfTransformer on a count
matrix is an idf `Scaler` and a `Normalizer`.

A vectorizer reads documents, never a numeric vector, so it is lowered by whole-model builders, not by its registry
row's converter (which refuses with where it *is* supported):
- `documents_model`: a vectorizer alone, or first in a Pipeline, fitted on a list / Series / 1-D array of strings:
  one string input column, named `DEFAULT_TEXT_COLUMN` unless the user names it (`--feature-names title`);
- `text_part_steps` (called by `dataframe.dataframe_model`): a ColumnTransformer part vectorizing one DataFrame
  column, given by its name (a string, so the vectorizer receives a Series of documents), beside string-encoder
  and numeric parts.
What the analyzer settings become, and what is refused, is `export.text.analyzer`'s; what follows the vectorizer in
the pipeline (TfidfTransformer, the model) is `export.text.pipeline.text_model_of`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
from sklearn.pipeline import Pipeline

from export import ir
from export.from_sklearn.estimator_checks import refuse
from export.frontends import Converted
from export.text.analyzer import tfidf_of
from export.text.pipeline import text_model_of

VECTORIZERS = (CountVectorizer, TfidfVectorizer, HashingVectorizer)
DEFAULT_TEXT_COLUMN = "text"  # the input of a model fitted on bare documents (no column name recorded)
_WHERE = ("supported: alone or first in a Pipeline fitted on a list/Series of strings, or as a ColumnTransformer "
          "part given one column name (a string, not a list)")


def _active_steps(est: Any) -> list[Any]:
    steps = [s for _, s in est.steps] if type(est) is Pipeline else [est]
    return [s for s in steps if s is not None and not (isinstance(s, str) and s == "passthrough")]


def reads_documents(est: Any) -> bool:
    """Whether `est` (a vectorizer, or a Pipeline starting with one) takes documents rather than a numeric X."""
    steps = _active_steps(est)
    return bool(steps) and type(steps[0]) in VECTORIZERS


def vectorizer_to_ir(est: Any) -> Converted:
    """The registry row's converter: reached only where a vectorizer would read a numeric vector."""
    raise refuse(est, f"reads documents (one text column), not a numeric vector; {_WHERE}")


def tfidf_transformer_to_ir(est: Any) -> Converted:
    """TfidfTransformer on a count matrix: X * idf_ (one IEEE multiply, scikit-learn's `X.data *= idf_`), then the
    norm. sublinear_tf (1 + log tf on the stored counts) is exact only right after a vectorizer, where it is folded
    into the counts (ir.TextVectorizer)."""
    tfidf = tfidf_of(est)
    if tfidf.sublinear_tf:
        raise refuse(est, "sublinear_tf=True on a numeric input (1 + log tf applies to stored entries only); "
                          "supported: sublinear_tf=True right after a CountVectorizer in a Pipeline, or "
                          "sublinear_tf=False")
    width = int(est.n_features_in_)
    steps: list[ir.Node] = []
    if tfidf.idf is not None:
        steps.append(ir.Scaler(offset=np.zeros(width), scale=tfidf.idf))
    if tfidf.norm is not None:
        steps.append(ir.Normalizer(norm=tfidf.norm, n_features=width))
    if not steps:
        steps.append(ir.ColumnSelect(indices=np.arange(width), n_features=width))
    return Converted(steps[0] if len(steps) == 1 else ir.Pipeline(tuple(steps)), ir.Transformed())


def text_steps(transformer: Any, column: str, prefix: str | None = None) -> tuple[list[ir.Step], ir.Head]:
    """The body steps of a text model reading the string column `column`: the counts, then what follows the
    vectorizer (one step named `prefix`, or 'scores' / 'transformed' by its head when None), and that head."""
    features, tail = text_model_of(transformer)
    final = prefix or ("transformed" if isinstance(tail.head, ir.Transformed) else "scores")
    counts = ir.Step(f"{final}:counts" if tail.node is not None else final, features.node, (column,))
    if tail.node is None:
        return [counts], tail.head
    return [counts, ir.Step(final, tail.node, (counts.name,))], tail.head


def text_part_steps(ct: Any, part_name: str, transformer: Any, columns: list[str]) -> list[ir.Step] | None:
    """A ColumnTransformer part that vectorizes one text column (None when the part is not a text part)."""
    if not reads_documents(transformer):
        return None
    spec = next(spec for name, _, spec in ct.transformers_ if name == part_name)
    if not isinstance(spec, str) or len(columns) != 1:
        raise refuse(ct, f"part {part_name!r}: a text vectorizer must be given one column name as a string (got "
                         f"{spec!r}; a list passes a 2-D frame, whose iteration yields column names)")
    steps, head = text_steps(transformer, columns[0], f"ct:{part_name}")
    if not isinstance(head, ir.Transformed):
        raise refuse(ct, f"part {part_name!r} ends in a model; a ColumnTransformer part must be a transform")
    return steps


def documents_model(est: Any) -> ir.Model | None:
    """The Model of a text model fitted on bare documents (see the module docstring); None for other estimators."""
    if not reads_documents(est):
        return None
    steps, head = text_steps(est, DEFAULT_TEXT_COLUMN)
    return ir.Model(ir.Schema((ir.Column(DEFAULT_TEXT_COLUMN, "string", DEFAULT_TEXT_COLUMN),)), tuple(steps), head)
