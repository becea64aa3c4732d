"""How well a sentence, its passage and its article fit the question: the extractive composer's evidence tests.

In: the question's analysis (`QuestionInfo`) and `TextView`s of a sentence, its passage, its article. Out: the
weighted share of the question's key terms a text holds (`coverage`; which terms count, and how across languages:
`CountedTerms`), how much of the question's measure a sentence holds (`focus`), whether the question's names are
there (`entity_factor`), and why a passage or sentence cannot answer (`passage_mismatch`, `sentence_mismatch`: a
year, a figure, a unit or a place other than the one asked for), "" when nothing rules it out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.lang.places import elsewhere, parts_named, regions_named
from rag.query.analyze import QuestionInfo, is_chinese_place
from rag.query.text_view import TextView, entity_in

KIND_MISSING_FACTOR = 0.4  # a sentence without the asked-for kind of thing keeps this share of its score
ENTITY_MISSING_PENALTY = 0.6
ENTITY_WEIGHT = 2.0


@dataclass(frozen=True)
class CountedTerms:
    """The question's key terms a coverage counts, by index into `info.terms`: without named entities when
    `entities` is False. Across languages: numbers; terms the dictionary translates, matched by their
    translations; and Latin terms (names the dictionary does not know) only where they match."""

    weights: dict[int, float]
    conditional: frozenset[int]  # counted only where found
    translated: frozenset[int]  # matched by their translations
    fixed_total: float  # the weight of the terms counted whether found or not

    @classmethod
    def of(cls, info: QuestionInfo, cross: bool, entities: bool) -> CountedTerms:
        """Made where used: a pass over the question's dozen terms costs less than keeping its result on the question
        (a cache there would be untyped: the question's module sits beneath the composer's)."""
        weights: dict[int, float] = {}
        conditional: set[int] = set()
        translated: set[int] = set()
        for n, term in enumerate(info.terms):
            digit = term.text[:1].isdigit()
            if term.is_entity and not entities and not digit:
                continue
            if cross and not digit:
                if term.translations:
                    translated.add(n)
                elif term.text[:1].isascii() and term.text[:1].isalpha():
                    conditional.add(n)
                else:
                    continue
            weights[n] = term.weight
        fixed_total = sum(w for n, w in weights.items() if n not in conditional)
        return cls(weights, frozenset(conditional), frozenset(translated), fixed_total)

    def found_in(self, info: QuestionInfo, hay: TextView, among: set[int] | None = None) -> set[int]:
        """The counted terms in `hay`, looked up among `among` only when given (those found in a text `hay` is
        part of)."""
        return {n for n in (self.weights if among is None else among & self.weights.keys())
                if (any(hay.has(t) for t in info.terms[n].translations) if n in self.translated
                    else hay.has(info.terms[n].text))}

    def totals(self, found: set[int]) -> tuple[float, float]:
        """(matched, total) weight when the terms `found` (from `found_in`) are present."""
        matched = sum(self.weights[n] for n in found)
        return matched, self.fixed_total + sum(self.weights[n] for n in found if n in self.conditional)


def coverage(info: QuestionInfo, hay: TextView, cross: bool, entities: bool = True,
              among: set[int] | None = None) -> float | None:
    """Weighted share of the question's key terms in `hay` (without its named entities when
    `entities` is False: a sentence need not repeat the place its passage is about). Across
    languages only numbers, entities (through pinyin) and Latin tokens can match, and Latin tokens
    count only when they do. None: nothing to compare. `among`: see `CountedTerms.found_in`."""
    counted = CountedTerms.of(info, cross, entities)
    matched, total = counted.totals(counted.found_in(info, hay, among))
    if cross and entities:
        for entity in info.entities:
            found = entity_in(entity, hay)
            if found is not None:
                total += ENTITY_WEIGHT
                matched += ENTITY_WEIGHT if found else 0.0
    return matched / total if total else None


def focus(info: QuestionInfo, sentence: TextView) -> float:
    """Share of the question's measure words in the sentence; without any, 1.0 if the sentence has
    one of the question's key terms other than names (or there are none), else 0.0."""
    if info.measure:
        return sum(sentence.has(m) for m in info.measure) / len(info.measure)
    topic = [t for t in info.terms if not t.is_entity and not t.text[:1].isdigit()]
    return 1.0 if not topic or any(sentence.has(t.text) for t in topic) else 0.0


def focus_across(info: QuestionInfo, sentence: TextView) -> float:
    """`focus` across languages: the share of the measure words the dictionary translates whose translation is in
    the sentence; 1.0 when it translates none of them."""
    known = [ts for m in info.measure if (ts := info.translations_of(m))]
    if not known:
        return 1.0
    return sum(any(sentence.has(t) for t in ts) for ts in known) / len(known)


def entity_factor(info: QuestionInfo, hay: TextView) -> float:
    """1.0 when the passage mentions the question's places, organisations and people; less by
    the share it misses."""
    checks = [entity_in(e, hay) for e in info.entities]
    known = [c for c in checks if c is not None]
    return 1.0 - ENTITY_MISSING_PENALTY * known.count(False) / len(known) if known else 1.0


# Kinds whose absence is certain when no span is found: any figure, any date. Names and places are
# found by patterns that can miss, so a sentence without one is only scored down (KIND_MISSING_FACTOR).
_CERTAIN_KINDS = ("number", "date")
_UNIT_NAMES = {"count": "count", "rate": "figure per head of population", "share": "share or percentage",
               "money": "sum of money", "time": "duration", "age": "age"}


