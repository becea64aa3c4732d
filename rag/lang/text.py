"""Small text helpers shared by several stages: language detection, script folding, sentences.

- `detect_language(text)` -> "en" | "zh-hans" | "zh-hant" | "other"
- `fold(text)` -> text for *matching only*: NFKC (full-width to half-width), Traditional to
  Simplified (OpenCC), lower case. Displayed text is never folded.
- `split_sentences(text)` -> [(start, end)] spans of sentences, for Chinese and English ends.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

import opencc

# The one definition of a Han character (CJK unified ideographs, extension A, compatibility ideographs), as the body
# of a regex class for patterns that need it ("[{HAN}]{2,8}").
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_CHARACTER = re.compile(f"[{HAN}]")
_ALL_HAN = re.compile(f"[{HAN}]+")
WHITE_SPACE = re.compile(r"\s+")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_KANA = re.compile(r"[\u3040-\u30ff]")
_OTHER_SCRIPT = re.compile(r"[\u0400-\u04ff\u0590-\u06ff\u0e00-\u0e7f\uac00-\ud7af]")


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A paragraph: lines up to a blank line.
_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*")


def has_han(text: str) -> bool:
    """Whether `text` holds a Han character."""
    return HAN_CHARACTER.search(text) is not None


def all_han(text: str) -> bool:
    """Whether `text` is Han characters only (and not empty)."""
    return _ALL_HAN.fullmatch(text) is not None


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph of `text` (lines up to a blank line), in order."""
    return [m.span() for m in _PARAGRAPH.finditer(text)]


