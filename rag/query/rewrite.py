"""Follow-up questions made standalone by carrying over the previous question's frame.

In: the new question and the conversation so far, `history` = [(question, answer_text)], oldest
first. Out: a question that can be retrieved on its own. Rule-based, no model:

- "那福建呢？" after "厦门有多少持证社工？" -> "福建有多少持证社工？" (the new place replaces the old)
- "And in Fujian?" after "How many certified social workers does Xiamen have?" -> "... does Fujian have?"
  (English too keeps the previous question word for word: the old place's span gets the new place's text, so
  "are there in Fujian" -> "are there in Anhui", "does Fujian province have" -> "does Zhejiang province have")
- "那2022年呢？" -> the previous question with 2022年 in place of (or in front of) its time
- "那社工机构有多少家？" after a question about 福建 -> "福建社工机构有多少家？" (a new subject keeps the
  previous place and time when it names none)
- a question that names its own subject ("厦门有多少持证社工？") is returned unchanged.

Places come from jieba's `ns` tags, place suffixes and China's divisions (Chinese) or capitalised
pinyin names (English: with a possessive ("Fujian's"), a following "province"/"city"/"Autonomous Region",
or a leading "the city of" taken in); names joined by "and", "," or "和" count as one place. Times come
from year/month patterns ("last year" takes no "in"). Each earlier follow-up in the history is
made standalone first, so a chain of follow-ups keeps its frame.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.lang.text import detect_language, has_han, is_chinese, to_simplified, word_list
from rag.lang.words import segmenter
from rag.query.analyze import EN_STOPWORDS, ZH_STOPWORDS
from rag.query.place_names import places_en, places_zh

_ZH_LEAD = re.compile(r"^\s*(?:那么|那麼|那|还有|還有|另外|而|再问|再問|换成|換成)\s*")
_ZH_TAIL = re.compile(r"(?:的情况|的情況)?\s*(?:呢|怎么样|怎麼樣|如何)\s*(?=[？?]?\s*$)")
_EN_LEAD = re.compile(r"^\s*(?:(?:and|but)\s+)?(?:(?:what|how)\s+about|what\s+of|same\s+for|and)\b[\s,]*", re.I)
_ZH_TIME = re.compile(r"(?:19|20)\d{2}\s*年?(?:\s*\d{1,2}\s*月)?|(?:今|去|前|明)年")
_EN_TIME = re.compile(r"\b(?:19|20)\d{2}\b|\b(?:last|this|next) year\b", re.I)
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_FOLLOWUP_WORDS = word_list("en_followup_words")
_ZH_PARTICLES = word_list("zh_followup_particles")
# What an English place name carries with it, in any case: "Fujian province", "Guangxi Zhuang Autonomous Region",
# "Hong Kong SAR", "the city of Xiamen". Not "county-level": a hyphen goes on to another word.
_EN_DIVISION = r"(?:province|city|county|district|town|township|village|prefecture|region|municipality|sar)"
_EN_PLACE_AFTER = re.compile(rf"(?:\s+(?:autonomous|special\s+administrative))?\s+{_EN_DIVISION}\b(?![-'’])", re.I)
_EN_PLACE_BEFORE = re.compile(rf"(?:\bthe\s+)?\b{_EN_DIVISION}\s+of\s+$", re.I)
_EN_POSSESSIVE = re.compile(r"(?<=[A-Za-z])['’]s\b")
# What may stand between two names of one place or list: "Shenzhen, Guangdong", "Fujian and Zhejiang", "福建和广东".
_PLACE_JOINT = re.compile(r"\s*(?:[,，、&和与及]|\band\b|\bor\b)?\s*", re.I)
_EN_TIME_PREPOSITION = re.compile(r"\b(?:in|of|since|by|before|after|until|from|to|during|for)\s+$", re.I)


def rewrite_followup(question: str, history: Sequence[tuple[str, str]]) -> str:
    """`question` as a standalone question, given the earlier (question, answer) turns."""
    if not history:
        return question
    previous = history[0][0]
    for earlier, _answer in history[1:]:
        previous = _rewrite(earlier, previous)
    return _rewrite(question, previous)


def _rewrite(question: str, previous: str) -> str:
    chinese = is_chinese(detect_language(question)) or bool(has_han(question) and not _EN_WORD.search(question))
    places = _places(question)
    times = _times(question, chinese)
    led = bool((_ZH_LEAD if chinese else _EN_LEAD).match(question))
    tailed = chinese and bool(_ZH_TAIL.search(question))
    subject = _has_subject(question, places + times, chinese)
    if not subject:
        if not (led or tailed or places or times):
            return question
        return _substitute(previous, question, places, times, chinese)
    if not (led or tailed):
        return question
    return _carry_frame(previous, question, places, times, chinese)


def _places(text: str) -> list[tuple[int, int]]:
    """Spans of the places `text` names, one span for names that stand together ("Shenzhen, Guangdong")."""
    if has_han(text):
        return _join_places(text, places_zh(text))
    masked = _EN_POSSESSIVE.sub(lambda m: " " * len(m.group()), text)  # "Fujian's" is about Fujian
    return _join_places(masked, _places_en(masked))


def _places_en(text: str) -> list[tuple[int, int]]:
    """`places_en`'s names, each with the words that go with it, outside a follow-up's lead ("Same for ...")."""
    lead = _EN_LEAD.match(text)
    spans = []
    for start, end in places_en(text):
        if lead and start < lead.end():
            continue
        after = _EN_PLACE_AFTER.match(text, end)
        before = _EN_PLACE_BEFORE.search(text, 0, start)
        spans.append((before.start() if before else start, after.end() if after else end))
    return spans


def _join_places(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans, and spans with only a comma, "and"/"or" or "和"/"、" between them, as one."""
    joined: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if joined and (start <= joined[-1][1] or _PLACE_JOINT.fullmatch(text, joined[-1][1], start)):
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def _times(text: str, chinese: bool) -> list[tuple[int, int]]:
    return [m.span() for m in (_ZH_TIME if chinese or has_han(text) else _EN_TIME).finditer(text)]


