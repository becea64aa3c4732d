"""What a question asks and which of its words evidence must share; shared by compose and rewrite.

- `analyze(question, language)` -> `QuestionInfo`: the asked-for kind ("number", "date", "person",
  "place" or None), the key terms (folded, weighted), the named entities (places, people, orgs),
  and the numbers the question itself mentions.
- `Haystack(text)`: a folded view of a passage or sentence that answers `has(term)` for Chinese
  terms (whitespace-insensitive, so PDF-broken "持证社 工" still matches "持证社工"), English terms
  (word prefix, so "worker" matches "workers") and numbers (`11,265` == `11265`).
- `entity_in(entity, haystack)`: an entity matches across scripts through pinyin: "Xiamen" is found
  in "厦门市..." and "威宁自治县" in "Weining County".
- `places_zh(text)` / `places_en(text)`: spans of place names, for the follow-up rewriter.
- `kind_spans(kind, text, question)`: where a sentence holds the asked-for kind of thing; for a number, of the
  unit asked for (`asked_unit`: a count, share, sum of money, duration or age; `figure_unit` of each figure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from rag import places
from rag.bilingual import english_senses, english_to_chinese, lexicon, stem_en
from rag.lexical import pinyin_readings, reading_table
from rag.text import FIGURE, HAN, HAN_CHARACTER, fold, has_han, is_chinese, numbers_in, to_simplified, word_list
from rag.words import frequencies, tagger

_HAN_RUN = re.compile(f"[{HAN}]+")
_SPACE = re.compile(r"\s+")
_EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’]*")
_CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z'’]+(?:[ -][A-Z][a-z'’]+)*")
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
_EN_GENERIC = word_list("en_capitalised_not_names")
_ZH_GENERIC = word_list("zh_whole_country_words")
_PLACE_SUFFIX_ZH = ("自治县", "自治州", "自治区", "特别行政区", "街道", "省", "市", "县", "区", "镇", "乡", "村")
_PLACE_SUFFIX_EN = re.compile(r"\s+(?:Province|City|County|District|Town|Township|Village|Prefecture|Region)\b")

# Provinces by their one-character abbreviations ("闽省" is 福建), as headlines and paraphrases use them.
_PROVINCE_ABBREVIATIONS = {
    "京": "北京", "津": "天津", "沪": "上海", "渝": "重庆", "冀": "河北", "晋": "山西", "辽": "辽宁", "吉": "吉林",
    "黑": "黑龙江", "苏": "江苏", "浙": "浙江", "皖": "安徽", "闽": "福建", "赣": "江西", "鲁": "山东", "豫": "河南",
    "鄂": "湖北", "湘": "湖南", "粤": "广东", "琼": "海南", "川": "四川", "蜀": "四川", "黔": "贵州", "贵": "贵州",
    "滇": "云南", "云": "云南", "陕": "陕西", "秦": "陕西", "甘": "甘肃", "陇": "甘肃", "青": "青海", "桂": "广西",
    "蒙": "内蒙古", "藏": "西藏", "宁": "宁夏", "新": "新疆", "港": "香港", "澳": "澳门", "台": "台湾",
}
# Place names whose English form is not their Mandarin pinyin.
_EN_EXONYMS = {"hong kong": "香港", "macau": "澳门", "macao": "澳门", "tibet": "西藏", "inner mongolia": "内蒙古"}


@dataclass
class Term:
    """A key term of the question, folded; `weight` counts how much it says about the subject."""

    text: str
    weight: float = 1.0
    is_entity: bool = False
    # The term in the other language, from the dictionary (rag/bilingual.py): how it is matched across languages.
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
    # What users of the question derive from it once rather than per sentence (the composer's counted terms).
    derived: dict[object, object] = field(default_factory=dict, repr=False, compare=False)

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
    tags = [(w, f) for w, f in _tag(to_simplified(question)) if w.strip()]
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
    return [_en_term(w) for w in words if w.lower() not in EN_STOPWORDS | _EN_GENERIC and len(w) >= 3]


def is_chinese_place(name: str) -> bool:
    """A place in China by its admin suffix, China's divisions or a province's name ("威宁自治县", "厦门", "德清"): its
    English form is its pinyin, which foreign places' ("瑞士": Swiss, "威尔士": Wales) is not."""
    simplified = to_simplified(name)
    return simplified.endswith(_PLACE_SUFFIX_ZH) or bool(places.division_spans(simplified)) or any(
        g in simplified for g in _PROVINCE_ABBREVIATIONS.values())


