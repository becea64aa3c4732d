"""Split the text of one file into articles, with each article's title, date, source and span.

In: the decoded text of a file (a page of a newspaper, a Markdown digest, a PDF's text...).
Out: `Article`s in file order, each with `span` = (start, end) in that text, its `title`
(cleaned), its raw `body` (the span without the title lines, for `clean_text`), `date` and
`source` when the text states them, and the headlines the page lists in its chrome (`page_headlines`).

Rules (they work on lines, pinyin annotations stripped and NFKC-normalised for matching):
- Page chrome (menus, page lists) before the first body paragraph and after the last one is no
  article; a date line in it (`2023年02月28日 星期二`) dates the file's articles.
- A Markdown heading opens an article when it is the first, when the current article is closed
  (see below), or when it is not deeper than the heading that opened the current article; deeper
  headings are subheadings and stay in the body.
- A source trailer (`(据《河南日报》)`, `(據東南網)`) closes the current article and names its
  source; the next title-like line (short, no sentence end, no clause comma) opens a new one.
- A `地名: 标题` line (`福建: 推动社会工作助力乡村振兴`) after a finished sentence opens a new article.
- An article's title is its heading, or up to three title-like lines at its start (a place line
  ending in a colon runs on into the headline); a date line there (`date 2023-03-22`) dates it.
- Without a trailer, the outlet of a news dateline (`Southeast Net, March 22 (...)`) is the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.ingest.clean import clean_title, normalize_line, page_chrome_bounds
from rag.ingest.meta import date_line, dateline_source, split_date_prefix
from rag.ingest.patterns import (
    ends_sentence,
    is_byline,
    is_caption,
    is_navigation_line,
    is_title_like,
    md_heading,
    place_kicker,
    source_trailer,
    trailer_match,
)

MAX_TITLE_LINES = 3
_NO_HEADING = 7  # deeper than any Markdown heading level


@dataclass
class Article:
    """One article found in a file's text; `body` is raw (uncleaned) text."""

    span: tuple[int, int]
    title: str
    body: str
    date: str | None = None
    source: str | None = None
    page_headlines: list[str] = field(default_factory=list)


@dataclass
class _Line:
    start: int
    end: int
    norm: str


@dataclass
class _Draft:
    start_line: int
    body_start: int
    title_lines: list[str] = field(default_factory=list)
    level: int = _NO_HEADING
    date: str | None = None
    trailer_source: str | None = None
    dateline_source: str | None = None
    closed: bool = False
    has_body: bool = False

    def add_body(self, norm: str) -> None:
        if not self.has_body and (d := date_line(norm)):
            self.date = self.date or d
            return
        if is_byline(norm) or is_caption(norm):
            return
        src = source_trailer(norm)
        if src:
            self.closed = True
            self.trailer_source = self.trailer_source or src
            m = trailer_match(norm)
            if m is not None and m.start() == 0:
                return
        if not self.has_body:
            self.dateline_source = dateline_source(norm)
        self.has_body = True


def split_lines(text: str) -> list[_Line]:
    """Every line of `text` with its (start, end) offsets (newline excluded) and normalised form."""
    lines, pos = [], 0
    for raw in text.split("\n"):
        lines.append(_Line(pos, pos + len(raw), normalize_line(raw)))
        pos += len(raw) + 1
    return lines


class _Segmenter:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = split_lines(text)
        norms = [line.norm for line in self.lines]
        self.head_end, self.tail_start = page_chrome_bounds(norms)
        self.file_date = next(
            (d for n in norms[: self.head_end] if (d := date_line(n) or split_date_prefix(n)[0])), None
        )
        # An e-paper page lists the headlines of its edition in its chrome; they date those articles' other copies.
        self.page_headlines = [
            n for n in norms[: self.head_end] + norms[self.tail_start :]
            if n and is_title_like(n) and not is_navigation_line(n) and not date_line(n)
        ]
        self.drafts: list[_Draft] = []
        self.last_content = ""

    def run(self) -> list[_Draft]:
        i = self.head_end
        while i < self.tail_start:
            norm = self.lines[i].norm
            if not norm or is_navigation_line(norm):
                i += 1
                continue
            cur = self.drafts[-1] if self.drafts else None
            heading = md_heading(norm)
            if heading and (cur is None or cur.closed or heading[0] <= cur.level):
                self.drafts.append(_Draft(i, i + 1, [norm], level=heading[0]))
                i += 1
            elif heading is None and self._opens_article(cur, i):
                i = self._open(i)
            else:
                if cur is None:
                    cur = _Draft(i, i)
                    self.drafts.append(cur)
                cur.add_body(norm)
                i += 1
            self.last_content = norm
        return self.drafts

    def _next_content(self, i: int) -> str:
        for line in self.lines[i + 1 : self.tail_start]:
            if line.norm:
                return line.norm
        return ""

    def _opens_article(self, cur: _Draft | None, i: int) -> bool:
        norm = split_date_prefix(self.lines[i].norm)[1]
        if cur is None or cur.closed:
            return is_title_like(norm)
        kicker = place_kicker(norm)
        if kicker is None or not cur.has_body:
            return False
        after_sentence = ends_sentence(self.last_content) or source_trailer(self.last_content) is not None
        return after_sentence and (kicker != "" or is_title_like(self._next_content(i)))

    def _open(self, i: int) -> int:
        """Start an article at line i; take its title block; return the line its body starts at."""
        draft = _Draft(i, i)
        j = i
        while j < self.tail_start and len(draft.title_lines) < MAX_TITLE_LINES:
            norm = self.lines[j].norm
            if not norm or is_navigation_line(norm):
                j += 1
                continue
            prefixed_date, norm = split_date_prefix(norm)
            stated = prefixed_date or date_line(norm)
            if stated:
                draft.date = draft.date or stated
                if prefixed_date is None or not norm:
                    j += 1
                    continue
            if not is_title_like(norm):
                break
            draft.title_lines.append(norm)
            j += 1
        draft.body_start = j
        self.drafts.append(draft)
        return j

    def articles(self, default_title: str | None, default_date: str | None) -> list[Article]:
        drafts = self.run()
        out = []
        for k, draft in enumerate(drafts):
            end_line = drafts[k + 1].start_line if k + 1 < len(drafts) else self.tail_start
            content = [n for n in range(draft.start_line, end_line) if self.lines[n].norm]
            if not content:
                continue
            first = self.lines[draft.start_line]
            raw_first = self.text[first.start : first.end]
            start = first.start + len(raw_first) - len(raw_first.lstrip())
            end = self.lines[content[-1]].end
            end -= len(self.text[start:end]) - len(self.text[start:end].rstrip())
            body_start = max(start, self.lines[draft.body_start].start) if draft.body_start < end_line else end
            body = self.text[body_start:end]
            title = clean_title(draft.title_lines) or (default_title or "" if k == 0 else "")
            out.append(
                Article(
                    span=(start, end),
                    title=title,
                    body=body,
                    date=draft.date or self.file_date or default_date,
                    source=draft.trailer_source or draft.dateline_source,
                    page_headlines=self.page_headlines,
                )
            )
        return out


def segment(text: str, default_title: str | None = None, default_date: str | None = None) -> list[Article]:
    """Split a file's text into articles (see the module docstring for the rules).

    `default_title` / `default_date` (from a format's metadata, e.g. an HTML page's <title>)
    apply when the text states none.
    """
    return _Segmenter(text).articles(default_title, default_date)
