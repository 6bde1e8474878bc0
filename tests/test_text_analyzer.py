"""export.text.analyzer reads a fitted vectorizer exactly or refuses naming the setting; the CPython character tables
of export.text.unicode_tables, applied per code point (plus the final-sigma rule), reproduce scikit-learn's own
preprocessing and tokenization on random Unicode strings (the argument in unicode_tables' docstring, checked)."""

from __future__ import annotations

import collections
import contextlib
import functools
import random

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from text_corpus import titles

from export.errors import NotFittedError, UnsupportedEstimatorError
from export.text import unicode_tables
from export.text.analyzer import Hashing, Vocabulary, text_features_of, with_tfidf


@functools.lru_cache(maxsize=1)
def _word_set() -> frozenset[int]:
    return frozenset(cp for a, b in unicode_tables.word_ranges() for cp in range(a, b + 1))


@functools.lru_cache(maxsize=8)
def _rules(lowercase: bool, strip: str | None) -> unicode_tables.PreprocessRules:
    return unicode_tables.preprocess_rules(lowercase, strip)


def _tokens_from_tables(text: str, lowercase: bool, strip: str | None, k: int) -> list[str]:
    """The per-code-point algorithm the Swift and ONNX writers implement, in Python, from the tables."""
    rules = _rules(lowercase, strip)
    classes = unicode_tables.sigma_classes()
    out: list[str] = []
    for i, ch in enumerate(text):
        if rules.final_sigma and ch == "Σ":
            j = i - 1
            while j >= 0 and classes.get(ord(text[j])) == unicode_tables.SIGMA_SKIPPED:
                j -= 1
            final = j >= 0 and classes.get(ord(text[j])) == unicode_tables.SIGMA_CASED
            if final:
                j = i + 1
                while j < len(text) and classes.get(ord(text[j])) == unicode_tables.SIGMA_SKIPPED:
                    j += 1
                final = j == len(text) or classes.get(ord(text[j])) != unicode_tables.SIGMA_CASED
            out.append(rules.sigma_final if final else rules.sigma_medial)
        else:
            out.append(rules.apply(ord(ch)))
    word = _word_set()
    tokens, run = [], ""
    for ch in "".join(out) + " ":
        if ord(ch) in word:
            run += ch
        else:
            if len(run) >= k:
                tokens.append(run)
            run = ""
    return tokens


_POOL = ("aAzZ09_ '’-.,!ΣσςΑΒΟΔάΆ\u0301\u0308\u0345İıiIéÉßẞﬁﬂ²½ⅣⓐＦ한글가\u1100\u1161ÅÅΩΩ😀👍🏽\u200d\u00ad\u200b"
         "ǅǄǆᾈᾼ\u0307\t\n\u00a0Ǳ日本ｶ١۱ŉΐ")


@pytest.mark.parametrize(("lowercase", "strip", "pattern", "k"), [
    (True, None, r"(?u)\b\w\w+\b", 2), (True, "unicode", r"(?u)\b\w\w+\b", 2), (True, "ascii", r"\b\w+\b", 1),
    (False, "unicode", r"\b\w+\b", 1), (False, None, r"(?u)\b\w\w+\b", 2), (False, "ascii", r"(?u)\b\w\w+\b", 2),
])
def test_tables_reproduce_scikit_learns_analyzer_on_random_text(lowercase: bool, strip: str | None, pattern: str,
                                                                 k: int) -> None:
    rng = random.Random(15)
    analyze = CountVectorizer(lowercase=lowercase, strip_accents=strip, token_pattern=pattern).build_analyzer()
    docs = ["".join(rng.choice(_POOL) for _ in range(rng.randint(0, 24))) for _ in range(600)]
    docs += ["".join(chr(rng.randint(0x80, 0x2FFFF)) for _ in range(12)) for _ in range(300)]  # any code point
    docs = [d for d in docs if not any(0xD800 <= ord(c) <= 0xDFFF for c in d)]
    mismatched = [d for d in docs if _tokens_from_tables(d, lowercase, strip, k) != analyze(d)]
    assert mismatched == []