def _chinese_name(name: str) -> bool:
    return name.lower() in _EN_EXONYMS or all(is_pinyin(w) for w in name.split())


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
    glosses = _english_glosses(simplified, [w for w, _ in _tag(simplified)])
    for word, flag in _tag(simplified):
        word = word.strip()
        if len(word) < 2 or word in ZH_STOPWORDS or word in _PLACE_SUFFIX_ZH or not has_han(word):
            continue
        generic = word in _ZH_GENERIC
        in_place = any(fold(word) in place for place in places)
        is_entity = not generic and (flag in ("nr", "nt", "nz") or in_place)
        if is_entity and not in_place and word not in info.entities:
            info.entities.append(word)
        folded = _strip_place_suffix(fold(_expand_abbreviation(word))) if is_entity else fold(word)
        if folded not in seen:
            seen.add(folded)
            info.terms.append(Term(folded, weight=2.0 if is_entity else 1.0, is_entity=is_entity,
                                   translations=() if is_entity else glosses.get(word, ())))
    for entity in info.entities:
        folded = _strip_place_suffix(fold(entity))
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
    for m in _CAPITALISED_RUN.finditer(text):
        words = [w for w in re.split(r"[ -]", _POSSESSIVE.sub("", m.group())) if w.lower() not in _EN_GENERIC]
        name = " ".join(words)
        if name and name not in names:
            names.append(name)
    return names


