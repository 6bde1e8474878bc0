"""The character-level facts behind scikit-learn's word analyzer, read from the running Python itself.

scikit-learn preprocesses with `str.lower()` and `strip_accents_{ascii,unicode}` and tokenizes with Python's `re`
(`\\w` in Unicode mode). Writers outside Python (ONNX Runtime's RE2, Swift) have their own Unicode tables and their
own case mapping, which differ from CPython's in places (RE2's `\\w` is ASCII only; towlower and Swift's lowercased()
do not apply CPython's final-sigma rule). So we never rely on theirs: every table here is computed by asking CPython
about every code point, and the writers ship these tables. They are exact for the Unicode database of the Python the
model was exported with (`unicodedata.unidata_version`, recorded next to them).

Why per-character maps are exact:
- `str.lower()` maps each code point independently (full case mapping, e.g. U+0130 -> 'i' + U+0307) except CAPITAL
  SIGMA, which CPython lowers to final 'ς' when the previous non-case-ignorable character is cased and the next one
  is not (Objects/unicodeobject.c handle_capital_sigma). `sigma_classes` gives the three classes that rule reads.
- `strip_accents_unicode` drops combining characters from NFKD; NFKD is the concatenation of per-character
  decompositions followed by canonical reordering, which only permutes combining characters — all dropped. So the
  result is the concatenation of the per-character results. `strip_accents_ascii` (NFKD, then drop non-ASCII) the same.
These equalities are checked against scikit-learn's own functions on whole strings in tests/test_text_analyzer.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sklearn.feature_extraction.text import strip_accents_ascii, strip_accents_unicode

MAX_CODE_POINT = 0x10FFFF
CAPITAL_SIGMA = 0x3A3
UNICODE_VERSION = unicodedata.unidata_version

# Code-point classes for the final-sigma rule.
SIGMA_SKIPPED = 1  # case-ignorable: skipped when looking for the neighbouring character
SIGMA_CASED = 2  # cased and not case-ignorable


def _all_characters() -> list[str]:
    return [chr(cp) for cp in range(MAX_CODE_POINT + 1) if not 0xD800 <= cp <= 0xDFFF]


def ranges(code_points: list[int]) -> list[tuple[int, int]]:
    """Sorted code points as inclusive (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for cp in code_points:
        if runs and runs[-1][1] == cp - 1:
            runs[-1] = (runs[-1][0], cp)
        else:
            runs.append((cp, cp))
    return runs


@lru_cache(maxsize=1)
def word_ranges() -> tuple[tuple[int, int], ...]:
    """Code points Python's `re` matches with `\\w` in a str pattern (Unicode mode): scikit-learn's token chars."""
    word = re.compile(r"\w")
    return tuple(ranges([ord(c) for c in _all_characters() if word.match(c)]))


@lru_cache(maxsize=1)
def lowercase_map() -> dict[int, str]:
    """code point -> `str.lower()` of it, where that differs (CAPITAL SIGMA -> 'σ'; its final form is contextual)."""
    return {ord(c): c.lower() for c in _all_characters() if c.lower() != c}


@lru_cache(maxsize=1)
def sigma_classes() -> dict[int, int]:
    """code point -> SIGMA_SKIPPED or SIGMA_CASED (absent: neither), probed through `str.lower()` itself.

    'XΣ'.lower() ends in 'ς' iff X is cased and not case-ignorable; 'AXΣ' iff X is case-ignorable or cased (the
    backward scan skips X, reaching the cased 'A', or stops at X)."""
    classes: dict[int, int] = {}
    for c in _all_characters():
        if c == "Σ":
            classes[ord(c)] = SIGMA_CASED
            continue
        if (c + "Σ").lower()[-1] == "ς":
            classes[ord(c)] = SIGMA_CASED
        elif ("A" + c + "Σ").lower()[-1] == "ς":
            classes[ord(c)] = SIGMA_SKIPPED
    return classes


@lru_cache(maxsize=2)
def accent_map(mode: str) -> dict[int, str]:
    """code point -> scikit-learn's strip_accents_<mode> of it, where that differs from the default: the character
    itself for mode 'unicode', and for mode 'ascii' the character itself if ASCII, else '' (dropped)."""
    strip = strip_accents_ascii if mode == "ascii" else strip_accents_unicode
    result: dict[int, str] = {}
    for c in _all_characters():
        # Only characters NFKD changes, or combining ones, can be changed by either function (both start from NFKD).
        if unicodedata.is_normalized("NFKD", c) and not unicodedata.combining(c):
            if mode == "ascii" and not c.isascii():
                assert strip(c) == ""
            continue
        stripped = strip(c)
        default = c if mode == "unicode" or c.isascii() else ""
        if stripped != default:
            result[ord(c)] = stripped
    return result


@dataclass(frozen=True)
class PreprocessRules:
    """scikit-learn's preprocessing (lower first, then strip accents) as a per-code-point map: `mapped[cp]` where
    present, else '' for a non-ASCII code point when `drop_other_non_ascii` (strip_accents='ascii'), else the code
    point itself. CAPITAL SIGMA, when lowercasing, maps to 'σ' here; writers apply the final-sigma rule on top
    (`final_sigma`): CAPITAL SIGMA then becomes `sigma_final` or `sigma_medial` (ς / σ after accent stripping, so ''
    for 'ascii', where the rule then changes nothing)."""

    mapped: dict[int, str]
    drop_other_non_ascii: bool
    final_sigma: bool
    sigma_final: str = "ς"
    sigma_medial: str = "σ"

    def apply(self, cp: int) -> str:
        if cp in self.mapped:
            return self.mapped[cp]
        return "" if self.drop_other_non_ascii and cp > 0x7F else chr(cp)


def preprocess_rules(lowercase: bool, strip_accents: str | None) -> PreprocessRules:
    lower = lowercase_map() if lowercase else {}
    strip = accent_map(strip_accents) if strip_accents else {}
    ascii_only = strip_accents == "ascii"

    def strip_one(ch: str) -> str:
        if ord(ch) in strip:
            return strip[ord(ch)]
        return "" if ascii_only and not ch.isascii() else ch

    mapped: dict[int, str] = {}
    for cp in sorted(set(lower) | set(strip)):
        text = "".join(strip_one(ch) for ch in lower.get(cp, chr(cp)))
        default = "" if ascii_only and cp > 0x7F else chr(cp)
        if text != default:
            mapped[cp] = text
    final, medial = strip_one("ς"), strip_one("σ")
    return PreprocessRules(mapped, ascii_only, lowercase and final != medial, final, medial)
