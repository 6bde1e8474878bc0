"""scikit-learn's text vectorizers as exact data: what a writer needs to reproduce `transform` on raw strings.

`text_features_of(vectorizer)` reads a fitted CountVectorizer / TfidfVectorizer / HashingVectorizer (and
`tfidf_of` a TfidfTransformer) and returns pure data, or refuses with a one-line error naming the setting that has no
exact encoding. What is reproduced (scikit-learn's `build_analyzer()` for analyzer='word'):

  doc -> lower() (lowercase=True) -> strip_accents ('ascii' | 'unicode') -> tokens = re.findall(token_pattern)
      -> drop stop words -> word n-grams (ngram_range, joined by ' ') -> counts (binary: 1 if present)
      -> vocabulary_ lookup (CountVectorizer/TfidfVectorizer; max_df/min_df/max_features are already folded into
         vocabulary_) or murmurhash3_32 bucket and sign (HashingVectorizer)
      -> TF-IDF (sublinear_tf: 1 + log(tf); idf_ multiply; norm 'l1' | 'l2')

Token patterns: only those whose matches are exactly "maximal runs of \\w characters of at least k characters"
(the default `(?u)\\b\\w\\w+\\b` with k=2, and `\\b\\w+\\b` with k=1) are accepted, because that is what the writers
implement from Python's own `\\w` table (`unicode_tables.word_ranges`); any other pattern is refused rather than
handed to a regex engine with different Unicode semantics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)

from export import ir
from export.errors import NotFittedError, UnsupportedEstimatorError

# token_pattern string -> minimum token length, for the patterns whose findall() is "maximal \w runs of >= k chars".
# (?u) is a no-op on str patterns in Python 3; \b around a greedy \w+ run only forbids starting or ending inside a run.
TOKEN_PATTERNS: dict[str, int] = {
    r"(?u)\b\w\w+\b": 2,
    r"\b\w\w+\b": 2,
    r"(?u)\b\w+\b": 1,
    r"\b\w+\b": 1,
}

Norm = Literal["l1", "l2"]


Analyzer = ir.TextAnalyzer  # the analyzer settings, the columns rule: pure data of the IR (export.ir)
Vocabulary = ir.Vocabulary
Hashing = ir.Hashing


@dataclass(frozen=True)
class Tfidf:
    """TfidfTransformer's fitted weighting: tf -> (1 + log tf if sublinear_tf) * idf_ (if use_idf) -> norm."""

    idf: NDArray[np.float64] | None
    norm: Norm | None
    sublinear_tf: bool


@dataclass(frozen=True)
class TextFeatures:
    """One text column's vectorizer: raw str -> a dense float64 row of `n_features` columns, exactly as
    scikit-learn's transform (then densified)."""

    analyzer: Analyzer
    columns: Vocabulary | Hashing
    binary: bool
    tfidf: Tfidf | None
    source: str  # the scikit-learn class name, for messages

    @property
    def n_features(self) -> int:
        return self.columns.n_features

    @property
    def node(self) -> ir.TextVectorizer:
        """The IR node computing the counts (sublinear_tf folded in); the idf multiply and norm follow it."""
        return ir.TextVectorizer(self.analyzer, self.columns, self.binary,
                                 self.tfidf is not None and self.tfidf.sublinear_tf, self.source)


_VECTORIZERS = (CountVectorizer, TfidfVectorizer, HashingVectorizer)


def _refuse(cls: str, setting: str, value: object, allowed: str) -> UnsupportedEstimatorError:
    return UnsupportedEstimatorError(f"{cls}: {setting}={value!r} cannot be reproduced exactly; supported: {allowed}")


def _analyzer(vectorizer: CountVectorizer | HashingVectorizer) -> Analyzer:
    cls = type(vectorizer).__name__
    if vectorizer.input != "content":
        raise _refuse(cls, "input", vectorizer.input, "'content' (the documents themselves)")
    if vectorizer.analyzer != "word":
        raise _refuse(cls, "analyzer", vectorizer.analyzer, "'word'")
    for setting in ("preprocessor", "tokenizer"):
        if getattr(vectorizer, setting) is not None:
            raise _refuse(cls, setting, getattr(vectorizer, setting), "None (a Python callable cannot be exported)")
    if vectorizer.strip_accents not in (None, "ascii", "unicode"):
        raise _refuse(cls, "strip_accents", vectorizer.strip_accents, "None, 'ascii', 'unicode'")
    if vectorizer.token_pattern not in TOKEN_PATTERNS:
        raise _refuse(cls, "token_pattern", vectorizer.token_pattern, ", ".join(map(repr, TOKEN_PATTERNS)))
    low, high = vectorizer.ngram_range
    stop = vectorizer.get_stop_words()
    if stop is not None and not all(isinstance(w, str) for w in stop):
        raise _refuse(cls, "stop_words", vectorizer.stop_words, "'english' or a list of str")
    return Analyzer(lowercase=bool(vectorizer.lowercase), strip_accents=vectorizer.strip_accents,
                    min_token_chars=TOKEN_PATTERNS[vectorizer.token_pattern], ngram_range=(int(low), int(high)),
                    stop_words=tuple(sorted(stop)) if stop else ())