@lru_cache(maxsize=4096)
def _tag(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((p.word, p.flag) for p in tagger().cut(text))


def _expand_abbreviation(place: str) -> str:
    """"闽省" / "皖省" -> "福建" / "安徽"; other names unchanged."""
    simplified = to_simplified(place)
    if len(simplified) == 2 and simplified[1] == "省" and simplified[0] in _PROVINCE_ABBREVIATIONS:
        return _PROVINCE_ABBREVIATIONS[simplified[0]]
    return place


def _strip_place_suffix(name: str) -> str:
    for suffix in _PLACE_SUFFIX_ZH:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


# ---- places -------------------------------------------------------------------------------------


def places_zh(text: str) -> list[tuple[int, int]]:
    """Spans of Chinese place names in `text` (jieba `ns` tags, place suffixes, China's divisions, a few towns)."""
    simplified = to_simplified(text)
    if len(simplified) != len(text):  # spans below index `text`; OpenCC kept lengths in practice
        simplified = text
    spans: list[tuple[int, int]] = []
    pos = 0
    for word, flag in _tag(simplified):
        start, end = pos, pos + len(word)
        pos = end
        if len(word) < 2 or not has_han(word):
            continue
        if flag == "ns" or (flag.startswith("n") and word.endswith(_PLACE_SUFFIX_ZH) and len(word) >= 3):
            spans.append((start, end))
    found = places.division_spans(simplified)
    for start, end in found:
        if not any(s <= start < e or s < end <= e for s, e in spans):
            spans.append((start, end))
    return [(s, e) for s, e in _merge_adjacent(sorted(spans), simplified) if simplified[s:e] not in _ZH_GENERIC]


def _merge_adjacent(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Absorb a directly following place suffix ("威宁" + "自治县") and merge overlapping spans."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        for suffix in _PLACE_SUFFIX_ZH:
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
    for m in _CAPITALISED_RUN.finditer(text):
        run = m.group()
        lowered = run.lower()
        if any(lowered.startswith(x) for x in _EN_EXONYMS):
            spans.append((m.start(), m.end()))
            continue
        words = run.split(" ")
        offset = m.start()
        for word in words:
            if word.lower() not in _EN_GENERIC and is_pinyin(word):
                start = offset
                end = offset + len(word)
                suffix = _PLACE_SUFFIX_EN.match(text, end)
                spans.append((start, suffix.end() if suffix else end))
            offset += len(word) + 1
    return spans


# ---- pinyin: matching names across scripts -----------------------------------------------------


@lru_cache(maxsize=1)
def _syllable_chars() -> dict[str, str]:
    """Toneless pinyin syllable -> the Han characters that can be read that way, from the cached reading table
    (not pypinyin's own, a third of a second to import). ü counts as v and as u: 吕 is "Lu" in English news."""
    table: dict[str, set[str]] = {}
    for char, readings in reading_table().items():
        for reading in readings.split(","):
            for syllable in {reading, reading.replace("v", "u")}:
                table.setdefault(syllable, set()).add(char)
    return {k: "".join(sorted(v)) for k, v in table.items() if k.isascii() and k.isalpha()}


@lru_cache(maxsize=2048)
def _segmentations(word: str) -> tuple[tuple[str, ...], ...]:
    """All ways (at most 4) to read `word` (lower-case letters) as pinyin syllables."""
    syllables = _syllable_chars()
    results: list[tuple[str, ...]] = []

    def walk(pos: int, acc: tuple[str, ...]) -> None:
        if len(results) >= 4:
            return
        if pos == len(word):
            results.append(acc)
            return
        for size in range(min(6, len(word) - pos), 0, -1):
            piece = word[pos : pos + size]
            if piece in syllables and (size > 1 or piece in "aeo"):
                walk(pos + size, acc + (piece,))

    walk(0, ())
    return tuple(results)


def is_pinyin(word: str) -> bool:
    letters = re.sub(r"['’-]", "", word.lower())
    return len(letters) >= 4 and letters.isalpha() and letters.isascii() and bool(_segmentations(letters))


@lru_cache(maxsize=2048)
def _han_pattern(name: str) -> re.Pattern[str] | None:
    """A regex matching Han spellings of a romanised name ("Weining" -> [威微...][宁凝...])."""
    lowered = name.lower()
    if lowered in _EN_EXONYMS:
        return re.compile(re.escape(_EN_EXONYMS[lowered]))
    letters = re.sub(r"[\s'’-]", "", lowered)
    if not (len(letters) >= 4 and letters.isascii() and letters.isalpha()):
        return None
    chars = _syllable_chars()
    options = ["".join(f"[{chars[s]}]" for s in seg) for seg in _segmentations(letters)]
    return re.compile("|".join(options)) if options else None


@lru_cache(maxsize=2048)
def _latin_pattern(name: str) -> re.Pattern[str] | None:
    """A regex matching the pinyin spelling of a Chinese name ("威宁自治县" -> r"\\bwei[\\s'-]?ning"), any reading of
    each character ("重庆" -> (?:zhong|chong)qing): names often take a character's rarer reading, and the readings
    come from a cached table, not from importing pypinyin (a third of a second in a new process)."""
    core = _strip_place_suffix(to_simplified(name))
    for english, chinese in _EN_EXONYMS.items():
        if core == chinese:
            return re.compile(r"\b" + re.escape(english), re.I)
    syllables = [readings for char in core if all(readings := pinyin_readings(char))]
    if len(syllables) < 2:
        return None
    return re.compile(r"\b" + r"[\s'’-]?".join(f"(?:{'|'.join(r)})" for r in syllables) + r"\b", re.I)


def entity_in(entity: str, haystack: Haystack) -> bool | None:
    """Whether `entity` (as written in the question) occurs in `haystack`; None if it cannot be told. Remembered
    by the haystack, like `Haystack.has`."""
    if entity not in haystack.entities_found:
        haystack.entities_found[entity] = _entity_in(entity, haystack)
    return haystack.entities_found[entity]


def _entity_in(entity: str, haystack: Haystack) -> bool | None:
    if has_han(entity):
        if haystack.has(fold(entity)) or haystack.has(_strip_place_suffix(fold(entity))):
            return True
        if not haystack.mostly_han:  # an English passage: compare through pinyin, then the dictionary
            pattern = _latin_pattern(entity)
            return _either(bool(pattern.search(haystack.folded)) if pattern else None,
                           _any_in(_entity_translations(entity, to_chinese=False), haystack))
        return False
    if haystack.has_word(entity):
        return True
    if haystack.mostly_han:  # a Chinese passage: compare through pinyin ("Xiamen"), then the dictionary ("Peru")
        divisions = places.lookup(entity)
        if divisions:  # a place in China is written with its own characters: "Shanghai" is 上海, never 伤害 (harm)
            return any(haystack.has(n) for d in divisions for n in (d.name, d.short) if len(n) >= places.MIN_NAME_CHARS)
        pattern = _han_pattern(entity)
        return _either(bool(pattern.search(haystack.nospace)) if pattern else None,
                       _any_in(_entity_translations(entity, to_chinese=True), haystack))
    return False


def _either(a: bool | None, b: bool | None) -> bool | None:
    """True if either check found the entity, False if one could tell and neither found it, None if neither could."""
    return True if a or b else (None if a is None and b is None else False)


def _any_in(terms: tuple[str, ...], haystack: Haystack) -> bool | None:
    return any(haystack.has(t) for t in terms) if terms else None


_GLOSS_QUALIFIER = re.compile(r"[,;(]")


@lru_cache(maxsize=2048)
def _entity_translations(entity: str, to_chinese: bool) -> tuple[str, ...]:
    """The dictionary's translations of a whole name: "Peru" -> 秘鲁, 香港 -> "hong kong"."""
    if to_chinese:
        return tuple(fold(w) for w in lexicon().english_to_chinese.get(entity.lower(), ()))
    # A gloss may say where or what the name is after a comma ("los angeles, california"): the name is before it.
    names = (_GLOSS_QUALIFIER.split(g, maxsplit=1)[0].strip() for g in english_senses(to_simplified(entity)))
    return tuple(dict.fromkeys(n for n in names if len(n) >= 3))


# ---- haystacks ----------------------------------------------------------------------------------


# "per 10,000 residents" is "每万人" in Chinese text: the round number is written as its unit.
_SPELLED_UNITS = {"10000": "万", "100000000": "亿"}


class Haystack:
    """A folded view of `text` for term matching."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = fold(text)
        self.nospace = _SPACE.sub("", self.folded)
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
        return bool(_YEAR.search(self.text))

    def has(self, term: str) -> bool:
        """`term` is folded: Han text, a number, or an English stem. Answers are remembered: shared haystacks
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
def haystack(text: str) -> Haystack:
    """`Haystack(text)`, shared: the same passages and sentences come back question after question."""
    return Haystack(text)


# ---- does a sentence hold the asked-for kind? -------------------------------------------------

_YEAR = re.compile(r"(?<![\d.,])(?:19|20)\d{2}(?![\d,.])(?!\s*(?:万|亿|人|名|个|家|户|项|元|%|％))")
# Spelled-out counts: "三个", "十余名", "两千人"; a lone 一 ("一支队伍", "一步") is an article, not a count.
_ZH_NUMERAL = re.compile(
    r"(?:[两三四五六七八九]|[一二两三四五六七八九十百千万亿]{2,}|十)(?:多|余)?"
    r"(?:个|名|人|家|项|次|场|户|所|位|批|条|件|元|倍|成|点|种|类|方面|支|座|张|台|辆|只|份|篇|本|部|期|轮|届|岁|天|周|"
    r"小时|分钟|秒|度|米|公里|吨|亩)"
)
# Shares in words: "三分之一", "一半", "half", "two thirds", "the majority".
_SPELLED_SHARE = re.compile(
    r"[一二三四五六七八九十百千\d]+分之[一二三四五六七八九十\d]+|一半|半数|过半|大半|"
    r"\bhalf\b|\b(?:a|one|two|three) (?:third|quarter|fifth)s?\b|\bmajority\b", re.I,
)
_EN_NUMBER_WORD = re.compile(
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozens?)\b", re.I,
)
_DATE_ZH = re.compile(
    r"\d{4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}\s*月(?:上旬|中旬|下旬)?|"
    r"(?:今|去|明|前)年|昨天|今天"
)
_DATE_EN = re.compile(
    r"\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:tember)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?(?:\s+\d{1,2})?(?:,?\s+\d{4})?\b|"
    r"\b(?:1[0-9]|20)\d{2}\b|\b\d{4}-\d{2}-\d{2}\b|\b(?:[Yy]esterday|[Ll]ast year|[Tt]his year)\b"
)
_SURNAMES = word_list("zh_surnames")  # a jieba `nr` word must start with one to count as a person's name
# A name right after a title: "会长陈存根出席", "副会长周惠应邀", "局长孙玉菡".
_ZH_TITLED_NAME = re.compile(
    rf"(?:会长|主任|局长|厅长|书记|主席|部长|秘书长|总干事|院长|理事长|社工|记者|负责人)([{HAN}]{{2,3}}?)"
    r"(?=[,，、。;；:：\s(（]|出席|表示|指出|说|介绍|应邀|在|作|宣读|就|与|和|等|来|$)"
)
_EN_PERSON = re.compile(r"\b[A-Z][a-z]{1,9}(?: [A-Z][a-z]{1,9}){1,2}\b")


@dataclass(frozen=True)
class _Found:
    """A thing of some kind in a text, before the question is known: compose asks about the same sentences
    question after question, and only the last filter (`kind_spans`) depends on the question."""

    start: int
    end: int
    key: str = ""  # what the question must not itself name: a figure's digits, or the folded text of a name or date
    ordinal: bool = False  # right after 第 ("第17个"): an answer only when the question asks 第几
    unit: str = ""  # of a figure: what it measures ("count", "rate", "share", "money", "time", "age"; `figure_unit`)


def kind_spans(kind: str | None, text: str, question: QuestionInfo) -> list[tuple[int, int]]:
    """Spans in `text` of things of the asked-for kind (empty if none, or if no kind is asked): for a number,
    figures that are not years, dates or ordinals ("第17个", unless the question asks "第几") nor the question's
    own numbers, and spelled-out counts ("三点", "two"); for a date, person or place, one the question does not
    itself name."""
    if kind not in _FINDERS:
        return []
    found = _found(kind, text)
    if kind == "number":
        asked = set(question.numbers)
        ordinals_asked = "第几" in question.text or "第幾" in question.text
        units = _FITTING_UNITS.get(question.unit or "")
        return [(f.start, f.end) for f in found if (ordinals_asked or not f.ordinal) and f.key not in asked
                and (units is None or f.unit in units)]
    return [(f.start, f.end) for f in found if f.key not in question.folded]


@lru_cache(maxsize=32768)
def _found(kind: str, text: str) -> tuple[_Found, ...]:
    return tuple(_FINDERS[kind](text))


def _figures(text: str) -> list[_Found]:
    skip = [m.span() for m in _YEAR.finditer(text)]
    skip += [m.span() for pattern in (_DATE_ZH, _DATE_EN) for m in pattern.finditer(text) if not m.group().isdigit()]
    found = [_Found(*m.span(), key=m.group("digits").replace(",", ""), ordinal=_ordinal(text, m.start()),
                    unit=figure_unit(text, *m.span()))
             for m in _FIGURE.finditer(text) if not any(s <= m.start() < e for s, e in skip)]
    found += [_Found(*m.span(), ordinal=_ordinal(text, m.start()), unit=figure_unit(text, *m.span()))
              for m in _ZH_NUMERAL.finditer(text)]
    found += [_Found(*m.span(), unit="share") for m in _SPELLED_SHARE.finditer(text)]
    # "million" in "362 million" is part of a figure already found.
    found += [_Found(*m.span(), unit=figure_unit(text, *m.span())) for m in _EN_NUMBER_WORD.finditer(text)
              if not _DIGIT_BEFORE.search(text, max(0, m.start() - 2), m.start())]
    return sorted(found, key=lambda f: (f.start, f.end))


# Which figures can answer a question asking for a count, a share, ...: a count of people is no answer to "what
# share" nor 90学时 (hours of training) to "how many assistant social workers"; a sum or a duration may be written
# without its unit ("32万"), so those questions also take figures that read as plain counts.
_FITTING_UNITS = {"count": {"count"}, "rate": {"rate"}, "share": {"share"}, "money": {"money", "count"},
                  "time": {"time", "count"}, "age": {"age", "count"}}
_DIGIT_BEFORE = re.compile(r"\d\s?$")
# A figure per head of population ("每万人持证社工21.22人", "人均32元", "21.22 social workers per 10,000 people"), and
# the head count it is per ("per 10,000").
RATE_REACH = 16  # characters before the figure, within its clause
_RATE_BEFORE = re.compile(r"(?:每\s*(?:\d[\d,.]*\s*[十百千万]*|[十百千万]+)\s*(?:人|居民|常住人口)|人均)[^，,；;。\d]*$"
                          r"|\bper\s*$", re.I)
_RATE_AFTER = re.compile(
    r"[^,;.，；。\d]{0,40}?\bper (?:capita|head|person|resident|inhabitant|\d[\d,]*|thousand|hundred)\b", re.I)
_SHARE_AFTER = re.compile(r"\s*(?:%|％|percent\b|per cent\b|个?百分点)")
_MONEY_BEFORE = re.compile(r"(?:[$¥￥]|RMB|HK\$|US\$)\s*$")
_MONEY_AFTER = re.compile(r"\s*(?:(?:million|billion|thousand)\s+)?(?:元|块钱|美元|港元|欧元|yuan\b|dollars?\b|RMB\b)")
_AGE_AFTER = re.compile(r"\s*(?:周?岁|-year-old|years?\s+old\b)")
_TIME_AFTER = re.compile(r"\s*(?:个?(?:学时|小时|钟头|分钟|天|周|星期|个月|年(?![\d级度龄]))|hours?\b|days?\b|"
                         r"weeks?\b|months?\b|years?\b|minutes?\b)")


def figure_unit(text: str, start: int, end: int) -> str:
    """What the figure text[start:end] measures, by how it ends ("6%", "三成", "两小时") or the words around it."""
    body = text[start:end]
    if _RATE_BEFORE.search(text, max(0, start - RATE_REACH), start) or _RATE_AFTER.match(text, end):
        return "rate"
    if body.endswith(("%", "％", "percent", "成")) or _SHARE_AFTER.match(text, end):
        return "share"
    if body.endswith("元") or _MONEY_AFTER.match(text, end) or _MONEY_BEFORE.search(text, max(0, start - 4), start):
        return "money"
    if body.endswith("岁") or _AGE_AFTER.match(text, end):
        return "age"
    if body.endswith(("天", "周", "小时", "分钟", "秒")) or _TIME_AFTER.match(text, end):
        return "time"
    return "count"


def _ordinal(text: str, start: int) -> bool:
    return text[max(0, start - 1) : start] == "第"


# A figure as written: "11,265", "3.8 万", "2300余", "300多", "59万余", "6%".
_FIGURE = re.compile(
    rf"(?P<digits>{FIGURE})(?:\s*(?:多|余))?(?:\s*(?:万|亿)(?:多|余)?)?(?:\s*(?:%|％|percent\b))?"
)


def _dates(text: str) -> list[_Found]:
    found = [m for pattern in (_DATE_ZH, _DATE_EN) for m in pattern.finditer(text)]
    return sorted((_Found(*m.span(), key=fold(m.group()).strip()) for m in found), key=lambda f: (f.start, f.end))


def _places(text: str) -> list[_Found]:
    spans = places_zh(text) if has_han(text) else places_en(text)
    return [_Found(s, e, key=fold(text[s:e])) for s, e in spans]


def _people(text: str) -> list[_Found]:
    found: list[_Found] = []
    if has_han(text):
        simplified = to_simplified(text)
        if len(simplified) != len(text):
            simplified = text
        found.extend(_Found(*m.span(1), key=fold(m.group(1))) for m in _ZH_TITLED_NAME.finditer(simplified))
        pos = 0
        for word, flag in _tag(simplified):
            if flag == "nr" and 2 <= len(word) <= 3 and word[0] in _SURNAMES:
                found.append(_Found(pos, pos + len(word), key=fold(word)))
            pos += len(word)
    for m in _EN_PERSON.finditer(text):
        if not any(w.lower() in _EN_GENERIC for w in m.group().split()):
            found.append(_Found(*m.span(), key=m.group().lower()))
    return found


_FINDERS = {"number": _figures, "date": _dates, "person": _people, "place": _places}
