"""The Swift tokenizer's rules file (`NAME.text.json`, "mlexport-text-rules" 1): the analyzer settings of one text
vectorizer and the CPython character tables they need (ios_stub's `TextFeatures` reads it). The vocabulary is not in
it: it lives in the .mlmodel's DictVectorizer."""

from __future__ import annotations

import platform
from typing import Any

from export.text import unicode_tables
from export.text.analyzer import Analyzer

RULES_FORMAT = "mlexport-text-rules"
RULES_FORMAT_VERSION = 1


def _code_point_map(mapping: dict[int, str]) -> dict[str, list[int]]:
    return {str(cp): [ord(ch) for ch in text] for cp, text in sorted(mapping.items())}


def _runs(code_points: list[int]) -> list[list[int]]:
    return [list(run) for run in unicode_tables.ranges(sorted(code_points))]


def text_rules(analyzer: Analyzer, binary: bool, vocabulary: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The JSON-ready rules for `analyzer` (counts made 0/1 when `binary`). `vocabulary`: the terms a Core ML
    model's DictVectorizer knows; Core ML requires every dictionary key to be one of them, so TextFeatures.counts
    keeps only those (scikit-learn ignores the others)."""
    rules: dict[str, Any] = {
        "format": RULES_FORMAT,
        "format_version": RULES_FORMAT_VERSION,
        "unicode_version": unicode_tables.UNICODE_VERSION,
        "python_version": platform.python_version(),
        "lowercase": analyzer.lowercase,
        "strip_accents": analyzer.strip_accents,
        "min_token_chars": analyzer.min_token_chars,
        "ngram_range": list(analyzer.ngram_range),
        "stop_words": list(analyzer.stop_words),
        "binary": binary,
        "word_ranges": [list(run) for run in unicode_tables.word_ranges()],
    }
    if analyzer.lowercase:
        classes = unicode_tables.sigma_classes()
        rules["lowercase_map"] = _code_point_map(unicode_tables.lowercase_map())
        rules["sigma_skipped"] = _runs([cp for cp, k in classes.items() if k == unicode_tables.SIGMA_SKIPPED])
        rules["sigma_cased"] = _runs([cp for cp, k in classes.items() if k == unicode_tables.SIGMA_CASED])
    if analyzer.strip_accents:
        accents = dict(unicode_tables.accent_map(analyzer.strip_accents))
        # Hangul syllables (11172 of the 'unicode' map's entries) decompose by the Unicode algorithm (ch. 3.12); the
        # rules say so instead of listing them, after checking CPython's table is exactly that algorithm.
        hangul = {cp: text for cp, text in accents.items() if HANGUL_FIRST <= cp <= HANGUL_LAST}
        if hangul:
            assert hangul == {cp: hangul_decomposition(cp) for cp in range(HANGUL_FIRST, HANGUL_LAST + 1)}
            accents = {cp: text for cp, text in accents.items() if cp not in hangul}
        rules["accent_hangul_syllables"] = bool(hangul)
        rules["accent_map"] = _code_point_map(accents)
    if vocabulary is not None:
        rules["vocabulary"] = list(vocabulary)
    return rules


HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3


def hangul_decomposition(cp: int) -> str:
    """The Unicode Standard's algorithmic decomposition of a precomposed Hangul syllable into conjoining jamo."""
    index = cp - HANGUL_FIRST
    lead, vowel, trail = 0x1100 + index // 588, 0x1161 + (index % 588) // 28, 0x11A7 + index % 28
    return chr(lead) + chr(vowel) + (chr(trail) if trail != 0x11A7 else "")
