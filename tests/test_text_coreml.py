"""Core ML text models (dictionary of term counts -> DictVectorizer -> idf Scaler -> Normalizer -> model) checked
with parity's Core ML reference evaluator against scikit-learn: on scikit-learn's own term counts for every model
kind, and end to end on the counts ios_stub's Swift TextFeatures computes (with the rules file's vocabulary) for
every Tate title and probe."""

from __future__ import annotations

import collections
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import text_corpus
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from swift_build import swift_product

import parity.coreml_reference as coreml_reference
from export.errors import UnsupportedEstimatorError
from export.frontends import to_ir
from export.text.analyzer import Vocabulary
from export.text.pipeline import text_model_of
from export.text.rules import text_rules
from export.to_coreml import CoreMLInterface, to_spec
from parity.text_inputs import probe_documents

PROBES = (*text_corpus.EDGE_CASES, "zzqx unseenword", "the of and a in")

MODELS = {  # name -> (pipeline, Core ML writes it through a float32 NeuralNetwork softmax)
    "tfidf_binary_logistic": (lambda: make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=300)), False),
    "tfidf_multiclass_logistic": (lambda: make_pipeline(TfidfVectorizer(strip_accents="unicode"),
                                                        LogisticRegression(max_iter=300)), True),
    "tfidf_bigram_linear_svc": (lambda: make_pipeline(TfidfVectorizer(ngram_range=(1, 2), norm="l1"), LinearSVC()),
                                False),
    "counts_multinomial_nb": (lambda: make_pipeline(CountVectorizer(stop_words="english"), MultinomialNB()), True),
    "counts_tfidf_complement_nb": (lambda: make_pipeline(CountVectorizer(binary=True), TfidfTransformer(),
                                                         ComplementNB()), True),
}


def _fit(name: str) -> Any:
    titles, kinds = text_corpus.training_set()
    if name == "tfidf_binary_logistic":
        kinds = np.where(kinds == kinds[0], kinds[0], "other")
    return MODELS[name][0]().fit(titles, kinds)


def _sklearn_counts(pipeline: Any, documents: list[str]) -> list[dict[str, float]]:
    """The dictionary the app passes: scikit-learn's analyzer counts, vocabulary terms only (binary: 1)."""
    vectorizer = pipeline[0]
    analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    rows = [{t: float(c) for t, c in collections.Counter(analyze(d)).items() if t in vocabulary} for d in documents]
    return [dict.fromkeys(r, 1.0) for r in rows] if vectorizer.binary else rows


def _spec(pipeline: Any) -> Any:
    return to_spec(to_ir(pipeline, feature_names=("title",)), CoreMLInterface())


def _assert_predicts_like(pipeline: Any, float32_weights: bool, documents: list[str],
                          counts: list[dict[str, float]]) -> None:
    out = coreml_reference.predict(_spec(pipeline), {"title": counts})
    labels = pipeline.predict(documents)
    if hasattr(pipeline, "predict_proba"):
        proba = pipeline.predict_proba(documents)
        tolerance = 1e-5 if float32_weights else 1e-12  # Core ML innerProduct weights are float32
        np.testing.assert_allclose(out["classProbability"], proba, rtol=tolerance, atol=tolerance)
        top2 = np.sort(proba, axis=1)[:, -2:]
        decided = top2[:, 1] - top2[:, 0] > 2 * tolerance  # rows whose label float32 weights cannot flip
        assert decided.mean() > 0.5  # ComplementNB probabilities are nearly flat: many rows sit within float32
        np.testing.assert_array_equal(out["classLabel"][decided], labels[decided])
    else:
        np.testing.assert_array_equal(out["classLabel"], labels)


@pytest.mark.parametrize("name", list(MODELS))
def test_text_models_predict_like_scikit_learn_on_term_counts(name: str) -> None:
    pipeline = _fit(name)
    documents = text_corpus.titles()[:800] + list(PROBES)
    _assert_predicts_like(pipeline, MODELS[name][1], documents, _sklearn_counts(pipeline, documents))


def test_dictionary_input_and_vocabulary_in_the_spec() -> None:
    pipeline = _fit("counts_multinomial_nb")
    spec = _spec(pipeline)
    assert spec.description.input[0].name == "title"
    assert spec.description.input[0].type.dictionaryType.WhichOneof("KeyType") == "stringKeyType"
    dict_vectorizer = spec.pipelineClassifier.pipeline.models[0].dictVectorizer
    assert list(dict_vectorizer.stringToIndex.vector) == list(pipeline[0].get_feature_names_out())


@pytest.mark.parametrize(("pipeline", "named"), [
    (make_pipeline(HashingVectorizer(n_features=256, alternate_sign=False), MultinomialNB()), "no vocabulary"),
    (make_pipeline(TfidfVectorizer(sublinear_tf=True), MultinomialNB()), "sublinear_tf=True"),
])
def test_unencodable_text_models_are_refused(pipeline: Any, named: str) -> None:
    titles, kinds = text_corpus.training_set()
    pipeline.fit(titles, kinds)
    with pytest.raises(UnsupportedEstimatorError, match=named):
        _spec(pipeline)


@pytest.fixture(scope="module")
def text_features_check() -> Path:
    return swift_product("text-features-check", "the Swift tokenizer")


def test_core_ml_on_swift_computed_counts_for_every_corpus_row(text_features_check: Path, tmp_path: Path) -> None:
    pipeline = _fit("tfidf_multiclass_logistic")
    features, _ = text_model_of(pipeline)
    assert isinstance(features.columns, Vocabulary)
    rules = tmp_path / "title.text.json"
    rules.write_text(json.dumps(text_rules(features.analyzer, features.binary, features.columns.terms),
                                ensure_ascii=False), encoding="utf-8")
    documents = text_corpus.titles() + list(PROBES) + probe_documents(pipeline[0])  # parity's text probes too
    docs = tmp_path / "documents.json"
    docs.write_text(json.dumps(documents, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([str(text_features_check), "--counts", str(rules), str(docs)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    swift_counts = [{k: v for pair in row for k, v in pair.items()} for row in json.loads(proc.stdout)]
    expected = _sklearn_counts(pipeline, documents)
    agreeing = sum(s == e for s, e in zip(swift_counts, expected, strict=True))
    assert agreeing == len(documents)
    _assert_predicts_like(pipeline, True, documents, swift_counts)
