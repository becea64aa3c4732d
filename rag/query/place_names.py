"""Places named in a text: `places_zh(text)` and `places_en(text)`, spans of place names, for the question's analysis,
the follow-up rewriter, the kinds of thing a sentence holds and the citation check.

Chinese: jieba's place tags, words ending in a place suffix, China's divisions (rag.lang.places). English: capitalised
runs that read as pinyin, or name a place whose English name is not its pinyin.
"""

from __future__ import annotations

import re

from rag.lang import places
from rag.lang.pinyin import EXONYMS, is_pinyin
from rag.lang.text import has_han, to_simplified, word_list
from rag.lang.words import jieba_tags

PLACE_SUFFIXES_ZH = ("自治县", "自治州", "自治区", "特别行政区", "街道", "省", "市", "县", "区", "镇", "乡", "村")
WHOLE_COUNTRY_WORDS = word_list("zh_whole_country_words")  # 全国, 全省: no place of their own
EN_NOT_NAMES = word_list("en_capitalised_not_names")
_PLACE_SUFFIX_EN = re.compile(r"\s+(?:Province|City|County|District|Town|Township|Village|Prefecture|Region)\b")
CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z'’]+(?:[ -][A-Z][a-z'’]+)*")


def places_zh(text: str) -> list[tuple[int, int]]:
    """Spans of Chinese place names in `text` (jieba `ns` tags, place suffixes, China's divisions, a few towns)."""
    simplified = to_simplified(text)
    if len(simplified) != len(text):  # spans below index `text`; OpenCC kept lengths in practice
        simplified = text
    spans: list[tuple[int, int]] = []
    pos = 0
    for word, flag in jieba_tags(simplified):
        start, end = pos, pos + len(word)
        pos = end
        if len(word) < 2 or not has_han(word):
            continue
        if flag == "ns" or (flag.startswith("n") and word.endswith(PLACE_SUFFIXES_ZH) and len(word) >= 3):
            spans.append((start, end))
    found = places.division_spans(simplified)
    for start, end in found:
        if not any(s <= start < e or s < end <= e for s, e in spans):
            spans.append((start, end))
    return [(s, e) for s, e in _merge_adjacent(sorted(spans), simplified) if simplified[s:e] not in WHOLE_COUNTRY_WORDS]


def _merge_adjacent(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Absorb a directly following place suffix ("威宁" + "自治县") and merge overlapping spans."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        for suffix in PLACE_SUFFIXES_ZH:
            if text.startswith(suffix, end):
                end += len(suffix)
                break
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def places_en(text: str) -> list[tuple[int, int]]:
    """Spans of place-like names in English text: capitalised runs that read as pinyin or exonyms."""
    spans: list[tuple[int, int]] = []
    for m in CAPITALISED_RUN.finditer(text):
        run = m.group()
        lowered = run.lower()
        if any(lowered.startswith(x) for x in EXONYMS):
            spans.append((m.start(), m.end()))
            continue
        words = run.split(" ")
        offset = m.start()
        for word in words:
            if word.lower() not in EN_NOT_NAMES and is_pinyin(word):
                start = offset
                end = offset + len(word)
                suffix = _PLACE_SUFFIX_EN.match(text, end)
                spans.append((start, suffix.end() if suffix else end))
            offset += len(word) + 1
    return spans
