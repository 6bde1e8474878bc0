"""A fitted text model -> (TextFeatures, IR tail): what export.from_sklearn.text lowers to body steps.

Accepted: a scikit-learn Pipeline [CountVectorizer | TfidfVectorizer | HashingVectorizer, (TfidfTransformer),
final estimator], or a lone vectorizer (a transform). The final estimator is any type of the front-end registry
(export.frontends: LogisticRegression, LinearSVC, SGDClassifier, MultinomialNB, ComplementNB, ...). The IR tail reads
the vectorizer's dense output as one block of doubles: idf multiply (an ir.Scaler, one IEEE multiply like
scikit-learn's `X.data *= idf_[X.indices]`), the norm (ir.Normalizer), the model, under the model's head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.pipeline import Pipeline

from export import ir
from export.errors import UnsupportedEstimatorError
from export.frontends import convert
from export.text.analyzer import TextFeatures, text_features_of, with_tfidf

VECTORIZERS = (CountVectorizer, TfidfVectorizer, HashingVectorizer)


@dataclass(frozen=True)
class TextTail:
    """What follows the vectorizer: `node` (None: the counts, or tf-idf, are the output) under `head`."""

    node: ir.Node | None
    head: ir.Head


def tail_of(features: TextFeatures, model: ir.Node | None) -> ir.Node | None:
    """The IR after the vectorizer's counts: idf multiply, norm, model (None: the counts are the output)."""
    steps: list[ir.Node] = []
    width = features.n_features
    if features.tfidf is not None and features.tfidf.idf is not None:
        steps.append(ir.Scaler(offset=np.zeros(width), scale=features.tfidf.idf))
    if features.tfidf is not None and features.tfidf.norm is not None:
        steps.append(ir.Normalizer(norm=features.tfidf.norm, n_features=width))
    if model is not None:
        steps.append(model)
    if not steps:
        return None
    return steps[0] if len(steps) == 1 else ir.Pipeline(steps=tuple(steps))


def text_model_of(estimator: Any) -> tuple[TextFeatures, TextTail]:
    """(what the vectorizer computes from a string, the IR tail), or a one-line refusal."""
    steps = [step for _, step in estimator.steps] if isinstance(estimator, Pipeline) else [estimator]
    steps = [s for s in steps if s != "passthrough" and s is not None]
    if not steps or not isinstance(steps[0], VECTORIZERS):
        raise UnsupportedEstimatorError("a text model starts with one of "
                                        f"{', '.join(c.__name__ for c in VECTORIZERS)}")
    features = text_features_of(steps[0])
    rest = steps[1:]
    if rest and isinstance(rest[0], TfidfTransformer):
        features = with_tfidf(features, rest[0])
        rest = rest[1:]
    if len(rest) > 1:
        raise UnsupportedEstimatorError(f"text pipeline: after the vectorizer, only an optional TfidfTransformer and "
                                        f"one estimator are supported, got {[type(s).__name__ for s in rest]}")
    converted = convert(rest[0]) if rest else None
    if converted is not None:
        width = ir.input_width(converted.node)
        if width is not None and width != features.n_features:
            raise UnsupportedEstimatorError(f"{type(rest[0]).__name__} reads {width} features, the vectorizer "
                                            f"makes {features.n_features}")
    head = converted.head if converted is not None else ir.Transformed()
    return features, TextTail(tail_of(features, converted.node if converted is not None else None), head)