def tfidf_of(transformer: TfidfTransformer | TfidfVectorizer) -> Tfidf:
    cls = type(transformer).__name__
    if transformer.norm not in (None, "l1", "l2"):
        raise _refuse(cls, "norm", transformer.norm, "None, 'l1', 'l2'")
    idf = None
    if transformer.use_idf:
        if not hasattr(transformer, "idf_"):
            raise NotFittedError(f"{cls} is not fitted (no idf_): call fit before exporting")
        idf = np.asarray(transformer.idf_, dtype=np.float64).copy()
        idf.setflags(write=False)
    return Tfidf(idf=idf, norm=transformer.norm, sublinear_tf=bool(transformer.sublinear_tf))


def text_features_of(vectorizer: object) -> TextFeatures:
    """The exact description of a fitted text vectorizer, or UnsupportedEstimatorError naming the setting."""
    if not isinstance(vectorizer, _VECTORIZERS):
        raise UnsupportedEstimatorError(f"{type(vectorizer).__name__} is not a text vectorizer; supported: "
                                        f"{', '.join(c.__name__ for c in _VECTORIZERS)}")
    cls = type(vectorizer).__name__
    analyzer = _analyzer(vectorizer)
    if isinstance(vectorizer, HashingVectorizer):
        if vectorizer.norm not in (None, "l1", "l2"):
            raise _refuse(cls, "norm", vectorizer.norm, "None, 'l1', 'l2'")
        if np.dtype(vectorizer.dtype) != np.float64:
            raise _refuse(cls, "dtype", np.dtype(vectorizer.dtype).name, "float64")
        return TextFeatures(analyzer, Hashing(int(vectorizer.n_features), bool(vectorizer.alternate_sign)),
                            binary=bool(vectorizer.binary), source=cls,
                            tfidf=Tfidf(idf=None, norm=vectorizer.norm, sublinear_tf=False))
    if not hasattr(vectorizer, "vocabulary_"):
        raise NotFittedError(f"{cls} is not fitted (no vocabulary_): call fit before exporting")
    terms = [""] * len(vectorizer.vocabulary_)
    for term, index in vectorizer.vocabulary_.items():
        terms[int(index)] = term
    if any(term == "" for term in terms):
        raise UnsupportedEstimatorError(f"{cls}: vocabulary_ indices are not 0..{len(terms) - 1}")
    tfidf = None
    if isinstance(vectorizer, TfidfVectorizer):
        if np.dtype(vectorizer.dtype) != np.float64:
            raise _refuse(cls, "dtype", np.dtype(vectorizer.dtype).name, "float64 (TF-IDF computed in doubles)")
        tfidf = tfidf_of(vectorizer)
    return TextFeatures(analyzer, Vocabulary(tuple(terms)), binary=bool(vectorizer.binary), tfidf=tfidf, source=cls)


def with_tfidf(features: TextFeatures, transformer: TfidfTransformer) -> TextFeatures:
    """A CountVectorizer followed by a TfidfTransformer (in a Pipeline) is one TextFeatures."""
    if features.tfidf is not None:
        raise UnsupportedEstimatorError(f"{type(transformer).__name__} after {features.source}, which already "
                                        "weights its output: only one TF-IDF step is supported")
    tfidf = tfidf_of(transformer)
    if tfidf.sublinear_tf and isinstance(features.columns, Hashing):
        raise _refuse(type(transformer).__name__, "sublinear_tf", True, "False after a HashingVectorizer (its "
                      "signed counts have no log)")
    if tfidf.idf is not None and tfidf.idf.size != features.n_features:
        raise UnsupportedEstimatorError(f"TfidfTransformer has {tfidf.idf.size} idf_ weights for "
                                        f"{features.n_features} vectorizer columns")
    return TextFeatures(features.analyzer, features.columns, features.binary, tfidf,
                        f"{features.source}+{type(transformer).__name__}")
