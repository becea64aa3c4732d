"""Follow-up questions made standalone by carrying over the previous question's frame.

In: the new question and the conversation so far, `history` = [(question, answer_text)], oldest
first. Out: a question that can be retrieved on its own. Rule-based, no model:

- "那福建呢？" after "厦门有多少持证社工？" -> "福建有多少持证社工？" (the new place replaces the old)
- "And in Fujian?" after "How many certified social workers does Xiamen have?" -> "... does Fujian have?"
- "那2022年呢？" -> the previous question with 2022年 in place of (or in front of) its time
- "那社工机构有多少家？" after a question about 福建 -> "福建社工机构有多少家？" (a new subject keeps the
  previous place and time when it names none)
- a question that names its own subject ("厦门有多少持证社工？") is returned unchanged.

Places come from jieba's `ns` tags, place suffixes and China's divisions (Chinese) or capitalised
pinyin names (English); times from year/month patterns. Each earlier follow-up in the history is
made standalone first, so a chain of follow-ups keeps its frame.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.compose.terms import EN_STOPWORDS, ZH_STOPWORDS, places_en, places_zh
from rag.text import detect_language, is_chinese, to_simplified
from rag.words import segmenter

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ZH_LEAD = re.compile(r"^\s*(?:那么|那麼|那|还有|還有|另外|而|再问|再問|换成|換成)\s*")
_ZH_TAIL = re.compile(r"(?:的情况|的情況)?\s*(?:呢|怎么样|怎麼樣|如何)\s*(?=[？?]?\s*$)")
_EN_LEAD = re.compile(r"^\s*(?:(?:and|but)\s+)?(?:(?:what|how)\s+about|what\s+of|same\s+for|and)\b[\s,]*", re.I)
_ZH_TIME = re.compile(r"(?:19|20)\d{2}\s*年?(?:\s*\d{1,2}\s*月)?|(?:今|去|前|明)年")
_EN_TIME = re.compile(r"\b(?:19|20)\d{2}\b|\b(?:last|this|next) year\b", re.I)
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_FOLLOWUP_WORDS = frozenset("and but what how about of same for in at then also".split())
_ZH_PARTICLES = frozenset("那 那么 还有 另外 而 呢 吗 啊 吧 怎么样 如何 情况 再问 换成".split())


def rewrite_followup(question: str, history: Sequence[tuple[str, str]]) -> str:
    """`question` as a standalone question, given the earlier (question, answer) turns."""
    if not history:
        return question
    previous = history[0][0]
    for earlier, _answer in history[1:]:
        previous = _rewrite(earlier, previous)
    return _rewrite(question, previous)


def _rewrite(question: str, previous: str) -> str:
    chinese = is_chinese(detect_language(question)) or bool(_HAN.search(question) and not _EN_WORD.search(question))
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
    return places_zh(text) if _HAN.search(text) else places_en(text)


def _times(text: str, chinese: bool) -> list[tuple[int, int]]:
    return [m.span() for m in (_ZH_TIME if chinese or _HAN.search(text) else _EN_TIME).finditer(text)]


def _has_subject(question: str, frame: list[tuple[int, int]], chinese: bool) -> bool:
    """Whether the question names what it asks about, beyond places, times and follow-up words."""
    rest = question
    for start, end in sorted(frame, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    if chinese:
        words = [w.strip() for w in segmenter().lcut(to_simplified(rest))]
        return any(_HAN.search(w) and w not in ZH_STOPWORDS and w not in _ZH_PARTICLES for w in words)
    words = [w.lower() for w in _EN_WORD.findall(rest)]
    return any(w not in EN_STOPWORDS and w not in _FOLLOWUP_WORDS for w in words)


def _substitute(previous: str, question: str, places: list[tuple[int, int]], times: list[tuple[int, int]],
                chinese: bool) -> str:
    """The previous question with the follow-up's place and/or time put in for its own."""
    result = previous
    if places:
        result = _replace_or_add(result, _text(question, places), _places(result), "place")
    if times:
        time_text = _text(question, times)
        if _HAN.search(result) and time_text.isdigit():
            time_text += "年"
        result = _replace_or_add(result, time_text, _times(result, bool(_HAN.search(result))), "time")
    return result


def _carry_frame(previous: str, question: str, places: list[tuple[int, int]], times: list[tuple[int, int]],
                 chinese: bool) -> str:
    """A follow-up with its own subject: keep it, adding the previous place/time it does not name."""
    body = (_ZH_LEAD if chinese else _EN_LEAD).sub("", question, count=1)
    if chinese:
        body = _ZH_TAIL.sub("", body)
    body = body.strip()
    if not body:
        return question
    missing: list[str] = []
    if not times:
        missing += [previous[s:e] for s, e in _times(previous, bool(_HAN.search(previous)))][:1]
    if not places:
        prev_places = _places(previous)
        if prev_places:
            missing.append(_text(previous, prev_places))
    if not missing:
        return question
    if chinese:
        return "".join(missing) + body
    return _append_en(body[0].upper() + body[1:], " ".join(f"in {m}" for m in missing))


def _replace_or_add(text: str, new: str, spans: list[tuple[int, int]], what: str) -> str:
    if spans:
        first_start, first_end = spans[0]
        out = text[:first_start] + new + text[first_end:]
        shift = len(new) - (first_end - first_start)
        for start, end in spans[1:]:  # further places/times of the old frame go
            out = out[: start + shift] + out[end + shift :]
            shift -= end - start
        return re.sub(r"\s{2,}", " ", out)
    if _HAN.search(text):
        return new + text
    return _append_en(text, f"in {new}")


def _append_en(text: str, addition: str) -> str:
    stripped = text.rstrip()
    if stripped.endswith("?"):
        return f"{stripped[:-1].rstrip()} {addition}?"
    return f"{stripped} {addition}"


def _text(source: str, spans: list[tuple[int, int]]) -> str:
    """The stretch of `source` from the first span to the last ("福建和广东", "Hong Kong")."""
    return source[spans[0][0] : spans[-1][1]]