def _has_subject(question: str, frame: list[tuple[int, int]], chinese: bool) -> bool:
    """Whether the question names what it asks about, beyond places, times and follow-up words."""
    rest = question
    for start, end in sorted(frame, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    if chinese:
        words = [w.strip() for w in segmenter().lcut(to_simplified(rest))]
        return any(has_han(w) and w not in ZH_STOPWORDS and w not in _ZH_PARTICLES for w in words)
    words = [w.lower() for w in _EN_WORD.findall(rest)]
    return any(w not in EN_STOPWORDS and w not in _FOLLOWUP_WORDS for w in words)


def _substitute(previous: str, question: str, places: list[tuple[int, int]], times: list[tuple[int, int]],
                chinese: bool) -> str:
    """The previous question with the follow-up's place and/or time put in for its own."""
    result = previous
    if places:
        place_text = _text(question, places)
        result = _replace_or_add(result, place_text, _places(result), f"in {place_text}")
    if times:
        time_text = _text(question, times)
        old_times = _times(result, has_han(result))
        if has_han(result):
            if time_text.isdigit():
                time_text += "年"
        elif old_times:
            old_times, time_text = _en_time_swap(result, old_times, time_text)
        result = _replace_or_add(result, time_text, old_times, _en_time(time_text))
    return result


def _en_time(time_text: str) -> str:
    """The time as an English sentence takes it on: "in 2022", but "last year"."""
    return f"in {time_text}" if time_text[:1].isdigit() else time_text


def _en_time_swap(text: str, spans: list[tuple[int, int]], new: str) -> tuple[list[tuple[int, int]], str]:
    """The old time's span and the new time's text, so the preposition fits: "in 2023" -> "last year"."""
    start, end = spans[0]
    preposition = _EN_TIME_PREPOSITION.search(text, 0, start)
    if not new[:1].isdigit() and preposition and preposition.group().lower().startswith("in"):
        start = preposition.start()  # "in 2023" -> "last year"
    elif new[:1].isdigit() and not text[start:end][:1].isdigit() and not preposition:
        new = f"in {new}"  # "last year" -> "in 2022"
    return [(start, end), *spans[1:]], new


def _carry_frame(previous: str, question: str, places: list[tuple[int, int]], times: list[tuple[int, int]],
                 chinese: bool) -> str:
    """A follow-up with its own subject: keep it, adding the previous place/time it does not name."""
    body = (_ZH_LEAD if chinese else _EN_LEAD).sub("", question, count=1)
    if chinese:
        body = _ZH_TAIL.sub("", body)
    body = body.strip()
    if not body:
        return question
    missing: list[tuple[str, str]] = []  # (as it stands in the previous question, as an English addition)
    if not times:
        missing += [(previous[s:e], _en_time(previous[s:e]))
                    for s, e in _times(previous, has_han(previous))][:1]
    if not places:
        prev_places = _places(previous)
        if prev_places:
            place = _text(previous, prev_places)
            missing.append((place, f"in {place}"))
    if not missing:
        return question
    if chinese:
        return "".join(as_written for as_written, _english in missing) + body
    return _append_en(body[0].upper() + body[1:], " ".join(english for _as_written, english in missing))


def _replace_or_add(text: str, new: str, spans: list[tuple[int, int]], english_addition: str) -> str:
    """`text` with `new` in the first span and the further spans gone, or `new` added where there are none."""
    if spans:
        first_start, first_end = spans[0]
        out = text[:first_start] + new + text[first_end:]
        shift = len(new) - (first_end - first_start)
        for start, end in spans[1:]:  # further places/times of the old frame go
            out = out[: start + shift] + out[end + shift :]
            shift -= end - start
        return re.sub(r"\s{2,}", " ", out)
    if has_han(text):
        return new + text
    return _append_en(text, english_addition)


def _append_en(text: str, addition: str) -> str:
    stripped = text.rstrip()
    if stripped.endswith("?"):
        return f"{stripped[:-1].rstrip()} {addition}?"
    return f"{stripped} {addition}"


def _text(source: str, spans: list[tuple[int, int]]) -> str:
    """The stretch of `source` from the first span to the last ("福建和广东", "Hong Kong")."""
    return source[spans[0][0] : spans[-1][1]]
