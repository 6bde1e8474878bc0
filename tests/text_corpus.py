"""Shared text test data: the Tate titles corpus (tests/data/tate_titles.csv), hand-written edge cases, the
vectorizer settings the tokenizer fixtures cover, and the Swift fixture builder (scikit-learn's own
`build_analyzer()` is the truth written into it)."""

from __future__ import annotations

import collections
import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from export.text.analyzer import text_features_of
from export.text.rules import text_rules

DATA = Path(__file__).resolve().parent / "data" / "tate_titles.csv"
SWIFT_FIXTURE = (Path(__file__).resolve().parents[1] / "ios_stub" / "Tests" / "ModelParityTests" / "Fixtures"
                 / "text_features.json")
FIXTURE_TITLES = 600  # the committed Swift fixture's slice of the corpus (the Python test runs all rows)

_LONG = " ".join(["Étude №5 for the Café-Concert, ΟΔΟΣ ΣΟΦΊΑΣ and naïve don't 😀 x²"] * 400)

EDGE_CASES: tuple[str, ...] = (
    "", " ", "a", "I", "the and of", "Hello, World! hello HELLO", "ÉCOLE école Ecole",
    "cafe\u0301 café caf\u00e9s", "naïve façade résumé", "İstanbul İZMİR i\u0307",
    "ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ'Β ΑΣ\u0301 ΑΣ\u0301Β",
    "ΌΣΟΣ aΣ Σa ΣΣ Σ1 1Σ Α_Σ", "straße STRASSE ẞ", "ﬁle ﬂow ﬃ", "x² 10³ ½ ⅓ 2⁵", "snake_case __init__ _a __",
    "don't can’t O'Neil rock'n'roll ‘quoted’ “double”", "emoji 😀😀 👍🏽 ❤️ 🇬🇧 tags #hash @at",
    "日本語のテキスト 中文字符 ｶﾀｶﾅ", "한국어 텍스트 한", "Ǆemal ǅ ǆ Ǳ ǲ", "Kelvin K K Ångström Å Å Ω Ω",
    "١٢٣ arabic-indic ٤٥ digits ۱۲", "tab\tnew\nline\r\nvertical\x0bform\x0cend", "\u00a0nbsp\u2003em\u3000ideo",
    "zero\u200bwidth\u200djoiner\u00adsoft", "ⅣⅫ roman ⅳ ⅻ", "①②③ circled ⓐⓑ Ⓐ", "ＦＵＬＬＷＩＤＴＨ ｆｕｌｌ１２",
    "ŉ ǰ ΐ ﬀ", "Ꭰ cherokee ꭰ ᏸ", "𝐁𝐨𝐥𝐝 math 𝟏𝟐 𝔄𝔅", "ⅰⅱ\u0345ι", "ǅungla Ǳungla", "Ⅰ.Ⅱ-Ⅲ",
    "ça va? Ça! ÇA", "ﬅ ﬆ ŀl Ŀ", "1,000.50 3.14 2024-01-01 v2 x86_64", "a_b a-b a.b a/b a\\b",
    "DÜSSELDORF Düsseldorf düsseldorf", "Москва МОСКВА москва Ёлка ёлка", "עברית العربية ไทย हिन्दी",
    "\u0301\u0308 leading marks", "mixedCASE camelCase HTTPServer", "🏳️‍🌈 family 👨‍👩‍👧 zwj",
    "ǈ ǋ ᾈ ᾼ ῌ", "ÅÄÖ åäö ØÆ øæ Œœ Ŧŧ Đđ Łł", "℃ ℉ № ™ ℡ ㎏ ㍱", _LONG,
)

# Settings covered by the fixtures: every analyzer option the tokenizer implements, in combinations.
VECTORIZERS: dict[str, Any] = {
    "default": lambda: CountVectorizer(),
    "tfidf_unicode_bigrams_english": lambda: TfidfVectorizer(strip_accents="unicode", ngram_range=(1, 2),
                                                             stop_words="english"),
    "ascii_single_char_binary": lambda: CountVectorizer(strip_accents="ascii", token_pattern=r"\b\w+\b",
                                                        binary=True),
    "cased_bigrams_trigrams": lambda: CountVectorizer(lowercase=False, ngram_range=(2, 3)),
    "ascii_trigrams_custom_stop": lambda: CountVectorizer(strip_accents="ascii", ngram_range=(1, 3),
                                                          stop_words=["the", "of", "and", "a", "in"]),
    "cased_unicode": lambda: CountVectorizer(lowercase=False, strip_accents="unicode", token_pattern=r"(?u)\b\w+\b"),
}


@lru_cache(maxsize=1)
def corpus() -> pd.DataFrame:
    return pd.read_csv(DATA, comment=None, skiprows=1)


def titles() -> list[str]:
    return [str(t) for t in corpus()["title"]]


@cache
def fitted(name: str) -> Any:
    return VECTORIZERS[name]().fit(titles())


def expected_counts(vectorizer: Any, documents: list[str]) -> list[dict[str, int]]:
    """scikit-learn's own analyzer output per document, counted (1 per term when binary)."""
    analyze = vectorizer.build_analyzer()
    counts = [dict(collections.Counter(analyze(doc))) for doc in documents]
    if vectorizer.binary:
        counts = [dict.fromkeys(c, 1) for c in counts]
    return counts


def swift_fixture(n_titles: int | None) -> dict[str, Any]:
    documents = titles()[:n_titles] + list(EDGE_CASES)
    configs = []
    tables: dict[str, Any] = {}
    for name in VECTORIZERS:
        vectorizer = fitted(name)
        features = text_features_of(vectorizer)
        expected = expected_counts(vectorizer, documents)
        rules = text_rules(features.analyzer, features.binary)
        # The character tables are the same for every config: stored once ("tables"), merged back by the reader.
        for key in ("word_ranges", "lowercase_map", "sigma_skipped", "sigma_cased", "accent_map"):
            if key in rules:
                table = f"accent_map_{features.analyzer.strip_accents}" if key == "accent_map" else key
                tables[table] = rules.pop(key)
                rules[key] = table
        configs.append({
            "name": name,
            "sklearn": repr(vectorizer),
            "rules": rules,
            "terms": [sorted(c) for c in expected],
            "counts": [[c[t] for t in sorted(c)] for c in expected],
        })
    return {
        "format": "mlexport-text-fixture", "format_version": 1,
        "source": f"tests/data/tate_titles.csv titles (first {n_titles or 'all'}) + tests/text_corpus.py EDGE_CASES; "
                  "expected = collections.Counter(vectorizer.build_analyzer()(doc)) from scikit-learn",
        # Code points of the edge cases let the Swift test check that JSON decoding kept every scalar.
        "documents": [{"text": doc,
                       "code_points": [ord(c) for c in doc] if doc in EDGE_CASES and doc != _LONG else None}
                      for doc in documents],
        "tables": tables,
        "configs": configs,
    }


def write_swift_fixture() -> None:
    SWIFT_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(swift_fixture(FIXTURE_TITLES), ensure_ascii=False, separators=(",", ":"))
    SWIFT_FIXTURE.write_text(text + "\n", encoding="utf-8")


@lru_cache(maxsize=1)
def training_set() -> tuple[list[str], Any]:
    """Titles of the five most common medium kinds (the medium's first word: Etching, Screenprint, ...) and kinds."""
    kind = corpus()["medium"].str.split(" ").str[0].str.rstrip(",")
    keep = kind.isin(kind.value_counts().index[:5]).to_numpy()
    return [t for t, k in zip(titles(), keep, strict=True) if k], kind[keep].to_numpy()
