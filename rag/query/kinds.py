"""Does a sentence hold the asked-for kind of thing? `kind_spans(kind, text, question)` and `figure_unit`.

In: the kind a question asks for ("number", "date", "person", "place"; `rag.query.analyze.asked_kind`), a sentence,
the question's analysis. Out: the spans of the sentence that are things of that kind: figures of the unit asked for
(`figure_unit`: a count, share, rate, sum of money, duration or age), dates, people's names, places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.lang.text import FIGURE, HAN, fold, has_han, to_simplified, word_list
from rag.lang.words import jieba_tags
from rag.query.analyze import QuestionInfo
from rag.query.place_names import EN_NOT_NAMES, places_en, places_zh
from rag.query.text_view import YEAR

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
    rf"(?:{'|'.join(sorted(word_list('zh_titles'), key=lambda w: (-len(w), w)))})([{HAN}]{{2,3}}?)"
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
    skip = [m.span() for m in YEAR.finditer(text)]
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
        for word, flag in jieba_tags(simplified):
            if flag == "nr" and 2 <= len(word) <= 3 and word[0] in _SURNAMES:
                found.append(_Found(pos, pos + len(word), key=fold(word)))
            pos += len(word)
    for m in _EN_PERSON.finditer(text):
        if not any(w.lower() in EN_NOT_NAMES for w in m.group().split()):
            found.append(_Found(*m.span(), key=m.group().lower()))
    return found


_FINDERS = {"number": _figures, "date": _dates, "person": _people, "place": _places}
