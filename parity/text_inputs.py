"""Text columns in the parity flow: which inputs of the Python model are documents, what Core ML is fed for them,
and the documents they are probed with.

scikit-learn's CountVectorizer / TfidfVectorizer / HashingVectorizer read a column of documents: the Python model
is fitted on bare documents (a list / Series: `takes_documents`) or reads one DataFrame column through a
ColumnTransformer part given the column's name. ONNX artifacts take the raw strings; a Core ML artifact takes the
document's term counts (a Dictionary input, the keys its DictVectorizer knows), which the app computes with ios_stub's
TextFeatures. Parity feeds Core ML the counts of scikit-learn's own analyzer (`vectorizer.build_analyzer()`), the
truth TextFeatures is proven against (swift test, tests/test_text_swift.py) — so a Core ML check here checks the
model, and the Swift check the tokenizer.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

VECTORIZER_NAMES = ("CountVectorizer", "TfidfVectorizer", "HashingVectorizer")


def _steps(estimator: Any) -> list[Any]:
    steps = [s for _, s in estimator.steps] if hasattr(estimator, "steps") else [estimator]
    return [s for s in steps if s is not None and not (isinstance(s, str) and s == "passthrough")]


def _is_vectorizer(estimator: Any) -> bool:
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer

    return isinstance(estimator, (CountVectorizer, HashingVectorizer))  # TfidfVectorizer is a CountVectorizer


def _leading_vectorizer(estimator: Any) -> Any:
    steps = _steps(estimator)
    return steps[0] if steps and _is_vectorizer(steps[0]) else None


def takes_documents(estimator: Any) -> bool:
    """Whether the Python model is fitted on bare documents (its input is one column of strings, not a frame)."""
    return _leading_vectorizer(estimator) is not None


def text_vectorizers(estimator: Any, names: Sequence[str]) -> dict[str, Any]:
    """{column name: the fitted vectorizer reading it} (`names`: the model's columns, for a documents model its
    one column)."""
    first = _leading_vectorizer(estimator)
    if first is not None:
        return {names[0]: first} if names else {}
    steps = _steps(estimator)
    found: dict[str, Any] = {}
    if steps and hasattr(steps[0], "transformers_"):
        for _, transformer, columns in steps[0].transformers_:
            vectorizer = _leading_vectorizer(transformer) if not isinstance(transformer, str) else None
            if vectorizer is not None and isinstance(columns, str):
                found[columns] = vectorizer
    return found


def term_counts(vectorizer: Any, documents: Sequence[str], terms: Sequence[str]) -> list[dict[str, float]]:
    """Per document, scikit-learn's analyzer output counted (1.0 per term when `binary`), keeping the `terms` a
    Core ML DictVectorizer knows (it rejects other keys; scikit-learn ignores them)."""
    analyze = vectorizer.build_analyzer()
    known = set(terms)
    rows = [{t: float(c) for t, c in collections.Counter(analyze(d)).items() if t in known} for d in documents]
    return [dict.fromkeys(row, 1.0) for row in rows] if vectorizer.binary else rows


def probe_documents(vectorizer: Any) -> list[str]:
    """The text probes for one vectorizer: its stop words, a spread of its vocabulary mixed with unseen words, and
    the fixed edge cases (parity.text_probes)."""
    from parity.text_probes import text_probes

    stop = vectorizer.get_stop_words() or ()
    vocabulary = getattr(vectorizer, "vocabulary_", None)
    known: list[str] = []
    if vocabulary:
        terms = sorted(vocabulary, key=vocabulary.__getitem__)
        known = terms[:: max(1, len(terms) // 20)]
    return text_probes(sorted(stop), known)
