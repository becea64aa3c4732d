"""Cleaning rules: raw article text in, text fit for indexing out.

Each rule is a small function `str -> str` with its own tests; `clean_text` runs them in order:

1. `strip_pinyin_annotations`  `導(dǎo)航` -> `導航`; real parentheses such as `鄉鎮(街道)` stay.
2. `normalize_unicode`         NFKC where safe: full-width letters, digits, punctuation and spaces
                               to half-width (the seeds already write `,` `:` `(` half-width in
                               Chinese text), zero-width characters removed; `…` and super/
                               subscript digits are kept as written.
3. `strip_page_chrome`         the navigation block heading a web page (menus, page lists, the
                               page's other headlines) and the one closing it.
4. `remove_navigation_lines`   any remaining menu line (`首頁 | 版面導航`, `第01版:頭版`, `上一期下一期`).
5. `fix_displaced_trailers`    `优秀的 (据《湖州日报》) 县区)。` -> `优秀的 县区)。(据《湖州日报》)`.
6. `join_broken_lines`         PDF line breaks inside sentences and words are joined; headings,
                               captions, bylines, table rows and source lines stay paragraphs of
                               their own; a caption that interrupts a sentence moves after the
                               paragraph.
7. `strip_markdown_marks`      `## 小标题` -> `小标题` (kept as its own paragraph); table rules go.
8. `remove_cjk_spaces`         `安徽省 委人才` -> `安徽省委人才`, `2023 年` -> `2023年`; digits and
                               Latin words keep their own spaces (`LED 显示屏`).

Paragraphs of the result are separated by one blank line. `clean_title` cleans a headline the
same way but keeps the spaces that separate its phrases (`困难群体咋过冬 社工敲门在行动`).
`normalize_line` is what the segmenter matches patterns against.
"""

from __future__ import annotations

import re
import unicodedata

from rag.ingest.patterns import (
    ends_sentence,
    ends_with_colon,
    is_byline,
    is_caption,
    is_navigation_line,
    is_table_row,
    is_title_like,
    md_heading,
    source_trailer,
    trailer_match,
)
from rag.lang.text import HAN, has_han

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
# A single pinyin syllable with a tone mark, glued to the character before it.
_PINYIN = re.compile(rf"(?<=[^\s(（])[(（](?=[a-zü{_TONED}]*[{_TONED}])[a-zü{_TONED}]{{1,6}}[)）]")

_KEEP_AS_WRITTEN = "…‥⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉"
_KEEP_SPLIT = re.compile(f"([{_KEEP_AS_WRITTEN}])")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_HSPACE = r"[ \t\u00a0\u3000]"

_CJK = f"{HAN}\u3000-\u303f\uff01-\uff60"  # Han, CJK punctuation (。、《》「」), full-width forms
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}]){_HSPACE}+(?=[{_CJK}])")
_SPACE_HAN_DIGIT = re.compile(f"(?<=[{HAN}]){_HSPACE}+(?=\\d)|(?<=\\d){_HSPACE}+(?=[{HAN}])")
_SPACE_AFTER_HAN_PUNCT = re.compile(f"(?<=[{HAN}][,:;!?)]){_HSPACE}+(?=[{HAN}])")
_SPACE_BEFORE_HAN_PUNCT = re.compile(f"(?<=[{HAN}]){_HSPACE}+(?=[,:;!?。、)])")

_TABLE_RULE = re.compile(r"^\s*\|[\s:|-]*-[\s:|-]*\|\s*$")
_CONTINUATION_START = re.compile(r"^[,，、。;；:：)）.!?！？%]")
_EN_HYPHEN_END = re.compile(r"[A-Za-z]-$")
_TAIL = 400  # characters of a growing paragraph that joining decisions look at