def test_a_fitted_tfidf_vectorizer_is_read_exactly() -> None:
    vectorizer = TfidfVectorizer(strip_accents="unicode", ngram_range=(1, 2), stop_words="english", min_df=2,
                                 sublinear_tf=True, norm="l1").fit(titles())
    features = text_features_of(vectorizer)
    assert isinstance(features.columns, Vocabulary)
    assert {t: i for i, t in enumerate(features.columns.terms)} == vectorizer.vocabulary_
    assert features.analyzer.ngram_range == (1, 2) and features.analyzer.strip_accents == "unicode"
    assert set(features.analyzer.stop_words) == set(vectorizer.get_stop_words())
    assert features.tfidf is not None and features.tfidf.norm == "l1" and features.tfidf.sublinear_tf
    np.testing.assert_array_equal(features.tfidf.idf, vectorizer.idf_)


def test_count_vectorizer_then_tfidf_transformer_and_hashing() -> None:
    counts = CountVectorizer(binary=True).fit(titles())
    transformer = TfidfTransformer(smooth_idf=False).fit(counts.transform(titles()))
    features = with_tfidf(text_features_of(counts), transformer)
    assert features.binary and features.tfidf is not None and features.tfidf.norm == "l2"
    np.testing.assert_array_equal(features.tfidf.idf, transformer.idf_)
    hashing = text_features_of(HashingVectorizer(n_features=2**10, alternate_sign=False, norm=None))
    assert hashing.columns == Hashing(1024, False) and hashing.n_features == 1024


@pytest.mark.parametrize(("vectorizer", "named"), [
    (CountVectorizer(analyzer="char"), "analyzer='char'"),
    (CountVectorizer(analyzer="char_wb"), "analyzer='char_wb'"),
    (CountVectorizer(analyzer=str.split), "analyzer=<method 'split'"),
    (CountVectorizer(preprocessor=str.strip), "preprocessor=<method 'strip'"),
    (CountVectorizer(tokenizer=str.split, token_pattern=None), "tokenizer=<method 'split'"),
    (CountVectorizer(token_pattern=r"[a-z]+"), "token_pattern='[a-z]+'"),
    (CountVectorizer(token_pattern=r"(?u)\b\w\w+\b(?=x)"), "token_pattern="),
    (CountVectorizer(strip_accents=str.lower), "strip_accents=<method 'lower'"),
    (CountVectorizer(input="filename"), "input='filename'"),
    (TfidfVectorizer(dtype=np.float32), "dtype='float32'"),
    (HashingVectorizer(norm="max"), "norm='max'"),
])
def test_unreproducible_settings_are_refused_naming_them(vectorizer: object, named: str) -> None:
    if not isinstance(vectorizer, HashingVectorizer):
        with contextlib.suppress(TypeError, ValueError, FileNotFoundError):
            vectorizer.fit(["alpha beta", "beta gamma"])  # type: ignore[attr-defined]
    with pytest.raises(UnsupportedEstimatorError) as info:
        text_features_of(vectorizer)
    message = str(info.value)
    assert named in message and "supported:" in message and "\n" not in message


def test_unfitted_and_non_vectorizers_are_refused() -> None:
    with pytest.raises(NotFittedError, match="vocabulary_"):
        text_features_of(CountVectorizer())
    with pytest.raises(UnsupportedEstimatorError, match="supported: CountVectorizer, TfidfVectorizer"):
        text_features_of(TfidfTransformer())


def test_stop_words_and_vocabulary_round_trip_on_the_corpus() -> None:
    vectorizer = CountVectorizer(stop_words=["the", "of"]).fit(titles())
    features = text_features_of(vectorizer)
    assert features.analyzer.stop_words == ("of", "the")
    counts = collections.Counter(t for doc in titles() for t in vectorizer.build_analyzer()(doc))
    assert set(counts) == set(features.columns.terms)  # type: ignore[union-attr]
