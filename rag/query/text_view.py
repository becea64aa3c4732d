"""What a passage or sentence says, as the composer asks it: `TextView(text)` and `entity_in(entity, view)`.

- `TextView(text)`: a folded view of a text that answers `has(term)` for Chinese terms (whitespace-insensitive, so
  PDF-broken "持证社 工" still matches "持证社工"), English terms (word prefix, so "worker" matches "workers") and
  numbers (`11,265` == `11265`); `text_view(text)` shares one per text.
- `entity_in(entity, view)`: an entity matches across scripts through pinyin ("Xiamen" is found in "厦门市...",
  "威宁自治县" in "Weining County"), then through the dictionary ("Peru" in "秘鲁").
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.lang import places
from rag.lang.dictionary import english_senses, lexicon, stem_en
from rag.lang.pinyin import han_pattern, latin_pattern
from rag.lang.text import HAN_CHARACTER, WHITE_SPACE, fold, has_han, numbers_in, to_simplified
from rag.query.analyze import strip_place_suffix

_EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’]*")
YEAR = re.compile(r"(?<![\d.,])(?:19|20)\d{2}(?![\d,.])(?!\s*(?:万|亿|人|名|个|家|户|项|元|%|％))")

# "per 10,000 residents" is "每万人" in Chinese text: the round number is written as its unit.
_SPELLED_UNITS = {"10000": "万", "100000000": "亿"}


class TextView:
    """A folded view of `text` for term matching."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = fold(text)
        self.nospace = WHITE_SPACE.sub("", self.folded)
        self.han_chars = len(HAN_CHARACTER.findall(self.nospace))
        self._numbers: set[str] | None = None
        self._words: set[str] | None = None
        self._found: dict[str, bool] = {}
        self.entities_found: dict[str, bool | None] = {}  # entity_in's answers

    @property
    def mostly_han(self) -> bool:
        return self.han_chars * 2 > len(self.nospace)

    @property
    def numbers(self) -> set[str]:
        if self._numbers is None:
            self._numbers = set(numbers_in(self.text))
        return self._numbers

    @property
    def years(self) -> bool:
        """Whether the text names any year ("2023年", "in 2019")."""
        return bool(YEAR.search(self.text))

    def has(self, term: str) -> bool:
        """`term` is folded: Han text, a number, or an English stem. Answers are remembered: shared views
        are asked about the same terms and their translations question after question."""
        known = self._found.get(term)
        if known is None:
            known = self._found[term] = self._has(term)
        return known

    def _has(self, term: str) -> bool:
        if not term:
            return False
        if has_han(term):
            return term in self.nospace
        if term[0].isdigit():
            digits = term.replace(",", "")
            spelled = _SPELLED_UNITS.get(digits)
            return digits in self.numbers or (spelled is not None and spelled in self.nospace)
        return self.has_word(term)

    def has_word(self, word: str) -> bool:
        if self._words is None:
            self._words = {w.lower().replace("’", "'") for w in _EN_TOKEN.findall(self.folded)}
        stem = stem_en(word) if " " not in word else word.lower()
        if " " in stem:
            return stem in self.folded
        return any(w.startswith(stem) for w in self._words)


@lru_cache(maxsize=32768)
def text_view(text: str) -> TextView:
    """`TextView(text)`, shared: the same passages and sentences come back question after question."""
    return TextView(text)


def entity_in(entity: str, view: TextView) -> bool | None:
    """Whether `entity` (as written in the question) occurs in `view`; None if it cannot be told. Remembered
    by the view, like `TextView.has`."""
    if entity not in view.entities_found:
        view.entities_found[entity] = _entity_in(entity, view)
    return view.entities_found[entity]


def _entity_in(entity: str, view: TextView) -> bool | None:
    if has_han(entity):
        if view.has(fold(entity)) or view.has(strip_place_suffix(fold(entity))):
            return True
        if not view.mostly_han:  # an English passage: compare through pinyin, then the dictionary
            pattern = latin_pattern(strip_place_suffix(to_simplified(entity)))
            return _either(bool(pattern.search(view.folded)) if pattern else None,
                           _any_in(_entity_translations(entity, to_chinese=False), view))
        return False
    if view.has_word(entity):
        return True
    if view.mostly_han:  # a Chinese passage: compare through pinyin ("Xiamen"), then the dictionary ("Peru")
        divisions = places.lookup(entity)
        if divisions:  # a place in China is written with its own characters: "Shanghai" is 上海, never 伤害 (harm)
            return any(view.has(n) for d in divisions for n in (d.name, d.short) if len(n) >= places.MIN_NAME_CHARS)
        pattern = han_pattern(entity)
        return _either(bool(pattern.search(view.nospace)) if pattern else None,
                       _any_in(_entity_translations(entity, to_chinese=True), view))
    return False


def _either(a: bool | None, b: bool | None) -> bool | None:
    """True if either check found the entity, False if one could tell and neither found it, None if neither could."""
    return True if a or b else (None if a is None and b is None else False)


def _any_in(terms: tuple[str, ...], view: TextView) -> bool | None:
    return any(view.has(t) for t in terms) if terms else None


_GLOSS_QUALIFIER = re.compile(r"[,;(]")


@lru_cache(maxsize=2048)
def _entity_translations(entity: str, to_chinese: bool) -> tuple[str, ...]:
    """The dictionary's translations of a whole name: "Peru" -> 秘鲁, 香港 -> "hong kong"."""
    if to_chinese:
        return tuple(fold(w) for w in lexicon().english_to_chinese.get(entity.lower(), ()))
    # A gloss may say where or what the name is after a comma ("los angeles, california"): the name is before it.
    names = (_GLOSS_QUALIFIER.split(g, maxsplit=1)[0].strip() for g in english_senses(to_simplified(entity)))
    return tuple(dict.fromkeys(n for n in names if len(n) >= 3))