def strip_pinyin_annotations(text: str) -> str:
    """Remove pinyin glued to characters: `導(dǎo)航` -> `導航`; `鄉鎮(zhèn)(街道)` -> `鄉鎮(街道)`.

    Only a single syllable carrying a tone mark counts as an annotation, so `(街道)`, `(AI)`
    and `(app)` stay.
    """
    return _PINYIN.sub("", text)


def normalize_unicode(text: str) -> str:
    """NFKC (full-width to half-width, compatibility forms) except `…` and super/subscripts."""
    text = _ZERO_WIDTH.sub("", text)
    parts = _KEEP_SPLIT.split(text)
    out = [p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts)]
    return "".join(out).replace("\r\n", "\n").replace("\r", "\n")


def normalize_line(line: str) -> str:
    """A line as the pattern matchers see it: annotations stripped, NFKC, outer spaces removed."""
    return normalize_unicode(strip_pinyin_annotations(line)).strip()


def _is_body_paragraph(line: str) -> bool:
    """A line that is clearly article prose: long, or more than one sentence."""
    s = line.strip()
    if is_navigation_line(s):
        return False
    long_enough = len(s) >= 60 if has_han(s) else len(s.split()) >= 25
    return long_enough or (ends_sentence(s) and len(re.findall(r"[。！？!?]", s)) >= 2)


def page_chrome_bounds(lines: list[str]) -> tuple[int, int]:
    """(head_end, tail_start): lines[:head_end] and lines[tail_start:] are page chrome.

    The head is everything up to the last navigation line that comes before the first body
    paragraph (so a page's list of other headlines, between its menus, goes too); the tail starts
    at the first navigation line after the last body paragraph. `lines` are normalised lines.
    """
    body = [i for i, line in enumerate(lines) if _is_body_paragraph(line)]
    if not body:
        return 0, len(lines)
    head_nav = [i for i in range(body[0]) if is_navigation_line(lines[i])]
    head_end = head_nav[-1] + 1 if head_nav else 0
    tail_nav = [i for i in range(body[-1] + 1, len(lines)) if is_navigation_line(lines[i])]
    tail_start = tail_nav[0] if tail_nav else len(lines)
    return head_end, tail_start


def strip_page_chrome(text: str) -> str:
    """Drop the navigation block before the article and the one after it (see page_chrome_bounds)."""
    lines = text.split("\n")
    head_end, tail_start = page_chrome_bounds([line.strip() for line in lines])
    return "\n".join(lines[head_end:tail_start])


def remove_navigation_lines(text: str) -> str:
    """Drop single navigation lines: menus, page lists, "上一期下一期" links."""
    return "\n".join(line for line in text.split("\n") if not is_navigation_line(line))


def fix_displaced_trailers(text: str) -> str:
    """Move a source trailer that a PDF layout put before the last characters of its paragraph."""
    out = []
    for line in text.split("\n"):
        m = trailer_match(line)
        rest = m.group("rest").strip() if m else ""
        if m and rest:
            trailer = m.group(0)[: m.start("rest") - m.start()].strip()
            line = f"{line[: m.start()].rstrip()} {rest}{trailer}"
        out.append(line)
    return "\n".join(out)


def _continues(a: str, b: str) -> bool:
    """Whether line `b` continues the sentence that the text `a` (a paragraph's tail) leaves open."""
    if ends_sentence(a) or ends_with_colon(a) or md_heading(b) or is_caption(b) or is_byline(b):
        return False
    if is_table_row(a) or is_table_row(b):
        return False
    if _CONTINUATION_START.match(b):
        return True
    if md_heading(a) or is_caption(a) or source_trailer(a) is not None or is_byline(a):
        return False
    if has_han(a):  # Chinese: a line stopping mid-sentence goes on, unless it is a heading
        return len(a) >= _TAIL or not is_title_like(a)
    # English: a line that stops mid-sentence continues on a line starting in lower case.
    return bool(_EN_HYPHEN_END.search(a)) or (b[:1].islower() and not a.endswith(":"))


