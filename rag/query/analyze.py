"""What a question asks and which of its words evidence must share; shared by compose, retrieval and rewrite.

- `analyze(question, language)` -> `QuestionInfo`: the asked-for kind ("number", "date", "person",
  "place" or None), the key terms (folded, weighted), the named entities (places, people, orgs),
  and the numbers the question itself mentions; `asked_for` is its cheap part (kind and unit).
Whether a text holds the question's terms and names: `rag.query.text_view`; whether a sentence holds the asked-for
kind of thing: `rag.query.kinds`; names across scripts: `rag.lang.pinyin`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from rag.lang import places
from rag.lang.dictionary import english_senses, english_to_chinese, stem_en
from rag.lang.pinyin import EXONYMS, is_pinyin
from rag.lang.text import HAN, detect_language, fold, has_han, is_chinese, numbers_in, to_simplified, word_list
from rag.lang.words import frequencies, jieba_tags
from rag.query.place_names import (
    CAPITALISED_RUN,
    EN_NOT_NAMES,
    PLACE_SUFFIXES_ZH,
    WHOLE_COUNTRY_WORDS,
    places_zh,
)

_EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’]*")
_POSSESSIVE = re.compile(r"['’]s?$")  # "Deqing's" is about Deqing

# ---- asked-for kind ----------------------------------------------------------------------------

_KIND_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("date", re.compile(r"何时|什么时候|什么时间|哪一?年|哪一?天|哪个月|几月|几号|何年|何日|\bwhen\b|"
                        r"\bwhat (?:year|date|day|month|time)\b|\bwhich (?:year|date|day|month)\b", re.I)),
    ("person", re.compile(r"谁|哪位|何人|\bwho(?:m|se)?\b|\bwhich person\b", re.I)),
    ("place", re.compile(r"哪里|哪儿|在哪(?=[里儿？?]|$)|何地|何处|哪个(?:省|市|县|区|地方|城市)|哪些地方|\bwhere\b|"
                         r"\bwhich (?:city|province|county|district|town|place|region)\b", re.I)),
    ("number", re.compile(r"多少|几(?!乎)|多大|多高|多长|多久|比例|百分之|占比|"
                          r"\bhow (?:many|much|old|long|large|big)\b|\bnumber of\b|"
                          r"\bwhat (?:percentage|proportion|share|number|amount|fraction)\b", re.I)),
]

ZH_STOPWORDS = word_list("zh_question_stopwords")
EN_STOPWORDS = word_list("en_question_stopwords")
# Capitalised words that are neither names nor what a measure is of: the not-names list and the question's function
# words ("As technology advances, ...", "To what school ...": capitalised by their place).
_EN_NOT_NAMES_OR_STOPWORDS = EN_NOT_NAMES | EN_STOPWORDS

# Provinces by their one-character abbreviations ("闽省" is 福建), as headlines and paraphrases use them.
_PROVINCE_ABBREVIATIONS = {
    "京": "北京", "津": "天津", "沪": "上海", "渝": "重庆", "冀": "河北", "晋": "山西", "辽": "辽宁", "吉": "吉林",
    "黑": "黑龙江", "苏": "江苏", "浙": "浙江", "皖": "安徽", "闽": "福建", "赣": "江西", "鲁": "山东", "豫": "河南",
    "鄂": "湖北", "湘": "湖南", "粤": "广东", "琼": "海南", "川": "四川", "蜀": "四川", "黔": "贵州", "贵": "贵州",
    "滇": "云南", "云": "云南", "陕": "陕西", "秦": "陕西", "甘": "甘肃", "陇": "甘肃", "青": "青海", "桂": "广西",
    "蒙": "内蒙古", "藏": "西藏", "宁": "宁夏", "新": "新疆", "港": "香港", "澳": "澳门", "台": "台湾",
}
# Place names whose English form is not their Mandarin pinyin.


@dataclass
class Term:
    """A key term of the question, folded; `weight` counts how much it says about the subject."""

    text: str
    weight: float = 1.0
    is_entity: bool = False
    # The term in the other language, from the dictionary (rag/lang/dictionary.py): how it is matched across languages.
    translations: tuple[str, ...] = ()


@dataclass
class QuestionInfo:
    text: str
    language: str
    kind: str | None
    # For a number question, what the figure measures: "count", "rate", "share", "money", "time", "age"; None if unclear
    # ("涨了多少", "how much did it rise").
    unit: str | None = None
    terms: list[Term] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)  # as written in the question (not folded)
    # Of the entities, the places and the romanised names: found by patterns and China's divisions, not only by jieba's
    # tags, which also call words such as "和威尔" names; sure enough to rule out a passage that mentions none.
    places: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    # What is counted or named: the words next to the question word ("有多少[持证社工]",
    # "[平均年龄]是多少", "how many [certified social workers] does"), folded / stemmed.
    measure: list[str] = field(default_factory=list)
    # Of the Chinese measure words, those that narrow what is counted ("[高级]社会工作师", "[平均]月薪"): a passage
    # without them reports on something else.
    qualifiers: list[str] = field(default_factory=list)

    @property
    def chinese(self) -> bool:
        return is_chinese(self.language)

    @cached_property
    def folded(self) -> str:
        """The question folded (Simplified, half-width, lower-case): what a found name or date is compared with."""
        return fold(self.text)

    def translations_of(self, word: str) -> tuple[str, ...]:
        """The dictionary's renderings of the question's term `word` in the other language; () when none."""
        return next((t.translations for t in self.terms if t.text == word), ())


def asked_kind(question: str) -> str | None:
    """"number" | "date" | "person" | "place" | None for what the question asks for."""
    # The first question word decides: "How old was he when he played?" asks for a number, not a date.
    found = [(m.start(), kind) for kind, pattern in _KIND_PATTERNS if (m := pattern.search(question))]
    return min(found)[1] if found else None


# What a number question asks the figure to measure; the first pattern that matches decides.
_ASKED_UNITS: list[tuple[str, re.Pattern[str]]] = [
    # A figure per head of population ("每万人拥有多少社工", "per 10,000 people", "ratio of workers to inhabitants").
    ("rate", re.compile(r"每\s*(?:\d[\d,.]*\s*[十百千万]*|[十百千万]+)\s*(?:人|居民)|人均|"
                        r"\bper (?:capita|head|person|resident|inhabitant|\d[\d,]*|thousand|hundred)\b|"
                        r"\bto (?:inhabitants|residents|population)\b", re.I)),
    ("share", re.compile(r"比例|占比|百分之|百分比|几成|"
                         r"\b(?:what|which) (?:share|percentage|proportion|fraction|percent)\b|"
                         r"\bhow (?:large|big) (?:a )?(?:share|proportion|percentage)\b", re.I)),
    ("age", re.compile(r"几岁|多少岁|多大年纪|年龄|\bhow old\b|\bage\b", re.I)),
    ("time", re.compile(r"多久|多长时间|(?:多少|几)个?(?:小时|学时|天|周|个月|年|分钟)|\bhow long\b|"
                        r"\bhow many (?:hours|days|weeks|months|years|minutes)\b", re.I)),
    ("money", re.compile(r"多少钱|(?:多少|几)(?:万|亿)?元|资金|经费|金额|\bhow much (?:money|funding)\b|"
                         r"\bhow many (?:yuan|dollars)\b|\b(?:funds?|funding|budget|spen[dt]|cost)\b", re.I)),
    # Counted things: a question word right before a classifier or noun ("多少名", "有多少持证社工"), not at the end
    # of a question about a change ("增长了多少").
    ("count", re.compile(rf"(?:多少|几)(?=[{HAN}])|\bhow many\b|\bnumber of\b", re.I)),
]


def asked_unit(question: str) -> str | None:
    """What a number question asks the figure to measure: "rate" | "share" | "age" | "time" | "money" | "count" |
    None."""
    return next((unit for unit, pattern in _ASKED_UNITS if pattern.search(question)), None)


def asked_for(question: str, language: str) -> QuestionInfo:
    """What the question asks for (its kind, and a number's unit) and the numbers it names: all that `kind_spans`
    reads, without the term analysis of `analyze`, so that retrieval can afford it."""
    info = QuestionInfo(text=question, language=language, kind=asked_kind(question), numbers=numbers_in(question))
    info.unit = asked_unit(question) if info.kind == "number" else None
    return info


def analyze(question: str, language: str) -> QuestionInfo:
    info = asked_for(question, language)
    if has_han(question):
        _analyze_zh(question, info)
    if _EN_TOKEN.search(question):
        _analyze_en(question, info)
    for number in info.numbers:
        info.terms.append(Term(number, weight=1.5, is_entity=True))
    places = {fold(e) for e in info.entities}
    measure_zh = _measure_zh(question)
    info.measure = [w for w in dict.fromkeys([w for w, _ in measure_zh] + _measure_en(question)) if w not in places]
    info.qualifiers = [w for w, flag in measure_zh if flag in _QUALIFIER_FLAGS and w in info.measure]
    return info


_ZH_ASK = re.compile(r"多少|几|谁|是什么|为何|何时|什么时候|哪")
# Words of change ("涨了多少") say how a figure moved, not what it counts: "同比增长189%" answers "涨了多少".
_CHANGE_WORDS = word_list("zh_change_words")
_ZH_MEASURE_STOP = ZH_STOPWORDS | _CHANGE_WORDS | set("多少 几 是 谁 什么 的 有 为 达到 共有 一共 总共".split())
_EN_MEASURE = re.compile(
    r"\bhow (?:many|much)\s+((?:[a-z'’-]+\s+){0,4}?[a-z'’-]+)\s+(?:does|do|did|is|are|was|were|has|have|had|will|"
    r"would|can|could|in|at|of|for|from|per|on|to)\b|\bwhat (?:is|was|are|were) the ([a-z'’ -]+?) of\b",
    re.I,
)


# Numerals, measure words, punctuation, particles; adverbs, conjunctions, prepositions, pronouns ("分别", "和"):
# none of them names what is counted or named.
_NOT_MEASURE_FLAGS = frozenset({"m", "q", "x", "uj", "ul", "d", "c", "p", "r", "f"})  # f: 前, 后, 上, 内


# jieba's adjectives and distinguishing words (区别词): 平均, 年轻, 高级, 女.
_QUALIFIER_FLAGS = frozenset({"a", "b"})


def _measure_zh(question: str) -> list[tuple[str, str]]:
    """Up to two content words after the question word ("多少[持证][社工]"), else the one before it; folded,
    with their jieba flags."""
    if not has_han(question):
        return []
    tags = [(w, f) for w, f in jieba_tags(to_simplified(question)) if w.strip()]
    ask = next((i for i, (w, _) in enumerate(tags) if _ZH_ASK.match(w)), None)
    if ask is None:
        return []

    def content(word: str, flag: str) -> bool:
        return has_han(word) and word not in _ZH_MEASURE_STOP and flag not in _NOT_MEASURE_FLAGS

    # After the question word, up to two content words to the end of the clause; what parentheses add does
    # not count ("多少个乡镇（街道）社会工作站"), and a relative clause (verbs and 的) starts over
    # ("多少名本地成长起来的[专业社工]").
    after: list[tuple[str, str]] = []
    verbs = 0  # how many of `after` are verbs
    depth = 0
    for word, flag in tags[ask + 1 :]:
        if word in "（(":
            depth += 1
        elif word in "）)":
            depth = max(0, depth - 1)
        elif depth:
            continue
        elif flag == "x" or word in ("了", "吗", "呢"):
            break
        elif word == "的" and after and verbs == len(after):
            after, verbs = [], 0
        elif len(after) < 2 and content(word, flag):
            after.append((fold(word), flag))
            verbs += flag.startswith("v")
    if after:
        return after
    before = [(fold(w), f) for w, f in reversed(tags[:ask]) if content(w, f)]
    return before[:1]  # "持证社工的[平均年龄]是多少": the head noun is the last word


def _measure_en(question: str) -> list[str]:
    m = _EN_MEASURE.search(question)
    if not m:
        return []
    words = _EN_TOKEN.findall(m.group(1) or m.group(2))
    return [_en_term(w) for w in words if w.lower() not in _EN_NOT_NAMES_OR_STOPWORDS and len(w) >= 3]


def is_chinese_place(name: str) -> bool:
    """A place in China by its admin suffix, China's divisions or a province's name ("威宁自治县", "厦门", "德清"): its
    English form is its pinyin, which foreign places' ("瑞士": Swiss, "威尔士": Wales) is not."""
    simplified = to_simplified(name)
    return simplified.endswith(PLACE_SUFFIXES_ZH) or bool(places.division_spans(simplified)) or any(
        g in simplified for g in _PROVINCE_ABBREVIATIONS.values())


def _chinese_name(name: str) -> bool:
    return name.lower() in EXONYMS or all(is_pinyin(w) for w in name.split())


def _en_term(token: str) -> str:
    """Stemmed for matching, except names ("Weining" must not lose its "ing")."""
    return token.lower() if token[:1].isupper() else stem_en(token)


def _analyze_zh(question: str, info: QuestionInfo) -> None:
    simplified = to_simplified(question)
    seen: set[str] = {t.text for t in info.terms}
    place_spans = places_zh(question)
    place_names = [_expand_abbreviation(question[start:end]) for start, end in place_spans]
    info.entities.extend(place_names)
    info.places.extend(place_names)
    places = [fold(question[start:end]) for start, end in place_spans]
    glosses = _english_glosses(simplified, [w for w, _ in jieba_tags(simplified)])
    for word, flag in jieba_tags(simplified):
        word = word.strip()
        if len(word) < 2 or word in ZH_STOPWORDS or word in PLACE_SUFFIXES_ZH or not has_han(word):
            continue
        generic = word in WHOLE_COUNTRY_WORDS
        in_place = any(fold(word) in place for place in places)
        is_entity = not generic and (flag in ("nr", "nt", "nz") or in_place)
        if is_entity and not in_place and word not in info.entities:
            info.entities.append(word)
        folded = strip_place_suffix(fold(_expand_abbreviation(word))) if is_entity else fold(word)
        if folded not in seen:
            seen.add(folded)
            info.terms.append(Term(folded, weight=2.0 if is_entity else 1.0, is_entity=is_entity,
                                   translations=() if is_entity else glosses.get(word, ())))
    for entity in info.entities:
        folded = strip_place_suffix(fold(entity))
        if folded and folded not in seen and not any(folded in t.text for t in info.terms):
            seen.add(folded)
            info.terms.append(Term(folded, weight=2.0, is_entity=True))


def _analyze_en(question: str, info: QuestionInfo) -> None:
    names = names_en(question)
    info.entities.extend(n for n in names if n not in info.entities)
    # Only names that spell Chinese ones (or a known exonym): "Melbourne" or a capitalised first word cannot be
    # checked in Chinese text, and English text is checked by `entities` already.
    info.places.extend(n for n in names if n not in info.places and _chinese_name(n))
    name_words = {w.lower() for n in names for w in n.split()}
    seen = {t.text for t in info.terms}
    chinese = _chinese_words(question)
    for token in _EN_TOKEN.findall(question):
        token = _POSSESSIVE.sub("", token)
        word = token.lower()
        if word in EN_STOPWORDS or len(word) < 3:
            continue
        stem = _en_term(token)
        if stem in seen:
            continue
        seen.add(stem)
        is_entity = word in name_words
        info.terms.append(Term(stem, weight=2.0 if is_entity else 1.0, is_entity=is_entity,
                               translations=() if is_entity else chinese.get(word, ())))


TRANSLATIONS_PER_TERM = 6
MAX_DICTIONARY_CHARS = 6


def _english_glosses(question: str, words: list[str]) -> dict[str, tuple[str, ...]]:
    """Question word -> English glosses a sentence can be checked for: the dictionary's first senses of the
    word, of compounds that start with it or before it (社会 of 社会工作岗位 is also "social work"), and, for a
    word the dictionary lacks, of the dictionary words inside it (工作岗位: "work", "post")."""
    bounds = [0]
    for word in words:
        bounds.append(bounds[-1] + len(word))
    out: dict[str, tuple[str, ...]] = {}
    for word, start, end in zip(words, bounds, bounds[1:], strict=False):
        glosses = list(english_senses(word))
        for a in (b for b in bounds if b <= start):  # compounds starting at a word boundary and covering this word
            for b in range(end + 1, min(a + MAX_DICTIONARY_CHARS, len(question)) + 1):
                glosses.extend(english_senses(question[a:b]))
        if not glosses:
            inner = [(a, b) for a in range(start, end) for b in range(a + 2, end + 1) if (a, b) != (start, end)
                     and english_senses(question[a:b])]
            for a, b in inner:
                if not any(x <= a and b <= y and (x, y) != (a, b) for x, y in inner):  # the longest ones only
                    glosses.extend(english_senses(question[a:b]))
        out[word] = tuple(dict.fromkeys(g for g in glosses if len(g) >= 3 and g not in EN_STOPWORDS))
    return out


def _chinese_words(question: str) -> dict[str, tuple[str, ...]]:
    """Lower-case question word -> Chinese words of the dictionary phrase it belongs to ("social workers" ->
    社工, 社会工作者 for both "social" and "workers"), the most common ones (by jieba's word frequencies): the
    dictionary lists "assistant" as 二手 and 佴 as well as 助理."""
    frequency = frequencies()
    out: dict[str, tuple[str, ...]] = {}
    for gloss, words in english_to_chinese(question, EN_STOPWORDS):
        common = sorted(words, key=lambda w: -frequency.get(w, 0))[:TRANSLATIONS_PER_TERM]
        folded = tuple(dict.fromkeys(fold(w) for w in common))
        for word in _EN_TOKEN.findall(question):
            if word.lower() in gloss.split() or any(word.lower().startswith(g) for g in gloss.split()):
                out.setdefault(word.lower(), folded)
    return out


def names_en(text: str) -> list[str]:
    """Capitalised word runs that look like names ("Xiamen", "Li Chu", "Fujian Province" -> "Fujian")."""
    names: list[str] = []
    for m in CAPITALISED_RUN.finditer(text):
        words = [w for w in re.split(r"[ -]", _POSSESSIVE.sub("", m.group()))
                 if w.lower() not in _EN_NOT_NAMES_OR_STOPWORDS]
        name = " ".join(words)
        if name and name not in names:
            names.append(name)
    return names


def _expand_abbreviation(place: str) -> str:
    """"闽省" / "皖省" -> "福建" / "安徽"; other names unchanged."""
    simplified = to_simplified(place)
    if len(simplified) == 2 and simplified[1] == "省" and simplified[0] in _PROVINCE_ABBREVIATIONS:
        return _PROVINCE_ABBREVIATIONS[simplified[0]]
    return place


def strip_place_suffix(name: str) -> str:
    for suffix in PLACE_SUFFIXES_ZH:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_question(question: str, max_chars: int) -> str:
    """Strip control characters and surrounding space; refuse an empty question; cap its length."""
    if not isinstance(question, str):
        raise TypeError("question must be a string")
    question = _CONTROL.sub(" ", question).strip()
    if not question:
        raise ValueError("The question is empty: ask something, e.g. 厦门有多少持证社工？")
    return question[:max_chars]


@dataclass(frozen=True)
class Query:
    """A question as the stages read it, made once per ask: its cleaned text, its language, what it asks for."""

    text: str
    language: str

    @classmethod
    def of(cls, question: str, max_chars: int) -> Query:
        """`question` cleaned (`clean_question`: a ValueError when empty) and its language detected."""
        text = clean_question(question, max_chars)
        return cls(text, detect_language(text))

    @cached_property
    def asked(self) -> QuestionInfo:
        """What it asks for (`asked_for`), found on first use."""
        return asked_for(self.text, self.language)