def passage_mismatch(info: QuestionInfo, passage: TextView, article: TextView, cross: bool) -> str:
    """Why no sentence of this passage can answer: its article (title, date and the paragraphs retrieved)
    lacks a figure the question names ("5A"; across languages codes only), or a year while it names others ("in
    2020" of an article on 2023); the passage mentions none of the question's places and names (for a Chinese
    question over English text, places in China only); or, asked how many, it never names what is counted
    ("平均月薪"), or lacks a word that narrows it ("[高级]社会工作师"). Across languages only a Chinese question's
    words are compared, by their dictionary senses: an English word has more Chinese renderings than the
    dictionary lists ("money": 款物, 资金). "" when it may."""
    # Across languages figures may be spelled out ("Super Bowl XXXIII", "fifteenth"): only years and codes ("5A")
    # are compared.
    missing = [n for n in info.numbers if not article.has(n)
               and (article.years if _is_year(n) else not cross or _is_code(n, info.text))]
    if missing:
        return f"the article does not mention {', '.join(missing)}"
    # Across languages a Chinese question's places in China are spelled in pinyin; foreign places have English
    # forms the dictionary may not list ("瑞士": Swiss), so they are not checked.
    places = [e for e in info.places if is_chinese_place(e)] if info.chinese and cross else info.places
    checks = [entity_in(e, passage) for e in places]
    if any(c is False for c in checks) and not any(checks):
        return f"the passage does not mention {', '.join(places)}"
    if info.kind == "number" and info.measure and (info.chinese or not cross):
        forms = [(m,) if not cross else info.translations_of(m) for m in info.measure]
        if all(forms) and not any(passage.has(f) for fs in forms for f in fs):
            return f"the passage does not mention {', '.join(info.measure)}"
        missing = [q for q in info.qualifiers if not cross and not passage.has(q)]
        if missing:
            return f"the passage does not mention {', '.join(missing)}"
    return ""


def _is_year(number: str) -> bool:
    return len(number) == 4 and number[:2] in ("19", "20")


def _is_code(number: str, question: str) -> bool:
    return re.search(rf"(?<![\d.]){number}[A-Za-z]", question) is not None


def sentence_mismatch(info: QuestionInfo, sentence: TextView, kind_ok: bool, title: TextView) -> str:
    """Why this sentence cannot answer: no figure or date where one is asked for; a count for a place inside the one
    asked about (厦门 for 福建: `rag.lang.places`) that does not name it, or one that names no place in an article
    whose headline names another province or city (甘肃庄浪 for 上海); a count for a whole place of another level than
    the one asked about ("全市" for "河南省"), that it does not name; or, asked who holds a post
    ("主任委员是谁"), it does not name that post, or names only its deputy ("副主任委员"). "" when it may."""
    if not kind_ok and info.kind in _CERTAIN_KINDS:
        return f"the sentence holds no {_UNIT_NAMES.get(info.unit or '', info.kind)}"
    # A count for another place: a part of the one asked about, or the place of an article on elsewhere. Any place
    # the question names will do ("福建省和安徽省的...分别有多少").
    if info.kind == "number" and info.places and not any(w in sentence.nospace for w in _WHOLE.values()) \
            and not any(entity_in(p, sentence) is not False for p in info.places):
        for place in info.places:
            if parts := parts_named(place, sentence.text):
                return f"the sentence counts for {parts[0]}, a part of {place}"
        regions = regions_named(title.text)
        if regions and all(elsewhere(p, r) for p in info.places for r in regions):
            return f"the sentence counts for {regions[0].short} (its article's place), not for {info.places[0]}"
    if info.kind == "number" and sentence.mostly_han:
        for place in info.entities:
            level = place[-1:]
            if level not in _WHOLE or entity_in(place, sentence):
                continue
            other = [w for lv, w in _WHOLE.items() if lv != level and w in sentence.nospace]
            if other and _WHOLE[level] not in sentence.nospace:
                return f"the sentence counts for {other[0]}, not for {place}"
    if info.kind == "person":
        asked = info.folded
        for post in (w for w in info.measure if w.endswith(_POST_ENDINGS)):
            if sentence.mostly_han:
                names, deputies, text = [post], ["副" + post], sentence.nospace
            else:  # across languages: "主任委员" is a "director", not a "deputy director"
                names, text = list(info.translations_of(post)), sentence.folded.lower()
                deputies = [f"{d}{n}" for n in names for d in ("deputy ", "vice ", "vice-", "副")]
                if not names:
                    continue
            for deputy in deputies:
                if deputy not in asked:
                    text = text.replace(deputy, "")
            if not any(re.search(rf"(?<![a-z]){re.escape(n)}", text) for n in names):
                return f"the sentence does not name the {post}"
    return ""


# A count "for the whole province / city / county" ("全市60个社工站") answers for a place of that level only.
_WHOLE = {"省": "全省", "市": "全市", "县": "全县", "区": "全区"}

# How the names of posts end: 局长, 院长, 主任, 主任委员, 书记, 主席, 总干事, 记者.
_POST_ENDINGS = ("长", "主任", "委员", "书记", "主席", "干事", "记者")
