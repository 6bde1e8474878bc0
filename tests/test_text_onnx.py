"""The ONNX text graph on raw strings equals scikit-learn: the vectorizer's transform (every row bit-identical) for
every analyzer config, HashingVectorizer's murmurhash buckets and signs, and text pipelines' labels and
probabilities with linear and naive Bayes models. Inputs: Tate titles + the edge cases of tests/text_corpus.py
(empty, only stop words, unseen words, Unicode, a 27k-character document)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import text_corpus
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir
from export.text.pipeline import text_model_of
from export.to_onnx import OnnxOptions, to_onnx

PROBES = (*text_corpus.EDGE_CASES, "zzqx unseenword qqqq", "the of and a in", "THE OF AND")


def _session(estimator: Any, input_dtype: str = "float64") -> tuple[ort.InferenceSession, list[str]]:
    exported = to_onnx(estimator, to_ir(estimator, feature_names=("title",)),
                       OnnxOptions(input_dtype=input_dtype))  # type: ignore[arg-type]
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(exported.model.SerializeToString(), options)
    return session, [o.name for o in session.get_outputs()]


def _run(session: ort.InferenceSession, documents: list[str]) -> list[np.ndarray]:
    return session.run(None, {"title": np.array(documents, dtype=object).reshape(-1, 1)})


def _documents(n_titles: int | None) -> list[str]:
    return text_corpus.titles()[:n_titles] + list(PROBES)


@pytest.mark.parametrize("name", list(text_corpus.VECTORIZERS))
def test_vectorizer_rows_are_bit_identical(name: str) -> None:
    vectorizer = text_corpus.fitted(name)
    documents = _documents(None if name == "default" else 400)  # the whole corpus once, a slice for the others
    session, _ = _session(vectorizer)
    got = _run(session, documents)[0]
    expected = vectorizer.transform(documents).toarray()
    equal_rows = (got == expected).all(axis=1)
    assert equal_rows.all(), [documents[i][:60] for i in np.flatnonzero(~equal_rows)[:5]]


@pytest.mark.parametrize("settings", [
    {"n_features": 2**12},
    {"n_features": 2**10, "alternate_sign": False, "norm": None, "ngram_range": (1, 2), "stop_words": "english"},
    {"n_features": 997, "binary": True, "norm": "l1", "strip_accents": "unicode"},
    {"n_features": 2**12, "binary": True, "norm": None},  # buckets whose signs cancel to 0 still count 1
    {"n_features": 2**10, "lowercase": False, "token_pattern": r"\b\w+\b", "ngram_range": (2, 3)},
])
def test_hashing_vectorizer_matches_murmurhash_buckets_and_signs(settings: dict[str, Any]) -> None:
    vectorizer = HashingVectorizer(**settings)
    documents = _documents(300)
    got = _run(_session(vectorizer)[0], documents)[0]
    expected = vectorizer.transform(documents).toarray()
    np.testing.assert_array_equal(got, expected)


MODELS = {
    "tfidf_logistic": lambda: make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=300)),
    "tfidf_bigram_linear_svc": lambda: make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                                                     LinearSVC()),
    "tfidf_l1_sgd": lambda: make_pipeline(TfidfVectorizer(norm="l1", strip_accents="ascii"),
                                          SGDClassifier(random_state=0)),
    "counts_multinomial_nb": lambda: make_pipeline(CountVectorizer(stop_words="english"), MultinomialNB()),
    "counts_tfidf_transformer_complement_nb": lambda: make_pipeline(CountVectorizer(ngram_range=(1, 2)),
                                                                     TfidfTransformer(), ComplementNB()),
    "binary_logistic": lambda: make_pipeline(TfidfVectorizer(strip_accents="unicode"),
                                             LogisticRegression(max_iter=300)),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_text_pipelines_predict_like_scikit_learn(name: str) -> None:
    titles, kinds = text_corpus.training_set()
    if name == "binary_logistic":
        kinds = np.where(kinds == kinds[0], kinds[0], "other")
    pipeline = MODELS[name]().fit(titles, kinds)
    documents = _documents(500)
    session, outputs = _session(pipeline)
    results = dict(zip(outputs, _run(session, documents), strict=True))
    np.testing.assert_array_equal(results["classLabel"].ravel(), pipeline.predict(documents))
    if "classProbability" in results:
        np.testing.assert_allclose(results["classProbability"], pipeline.predict_proba(documents), rtol=1e-12,
                                   atol=1e-15)


def test_float32_contract_outputs_are_the_double_results_rounded() -> None:
    titles, kinds = text_corpus.training_set()
    pipeline = make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(titles, kinds)
    documents = _documents(100)
    proba = _run(_session(pipeline, "float32")[0], documents)[1]
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba, pipeline.predict_proba(documents).astype(np.float32), rtol=1e-6)


def test_unsupported_text_pipelines_are_refused() -> None:
    titles, kinds = text_corpus.training_set()
    with pytest.raises(UnsupportedEstimatorError, match="analyzer='char'"):
        text_model_of(make_pipeline(TfidfVectorizer(analyzer="char"), MultinomialNB()).fit(titles, kinds))
    with pytest.raises(UnsupportedEstimatorError, match="a text model starts with one of CountVectorizer"):
        text_model_of(make_pipeline(TfidfTransformer(), MultinomialNB()))


def _random_documents(seed: int) -> list[str]:
    import random

    from test_text_analyzer import _POOL

    rng = random.Random(seed)
    docs = ["".join(rng.choice(_POOL) for _ in range(rng.randint(0, 30))) for _ in range(300)]
    docs += ["".join(chr(rng.randint(0x80, 0x2FFFF)) for _ in range(10)) for _ in range(100)]
    return [d for d in docs if not any(0xD800 <= ord(c) <= 0xDFFF for c in d)]


@pytest.mark.parametrize("settings", [
    {},  # lowercase: the final-sigma rule and 'İ' -> 'i̇' matter here
    {"strip_accents": "unicode", "ngram_range": (1, 2)},
    {"strip_accents": "ascii", "token_pattern": r"\b\w+\b"},
    {"lowercase": False, "token_pattern": r"\b\w+\b"},
])
def test_random_unicode_text_is_counted_like_scikit_learn(settings: dict[str, Any]) -> None:
    """Vocabulary fitted on random strings of case-context, combining, compatibility and astral characters, so
    nearly every term exercises a table: any code point RE2, the maps or the sigma rule got wrong shows up."""
    train, test = _random_documents(1), _random_documents(2)
    vectorizer = CountVectorizer(**settings).fit(train + test)
    got = _run(_session(vectorizer)[0], test)[0]
    expected = vectorizer.transform(test).toarray()
    equal_rows = (got == expected).all(axis=1)
    assert equal_rows.all(), [test[i] for i in np.flatnonzero(~equal_rows)[:5]]
