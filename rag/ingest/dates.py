"""Dates for articles that state none, inferred and marked as inferred.

In: documents whose duplicates are marked (`find_duplicates`). Out: `date` and `date_inferred` set in place on the
documents that state no date of their own:
- "lead": the first full date (year, month and day) at the start of the article's first paragraph
  ("2024年5月16日，…", "BEIJING, May 16, 2024 —");
- "copy": the date of another copy of the same story (its duplicate group) that has one, stated or from its lead;
- "listing": the stated date of a page that lists the article's headline (an e-paper page's table of contents names
  the articles of its edition, whose other copies, a PDF of the printed page, carry no date).
A stated date always wins. Inferred dates are recomputed on every call, so a date lent by a copy that is removed
goes with it.
"""

from __future__ import annotations

import re

from rag.ingest.meta import parse_date
from rag.lang.text import fold, paragraph_spans
from rag.types import Document

LEAD_CHARS = 120  # a news lead states its date near its start; later dates are the story's events
MIN_HEADLINE_CHARS = 8  # shorter listing lines ("头版", "新闻") are section names, not headlines
_NOISE = re.compile(r"[\W_]+")


def lead_date(text: str) -> str | None:
    """The first full date in the first `LEAD_CHARS` characters of the first paragraph of `text`, or None."""
    spans = paragraph_spans(text)
    if not spans:
        return None
    start, end = spans[0]
    return parse_date(text[start : min(end, start + LEAD_CHARS)])


Dated = tuple[str | None, str]  # a document's (date, where an inferred one came from: "" when stated or none)


def infer_dates(documents: list[Document], new_from: int = 0) -> None:
    """Date the undated documents from their lead, a dated copy, or a dated page listing their headline (in place).

    Documents before row `new_from` were dated by an earlier call: a lead date depends on its own text alone, so
    theirs are kept (and an undated one among them has no lead date) rather than read again. The dates are worked out
    aside and each document changed once, from its old date to its new one: a search reading the documents meanwhile
    (an update's documents are the live index's) never sees a dated one undated on the way."""
    dated: list[Dated] = [
        (doc.date, doc.date_inferred) if not doc.date_inferred or (row < new_from and doc.date_inferred == "lead")
        else (None, "") for row, doc in enumerate(documents)]
    for row in range(new_from, len(documents)):
        if dated[row][0] is None and (found := lead_date(documents[row].text)):
            dated[row] = (found, "lead")
    _date_from_copies(documents, dated)
    _date_from_listings(documents, dated)
    _date_from_copies(documents, dated)  # a copy of an article dated by a listing
    for doc, (date, how) in zip(documents, dated, strict=True):
        if (doc.date, doc.date_inferred) != (date, how):
            doc.date, doc.date_inferred = date, how


def _date_from_copies(documents: list[Document], dated: list[Dated]) -> None:
    story_dates: dict[str, str] = {}  # story id -> the date of its first copy that has one
    for row in sorted(range(len(documents)), key=lambda r: dated[r][1] != ""):  # stated dates first
        if date := dated[row][0]:
            story_dates.setdefault(documents[row].duplicate_of or documents[row].id, date)
    for row, doc in enumerate(documents):
        story_date = story_dates.get(doc.duplicate_of or doc.id)
        if dated[row][0] is None and story_date:
            dated[row] = (story_date, "copy")


def _key(text: str) -> str:
    return _NOISE.sub("", fold(text))


def _date_from_listings(documents: list[Document], dated: list[Dated]) -> None:
    listed: list[tuple[str, str, str]] = []  # (headline key, page date, page path)
    for doc, (date, how) in zip(documents, dated, strict=True):
        if date and not how:
            listed.extend((key, date, doc.path) for h in doc.page_headlines
                          if len(key := _key(h)) >= MIN_HEADLINE_CHARS)
    if not listed:
        return
    for row, doc in enumerate(documents):
        if dated[row][0] is not None:
            continue
        title = _key(doc.title)
        # A headline may be one line of a longer title (a kicker above it), or the title one line of the listing.
        dates = {date for key, date, path in listed
                 if path != doc.path and (key in title or (len(title) >= MIN_HEADLINE_CHARS and title in key))}
        if len(dates) == 1:  # two pages of different days listing the title leave it undated
            dated[row] = (dates.pop(), "listing")