def _separator(a: str, b: str) -> str:
    """What goes between `a` and the line `b` joined to it: nothing in Chinese, else a space."""
    if has_han(a[-1:]) or has_han(b[:1]) or _CONTINUATION_START.match(b) or a.endswith(("、", "，")):
        return ""
    return " "


def join_broken_lines(text: str) -> str:
    """Join lines broken inside sentences or words; return paragraphs separated by blank lines.

    `加快\\n\\n步伐` -> `加快步伐`; `so-\\ncial work` -> `social work`. A short line without
    sentence-final punctuation (a heading) and a line ending a sentence end their paragraph. An
    image caption met inside an unfinished sentence is moved after the joined paragraph.
    Decisions look at the last characters of a paragraph only, so long paragraphs cost linear time.
    """
    units = [line.strip() for line in text.split("\n") if line.strip()]
    paragraphs: list[str] = []
    i = 0
    while i < len(units):
        parts, deferred = [units[i]], []
        tail = units[i][-_TAIL:] if len(units[i]) > _TAIL else units[i]
        i += 1
        while i < len(units):
            j = i
            while j < len(units) and is_caption(units[j]) and not is_caption(tail):
                j += 1
            if j >= len(units) or not _continues(tail, units[j]):
                break
            b = units[j]
            if _EN_HYPHEN_END.search(tail) and b[:1].islower():
                parts[-1], tail, sep = parts[-1][:-1], tail[:-1], ""
            else:
                sep = _separator(tail, b)
            parts.extend((sep, b))
            tail = (tail + sep + b)[-_TAIL:]
            deferred.extend(units[i:j])
            i = j + 1
        paragraphs.append("".join(parts))
        paragraphs.extend(deferred)
    return "\n\n".join(paragraphs)


def strip_markdown_marks(text: str) -> str:
    """`## 小标题` -> `小标题` (the heading stays its own line); table rules `|---|---|` go."""
    out = []
    for line in text.split("\n"):
        if _TABLE_RULE.match(line):
            continue
        h = md_heading(line)
        out.append(h[1] if h else line)
    return "\n".join(out)


def remove_cjk_spaces(text: str) -> str:
    """Remove spaces a PDF put between Chinese characters, and between them and digits.

    `安徽省 委人才` -> `安徽省委人才`; `3 月 21 日` -> `3月21日`; `LED 显示屏` and `11,265 certified`
    are left alone.
    """
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = _SPACE_HAN_DIGIT.sub("", text)
    text = _SPACE_AFTER_HAN_PUNCT.sub("", text)
    return _SPACE_BEFORE_HAN_PUNCT.sub("", text)


def clean_text(text: str) -> str:
    """All cleaning rules in order; see the module docstring."""
    text = strip_pinyin_annotations(text)
    text = normalize_unicode(text)
    text = strip_page_chrome(text)
    text = remove_navigation_lines(text)
    text = fix_displaced_trailers(text)
    text = join_broken_lines(text)
    text = strip_markdown_marks(text)
    text = remove_cjk_spaces(text)
    return re.sub(f"{_HSPACE}{{2,}}", " ", text).strip()


def clean_title(lines: list[str]) -> str:
    """A headline from its lines: cleaned, joined, spaces between its phrases kept.

    A line ending in a colon (`河南漯河:`) runs on with a space; other lines are joined with a
    dash (`——` in Chinese, ` — ` in English), as kicker and headline.
    """
    parts = []
    for line in lines:
        h = md_heading(line)
        s = normalize_line(h[1] if h else line)
        s = _SPACE_HAN_DIGIT.sub("", s)
        s = re.sub(r"\s+", " ", s).strip()
        if s:
            parts.append(s)
    title = parts[0] if parts else ""
    for part in parts[1:]:
        if ends_with_colon(title):
            title = f"{title} {part}"
        else:
            title += "——" + part if has_han(title + part) else " — " + part
    return title
