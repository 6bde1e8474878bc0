"""A fitted text model -> (TextFeatures, IR tail): the front-end of the text route.

Accepted: a scikit-learn Pipeline [CountVectorizer | TfidfVectorizer | HashingVectorizer, (TfidfTransformer),
final estimator], or a lone vectorizer (a transform). The final estimator is any estimator the IR front-end supports
(export.from_sklearn.to_ir: LogisticRegression, LinearSVC, SGDClassifier, ...) or a naive Bayes model on counts
(MultinomialNB, ComplementNB), lowered here. The IR tail reads the vectorizer's dense output: idf multiply (an
ir.Scaler, one IEEE multiply like scikit-learn's `X.data *= idf_[X.indices]`), the norm (ir.Normalizer), the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline

from export import ir
from export.errors import NotFittedError, UnsupportedEstimatorError
from export.from_sklearn import to_ir
from export.from_sklearn.estimator_checks import classification
from export.text.analyzer import TextFeatures, text_features_of, with_tfidf

VECTORIZERS = (CountVectorizer, TfidfVectorizer, HashingVectorizer)


def naive_bayes_to_ir(est: Any) -> ir.LinearModel:
    """MultinomialNB: jll = X @ feature_log_prob_.T + class_log_prior_. ComplementNB: jll = X @ feature_log_prob_.T
    (+ class_log_prior_ only with a single class, which the IR's two-label minimum refuses anyway)."""
    if not hasattr(est, "feature_log_prob_"):
        raise NotFittedError(f"{type(est).__name__} is not fitted; fit it before exporting")
    coef = np.asarray(est.feature_log_prob_, dtype=np.float64)
    if isinstance(est, MultinomialNB):
        intercept = np.asarray(est.class_log_prior_, dtype=np.float64)
    else:
        intercept = np.zeros(coef.shape[0])
    # _BaseNB.predict_proba = exp(jll - logsumexp(jll)) = softmax(jll); predict = classes_[argmax(jll)].
    return ir.LinearModel(coef=coef, intercept=intercept, task=classification(est, "softmax", True))


NAIVE_BAYES = {MultinomialNB: naive_bayes_to_ir, ComplementNB: naive_bayes_to_ir}


def _model_to_ir(est: Any) -> ir.Node:
    converter = NAIVE_BAYES.get(type(est))
    return converter(est) if converter is not None else to_ir(est)  # the front-end table for every other one


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


def text_model_of(estimator: Any) -> tuple[TextFeatures, ir.Node | None]:
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
    model = _model_to_ir(rest[0]) if rest else None
    if model is not None and isinstance(model, ir.LinearModel) and model.n_features != features.n_features:
        raise UnsupportedEstimatorError(f"{type(rest[0]).__name__} reads {model.n_features} features, the "
                                        f"vectorizer makes {features.n_features}")
    return features, tail_of(features, model)
