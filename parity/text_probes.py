"""Probe documents for text models: what a text classifier meets on a phone and the corpus may lack — the empty
string, whitespace, only stop words, unseen words, Unicode edge cases (case mappings with context, accents as
combining marks, compatibility characters, scripts without case, emoji sequences) and a very long document."""

from __future__ import annotations

from collections.abc import Sequence

UNICODE_EDGE_CASES: tuple[str, ...] = (
    "ÉCOLE école Ecole", "cafe\u0301 café", "İstanbul İZMİR", "ΟΔΟΣ ΑΣ'Β ΑΣ\u0301", "straße STRASSE ẞ",
    "ﬁle ﬂow", "x² 10³ ½", "snake_case __init__", "don't can’t O'Neil", "emoji 😀😀 👍🏽 🇬🇧 #tag",
    "日本語のテキスト 中文", "한국어 텍스트", "Ǆemal ǅ ǆ", "Kelvin K K Å Å", "١٢٣ ٤٥ ۱۲", "tab\tnew\nline\r\n",
    "\u00a0nbsp\u2003em", "zero\u200bwidth\u200djoiner", "ＦＵＬＬＷＩＤＴＨ ｆｕｌｌ", "𝐁𝐨𝐥𝐝 𝟏𝟐",
)


def text_probes(stop_words: Sequence[str] = (), known_words: Sequence[str] = ()) -> list[str]:
    """The probe documents (deterministic). `stop_words`: the model's, so one probe has nothing else;
    `known_words`: a few vocabulary terms to mix with unseen ones and to repeat into a long document."""
    stop = " ".join(list(stop_words)[:12]) or "the of and"
    known = list(known_words)[:20] or ["alpha", "beta"]
    long_document = " ".join(known[i % len(known)] + (" 😀 Straße ΟΔΟΣ" if i % 7 == 0 else "") for i in range(4000))
    return ["", " ", "\n\t", stop, stop.upper(), "zzqx qqqvb unseenwordxy", " ".join(known) + " zzqx unseen",
            *UNICODE_EDGE_CASES, long_document]