def has_words(text: str) -> bool:
    """Whether `text` holds a letter, a digit or a Han character (not only punctuation, emoji or invisible marks)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def valid_unicode(text: str) -> str:
    """`text` with lone surrogates (which JSON's \\ud800 escapes can produce, and no file can hold) replaced by
    U+FFFD, so that whatever holds it can be written as UTF-8."""
    return _LONE_SURROGATE.sub("\ufffd", text)


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def to_traditional(text: str) -> str:
    return _s2t().convert(text)


def in_chinese_script(text: str, lang: str) -> str:
    """`text` in the script of `lang` ("zh-hant": Traditional, "zh-hans": Simplified); unchanged for any other."""
    if lang == "zh-hant":
        return to_traditional(text)
    return to_simplified(text) if lang == "zh-hans" else text


def fold(text: str) -> str:
    """Normalise text for matching: NFKC, Traditional -> Simplified, lower case."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower()


def detect_language(text: str) -> str:
    """Guess the language/script of `text`: "en", "zh-hans", "zh-hant" or "other".

    Chinese wins when Han characters are a real share of the letters; the script is Traditional
    when converting to Simplified changes a noticeable share of the Han characters.
    """
    han = HAN_CHARACTER.findall(text)
    latin_words = _LATIN_WORD.findall(text)
    if _KANA.search(text) and len(_KANA.findall(text)) * 4 >= len(han):
        return "other"
    if len(han) >= max(2, len(latin_words)) or (han and not latin_words):
        sample = "".join(han[:4000])
        changed = sum(a != b for a, b in zip(sample, to_simplified(sample), strict=False))
        if not changed:  # no Traditional character: no need to load the other converter to tell
            return "zh-hans"
        simplified_back = sum(a != b for a, b in zip(sample, to_traditional(sample), strict=False))
        # Traditional text changes under t2s; Simplified text changes under s2t.
        return "zh-hant" if changed > simplified_back else "zh-hans"
    if latin_words:
        return "en"
    if _OTHER_SCRIPT.search(text):
        return "other"
    return "en"


def is_chinese(lang: str) -> bool:
    return lang.startswith("zh")


# A sentence ends at Chinese 。！？；… (plus closing quotes/brackets) or at . ! ? ; followed by space,
# but not inside numbers like 3.8, after titles (Mr., Dr.), or after a figure unless a capital follows.
_SENTENCE_END = re.compile(
    r"(?:[。！？；!?;]|\.{3}|…+)[”’\"'）)」』】]*"
    r"|(?<=[A-Za-z\)\]\"”’'])(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bNo)\.[”’\"')]*(?=\s)"
    r"|(?<=\d)\.[”’\"')]*(?=\s+[A-Z])"  # "... in 1227. Under ...": a year or figure ends the sentence
    r"|\n+"
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split `text` into sentence spans (start, end), trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        _append_trimmed(text, start, m.end(), spans)
        start = m.end()
    _append_trimmed(text, start, len(text), spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


# The two number patterns. A figure as prose writes it: digits, thousands grouped by commas, a decimal part
# ("11,265", "3.8"). A digit run: digits joined by any commas and dots ("1,2,3", "2023.05.01"), what matching
# keeps as one token.
FIGURE = r"\d+(?:,\d{3})*(?:\.\d+)?"
DIGIT_RUN = r"\d+(?:[.,]\d+)*"
_NUMBER = re.compile(DIGIT_RUN)


def numbers_in(text: str) -> list[str]:
    """Digit sequences in `text`, with thousands separators removed (`11,265` -> `11265`)."""
    return [m.group().replace(",", "") for m in _NUMBER.finditer(unicodedata.normalize("NFKC", text))]


_HAN_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_HAN_UNITS = (("亿", 100_000_000), ("万", 10_000), ("千", 1_000), ("百", 100), ("十", 10))


def han_numeral_value(numeral: str) -> int | None:
    """The value of a number written in Chinese numerals (三千五百万, 一万零五, 十二, colloquial 一万二 = 12,000), or
    None when the characters are no numeral (万一, 一二, 十十)."""
    return _han_value(numeral, _HAN_UNITS)


def _han_value(numeral: str, units: tuple[tuple[str, int], ...]) -> int | None:
    for i, (unit_char, unit) in enumerate(units):
        if unit_char not in numeral:
            continue
        head, _, tail = numeral.rpartition(unit_char)
        # What multiplies the unit: anything smaller than it (a bare 十 is one ten); a unit of 万 and up may carry a
        # smaller unit of its own (一千万, 一万亿).
        if not head:
            multiplier = 1 if unit_char == "十" else None
        else:
            multiplier = _han_value(head, units if unit >= 10_000 else ())
        if not multiplier:
            return None
        if not tail:
            rest = 0
        elif tail[0] in "零〇":  # 一千零五: the zero marks a gap, what follows counts as written
            rest = _han_value(tail[1:], units[i + 1:])
        elif len(tail) == 1 and unit > 10:  # 一万二, 三百五: a lone digit after the unit counts in the next unit down
            digit = _HAN_DIGITS.get(tail)
            rest = digit * unit // 10 if digit else None
        else:
            rest = _han_value(tail, units[i + 1:])
        return None if rest is None or rest >= unit else multiplier * unit + rest
    return _HAN_DIGITS.get(numeral) if len(numeral) == 1 else None


@cache
def word_list(name: str) -> frozenset[str]:
    """The words of `rag/data/words/NAME.txt`: white space between words, lines starting with # are comments."""
    text = (resources.files("rag.data") / "words" / f"{name}.txt").read_text(encoding="utf-8")
    return frozenset(word for line in text.splitlines() if not line.lstrip().startswith("#") for word in line.split())


MIN_SENTENCE_CHARS = 6  # a quotable sentence has this many characters besides white space


@lru_cache(maxsize=8192)
def candidate_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of the sentences of `text` long enough to quote: what the composer scores, and what the build embeds
    ahead (`embed_sentences`) for the composer and for sentence-level retrieval. Shared: passages come back."""
    return tuple((a, b) for a, b in split_sentences(text) if len(WHITE_SPACE.sub("", text[a:b])) >= MIN_SENTENCE_CHARS)
