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


def infer_dates(documents: list[Document], new_from: int = 0) -> None:
    """Date the undated documents from their lead, a dated copy, or a dated page listing their headline (in place).

    Documents before row `new_from` were dated by an earlier call: a lead date depends on its own text alone, so
    theirs are kept (and an undated one among them has no lead date) rather than read again."""
    for row, doc in enumerate(documents):
        if doc.date_inferred and (row >= new_from or doc.date_inferred != "lead"):
            doc.date, doc.date_inferred = None, ""
    for doc in documents[new_from:]:
        if doc.date is None and (found := lead_date(doc.text)):
            doc.date, doc.date_inferred = found, "lead"
    _date_from_copies(documents)
    _date_from_listings(documents)
    _date_from_copies(documents)  # a copy of an article dated by a listing


def _date_from_copies(documents: list[Document]) -> None:
    dated: dict[str, str] = {}  # story id -> the date of its first copy that has one
    for doc in sorted(documents, key=lambda d: d.date_inferred != ""):  # stated dates first
        if doc.date:
            dated.setdefault(doc.duplicate_of or doc.id, doc.date)
    for doc in documents:
        story_date = dated.get(doc.duplicate_of or doc.id)
        if doc.date is None and story_date:
            doc.date, doc.date_inferred = story_date, "copy"


def _key(text: str) -> str:
    return _NOISE.sub("", fold(text))


def _date_from_listings(documents: list[Document]) -> None:
    listed: list[tuple[str, str, str]] = []  # (headline key, page date, page path)
    for doc in documents:
        if doc.date and not doc.date_inferred:
            listed.extend((key, doc.date, doc.path) for h in doc.page_headlines
                          if len(key := _key(h)) >= MIN_HEADLINE_CHARS)
    if not listed:
        return
    for doc in documents:
        if doc.date is not None:
            continue
        title = _key(doc.title)
        # A headline may be one line of a longer title (a kicker above it), or the title one line of the listing.
        dates = {date for key, date, path in listed
                 if path != doc.path and (key in title or (len(title) >= MIN_HEADLINE_CHARS and title in key))}
        if len(dates) == 1:  # two pages of different days listing the title leave it undated
            doc.date, doc.date_inferred = dates.pop(), "listing"
