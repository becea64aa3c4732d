"""Article metadata found in text: publication dates and the outlet named in a dateline.

- `parse_date(value)` -> "YYYY-MM-DD" or None, for `2023-03-22`, `2023/3/22`, `2023年02月28日`,
  `March 22, 2023`, `2023-03-22T10:00:00Z`.
- `date_line(line)` -> the date of a line that states only a date (optionally a weekday and a
  "previous/next issue" link after it, or a label such as `发布时间:`), else None.
- `split_date_prefix(line)` -> (date, rest) for a line starting `date 2023-03-22 ...`.
- `dateline_source(paragraph)` -> the outlet of a news dateline: "Southeast Net, March 22 (...)"
  -> "Southeast Net"; "BEIJING, March 22 (Xinhua) --" -> "Xinhua"; "东南网3月22日讯" -> "东南网".
"""

from __future__ import annotations

import re
from datetime import date

from rag.lang.text import HAN

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ]
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))

_YMD = re.compile(r"(?P<y>(?:19|20)\d\d)\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?")
_MDY = re.compile(rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}}),?\s+(?P<y>(?:19|20)\d\d)\b", re.IGNORECASE)
_DMY = re.compile(rf"\b(?P<d>\d{{1,2}})\s+(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>(?:19|20)\d\d)\b", re.IGNORECASE)

_WEEKDAY = r"(?:星期|礼拜|禮拜|周|週)[一二三四五六日天]"
_LABEL = (
    r"(?:发布时间|發布時間|发布日期|發布日期|出版日期|日期|时间|時間|Published(?: on)?|Updated|Date)\s*[:：]?\s*"
)
def _unnamed(pattern: re.Pattern[str]) -> str:
    return re.sub(r"\(\?P<\w+>", "(?:", pattern.pattern)


_DATE_ONLY = re.compile(
    rf"^(?:{_LABEL})?(?P<date>{_unnamed(_YMD)}|{_unnamed(_MDY)}|{_unnamed(_DMY)})"
    rf"(?:\s*\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?\s*(?:{_WEEKDAY})?\s*"
    r"(?:上一[期篇]\s*下一[期篇]|上一[期篇]|下一[期篇])?\s*$",
    re.IGNORECASE,
)
_DATE_PREFIX = re.compile(r"^\s*date\s*[:：]?\s*(?P<date>\d{4}-\d{1,2}-\d{1,2})\b\s*(?P<rest>.*)$", re.IGNORECASE)

_EN_DATELINE = re.compile(
    rf"^(?P<lead>[A-Z][\w&.'’\- ]{{1,40}}?),\s+(?i:{_MONTH_RE})\.?\s+\d{{1,2}}(?:,\s+\d{{4}})?"
    r"\s*(?:\((?P<paren>[^)]{1,80})\))?"
)
_ZH_DATELINE = re.compile(
    rf"^(?P<src>[{HAN}]{{1,10}}?(?:网|網|社|报|報|台|电视台|電視台))"
    rf"[{HAN}]{{0,4}}(?:\d{{4}}年)?\d{{1,2}}月\d{{1,2}}日(?:电|電|讯|訊)"
)
_NOT_NAMED_OUTLET = re.compile(r"^(?:本报|本報|本网|本網|本台|本社)")


def _iso(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def _from_match(m: re.Match[str]) -> str | None:
    groups = m.groupdict()
    month = groups.get("mon")
    mon = _MONTHS[month.lower().rstrip(".")] if month else int(groups["m"])
    return _iso(int(groups["y"]), mon, int(groups["d"]))


def parse_date(value: str | None) -> str | None:
    """The first date in `value` as ISO "YYYY-MM-DD", or None when there is none (or it is invalid)."""
    if not value:
        return None
    for pattern in (_YMD, _MDY, _DMY):
        m = pattern.search(value)
        if m:
            return _from_match(m)
    return None


def date_line(line: str) -> str | None:
    """The date of a line that states a date and nothing else of substance, else None."""
    m = _DATE_ONLY.match(line.strip())
    return parse_date(m.group("date")) if m else None


def split_date_prefix(line: str) -> tuple[str | None, str]:
    """(ISO date, rest of the line) for `date 2023-03-22 Headline`; (None, line) otherwise."""
    m = _DATE_PREFIX.match(line)
    if not m:
        return None, line
    return parse_date(m.group("date")), m.group("rest").strip()


def dateline_source(paragraph: str) -> str | None:
    """The outlet named at the start of a news paragraph's dateline, or None."""
    s = paragraph.strip()
    m = _EN_DATELINE.match(s)
    if m:
        lead, paren = m.group("lead").strip(), (m.group("paren") or "").strip()
        paren_is_outlet = bool(paren) and len(paren.split()) <= 3 and not re.search(
            r"reporter|correspondent|photo|updated", paren, re.IGNORECASE
        )
        if lead.isupper():  # "BEIJING, March 22 (Xinhua)": the lead is a place
            return paren if paren_is_outlet else None
        return lead
    m = _ZH_DATELINE.match(s)
    if m and not _NOT_NAMED_OUTLET.match(m.group("src")):
        return m.group("src")
    return None
