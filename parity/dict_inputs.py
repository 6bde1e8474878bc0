"""Dictionary columns in the parity flow: a model fitted on a list of dicts (scikit-learn's DictVectorizer alone or
first in a Pipeline) and what each artifact is fed for the same dicts.

The Python model receives the dicts themselves (a list: `InputSchema.takes_documents`). An app feeds, by the export
contract (README "DictVectorizer inputs"), the row as numbers per key, where a string value v of key k is the key
f"{k}{separator}{v}" with value 1 (a list/tuple of strings: one such key each), as scikit-learn's `transform` does:

* Core ML: that [String: Double] Dictionary, keeping only the keys its DictVectorizer knows (DictVectorizer.proto:
  every key must be in stringToIndex; scikit-learn ignores unknown keys, the app leaves them out);
* ONNX: the same pairs as two [N, K] tensors, `NAME_keys` (string, "" padding) and `NAME_values` (double, 0
  padding), unknown keys included (the graph ignores them: that is checked here too).

X holds such a column as codes into its vocabulary of dicts (parity/columns.py), like a text column's documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Number
from typing import Any

import numpy as np

from parity.errors import ParityInputError

KEYS_SUFFIX = "_keys"  # the ONNX inputs of a dictionary column NAME: NAME_keys, NAME_values
VALUES_SUFFIX = "_values"
UNSEEN_KEY = "mlexport-unseen-key"


def _steps(estimator: Any) -> list[Any]:
    steps = [s for _, s in estimator.steps] if hasattr(estimator, "steps") else [estimator]
    return [s for s in steps if s is not None and not (isinstance(s, str) and s == "passthrough")]


def dict_vectorizer(estimator: Any) -> Any:
    """The fitted DictVectorizer the Python model reads its dicts with (alone or first in a Pipeline), else None."""
    from sklearn.feature_extraction import DictVectorizer

    steps = _steps(estimator)
    return steps[0] if steps and isinstance(steps[0], DictVectorizer) else None


def feature_pairs(vectorizer: Any, row: Mapping[str, Any]) -> dict[str, float]:
    """One dict as the export contract feeds it: {feature name: number}, scikit-learn's `transform` rules (a string
    value v of key k is f"{k}{separator}{v}": 1; an iterable of strings one such key each; a number itself)."""
    if not isinstance(row, Mapping):
        raise ParityInputError(f"inputs: a DictVectorizer model takes dicts, got {type(row).__name__}")
    pairs: dict[str, float] = {}

    def add(key: str, value: float) -> None:
        pairs[key] = pairs.get(key, 0.0) + value  # a "k=v" key met twice sums, as the densified output does

    for key, value in row.items():
        if isinstance(value, str):
            add(f"{key}{vectorizer.separator}{value}", 1.0)
        elif isinstance(value, Number):
            add(str(key), float(value))  # type: ignore[arg-type]
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            for item in value:
                add(f"{key}{vectorizer.separator}{item}", 1.0)
        else:
            raise ParityInputError(f"inputs: key {key!r} holds {type(value).__name__}; supported values: numbers, "
                                   "strings, lists of strings")
    return pairs


def coreml_dictionaries(vectorizer: Any, rows: Sequence[Mapping[str, Any]],
                        terms: Sequence[str]) -> list[dict[str, float]]:
    """Per dict, what an app feeds the Core ML Dictionary input: its pairs whose key is a known term."""
    known = set(terms)
    return [{k: v for k, v in feature_pairs(vectorizer, row).items() if k in known} for row in rows]


def onnx_tensors(vectorizer: Any, rows: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(keys [N, K] str, values [N, K] float64): every pair of each dict (unknown keys too), padded with "" / 0."""
    pairs = [feature_pairs(vectorizer, row) for row in rows]
    width = max([len(p) for p in pairs] + [1])
    keys = np.full((len(rows), width), "", dtype=object)
    values = np.zeros((len(rows), width), dtype=np.float64)
    for i, row in enumerate(pairs):
        keys[i, : len(row)] = list(row)
        values[i, : len(row)] = list(row.values())
    return keys, values


def probe_dicts(vectorizer: Any) -> list[dict[str, Any]]:
    """The dictionary probes: the empty dict, only unseen keys, each known feature alone (string features as their
    key and value), every feature at once, known and unseen mixed, an unseen string value of a known key, extremes
    (±1e308, -0.0, the smallest subnormal)."""
    separator = vectorizer.separator
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)

    def entry(term: str, number: float) -> tuple[str, Any]:
        key, found, value = term.partition(separator)
        return (key, value) if found and key and key not in vectorizer.vocabulary_ else (term, number)

    numeric = [t for t in terms if entry(t, 1.0)[0] == t]
    single = [dict([entry(t, 2.5)]) for t in terms[:: max(1, len(terms) // 20)]]
    everything: dict[str, Any] = {}
    for t in terms:
        key, value = entry(t, 1.5)
        everything.setdefault(key, value)
    string_keys = sorted({entry(t, 0.0)[0] for t in terms} - set(numeric))
    probes: list[dict[str, Any]] = [{}, {UNSEEN_KEY: 3.0}, *single, everything,
                                    {**everything, UNSEEN_KEY: -7.0}]
    probes += [{k: "mlexport-unseen-value"} for k in string_keys[:5]]
    for number in (1e308, -1e308, -0.0, 5e-324):  # NaN left out: scikit-learn models refuse NaN features
        probes += [{t: number} for t in numeric[:3]]
    return probes
