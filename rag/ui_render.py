"""Render answers, evidence and the corpus for the chat UI: pure functions, no Gradio.

In: `Answer`, `Citation`, `Passage` and `Document` objects from `rag.types`.
Out: HTML strings for the chat message (answer text whose `[n]` markers link to one card per
cited passage, the supporting sentence in `<mark>`), the evidence panel (standalone query,
timings, notes, nearest passages), and table rows for the article list.

All article text and metadata are HTML-escaped here. The strings contain no newlines: Gradio's
chatbot renders messages as Markdown, and a blank line would end the raw-HTML block and let
Markdown reinterpret article text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from rag.text import is_chinese
from rag.types import Answer, Citation, Document, Passage

LANGUAGE_NAMES = {"en": "English", "zh-hans": "简体中文", "zh-hant": "繁體中文", "other": "other"}

DOCUMENT_COLUMNS = ["id", "title", "date", "outlet", "language", "file", "duplicate of"]
DOCUMENT_COLUMN_WIDTHS = ["14%", "32%", "9%", "11%", "8%", "12%", "14%"]

_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Labels:
    """Interface words in the language of the question."""

    sources: str
    nearest: str
    abstain_hint: str
    score: str
    also_in: str
    unknown_outlet: str
    searching: str


_LABELS = {
    "en": Labels(
        sources="Sources",
        nearest="Nearest passages (not enough evidence for an answer)",
        abstain_hint="No passage in the index answers this question with enough confidence.",
        score="score",
        also_in="same story also in",
        unknown_outlet="unknown outlet",
        searching="Searching the index…",
    ),
    "zh": Labels(
        sources="来源",
        nearest="最相近的段落（证据不足，无法回答）",
        abstain_hint="索引中没有段落能够有把握地回答这个问题。",
        score="相关度",
        also_in="同一报道亦见于",
        unknown_outlet="来源不详",
        searching="正在检索…",
    ),
}


def labels_for(lang: str) -> Labels:
    """Chinese labels for a Chinese question (either script), English otherwise."""
    return _LABELS["zh" if is_chinese(lang) else "en"]


def anchor_id(turn: int, n: int) -> str:
    """The element id of citation card `n` of chat turn `turn` (unique within the page)."""
    return f"cite-{turn}-{n}"


def _esc(text: str | None) -> str:
    """Escape for HTML and turn newlines into <br> (the output must hold no newline)."""
    escaped = html.escape(text or "", quote=True)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def link_markers(text: str, turn: int, numbers: Iterable[int]) -> str:
    """Escape the answer text and make each `[n]` with a known citation a link to its card."""
    known = set(numbers)

    def repl(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in known:
            return match.group(0)
        return f'<a class="cite-marker" href="#{anchor_id(turn, n)}" title="[{n}]">[{n}]</a>'

    return _MARKER.sub(repl, _esc(text))


def highlight(text: str, span: tuple[int, int]) -> str:
    """Escape `text`, wrapping text[start:end] in <mark>; an empty or out-of-range span marks nothing."""
    start, end = span
    start, end = max(0, start), min(len(text), end)
    if start >= end:
        return _esc(text)
    return f"{_esc(text[:start])}<mark>{_esc(text[start:end])}</mark>{_esc(text[end:])}"


def _meta_line(source: str | None, date: str | None, path: str, score: float, labels: Labels) -> str:
    parts = [
        f'<span class="cite-outlet">{_esc(source or labels.unknown_outlet)}</span>',
        f'<span class="cite-date">{_esc(date)}</span>' if date else "",
        f'<span class="cite-file">{_esc(PurePath(path).name)}</span>' if path else "",
        f'<span class="cite-score">{labels.score} {score:.2f}</span>',
    ]
    return '<div class="cite-meta">' + " · ".join(p for p in parts if p) + "</div>"


def _also_in(doc_ids: list[str], labels: Labels) -> str:
    if not doc_ids:
        return ""
    return f'<div class="cite-also">{labels.also_in}: {_esc(", ".join(doc_ids))}</div>'


def citation_card(citation: Citation, turn: int, labels: Labels) -> str:
    """One card: [n], title, outlet · date · file · score, the passage with the support highlighted."""
    return (
        f'<div class="cite-card" id="{anchor_id(turn, citation.n)}">'
        f'<div class="cite-head"><span class="cite-n">[{citation.n}]</span> '
        f'<span class="cite-title">{_esc(citation.title)}</span></div>'
        f"{_meta_line(citation.source, citation.date, citation.path, citation.score, labels)}"
        f'<div class="cite-text">{highlight(citation.text, citation.support_span)}</div>'
        f"{_also_in(citation.also_in, labels)}"
        "</div>"
    )


def passage_card(passage: Passage, labels: Labels) -> str:
    """A nearest-passage card (shown when the answer abstains): nothing is marked as support."""
    return (
        '<div class="cite-card passage-card">'
        f'<div class="cite-head"><span class="cite-title">{_esc(passage.title)}</span></div>'
        f"{_meta_line(passage.source, passage.date, passage.path, passage.score, labels)}"
        f'<div class="cite-text">{_esc(passage.text)}</div>'
        f"{_also_in(passage.also_in, labels)}"
        "</div>"
    )


def answer_html(answer: Answer, turn: int) -> str:
    """The chat message for an answer: linked text and citation cards, or the abstention and
    the nearest passages."""
    labels = labels_for(answer.language)
    if answer.abstained:
        cards = "".join(passage_card(p, labels) for p in answer.passages)
        nearest = f'<div class="cards-title">{labels.nearest}</div>{cards}' if cards else ""
        text = _esc(answer.text or labels.abstain_hint)
        return f'<div class="rag-answer abstained"><p class="answer-text">{text}</p>{nearest}</div>'
    numbers = [c.n for c in answer.citations]
    cards = "".join(citation_card(c, turn, labels) for c in answer.citations)
    sources = f'<div class="cards-title">{labels.sources}</div>{cards}' if cards else ""
    return (
        f'<div class="rag-answer"><p class="answer-text">{link_markers(answer.text, turn, numbers)}</p>'
        f"{sources}</div>"
    )


def searching_html(question_lang: str) -> str:
    """The placeholder shown while the answer is being computed."""
    return f'<div class="rag-answer pending"><p class="answer-text">{labels_for(question_lang).searching}</p></div>'


def error_html(message: str) -> str:
    """The chat message shown when answering failed."""
    return f'<div class="rag-answer error"><p class="answer-text">{_esc(message)}</p></div>'


def evidence_html(answer: Answer, mode: str, k: int, filter_summary: str) -> str:
    """The evidence panel for the latest answer: the standalone query when the conversation
    rewrote it, the retrieval settings, timings, notes and the nearest passages with scores."""
    rows = [f'<div class="ev-row"><b>Question</b>: {_esc(answer.question)}</div>']
    if answer.rewritten_question:
        rows.append(
            f'<div class="ev-row ev-rewritten"><b>Standalone query</b> (rewritten from the conversation): '
            f"{_esc(answer.rewritten_question)}</div>"
        )
    language = LANGUAGE_NAMES.get(answer.language, answer.language)
    rows.append(
        f'<div class="ev-row"><b>Retrieval</b>: {_esc(mode)}, k = {k}, language {_esc(language)}'
        f"{', ' + _esc(filter_summary) if filter_summary else ''}</div>"
    )
    if answer.timings:
        timing = " · ".join(f"{_esc(stage)} {secs:.2f} s" for stage, secs in answer.timings.items())
        rows.append(f'<div class="ev-row"><b>Timings</b>: {timing}</div>')
    for note in answer.notes:
        rows.append(f'<div class="ev-row ev-note">{_esc(note)}</div>')
    if answer.passages:
        items = "".join(
            f"<li>{p.score:.2f} · {_esc(p.title)} <span class='ev-src'>({_esc(p.source or '')}"
            f"{' ' + _esc(p.date) if p.date else ''})</span></li>"
            for p in answer.passages
        )
        rows.append(f'<div class="ev-row"><b>Nearest passages</b><ol class="ev-passages">{items}</ol></div>')
    return '<div class="evidence">' + "".join(rows) + "</div>"


def document_rows(documents: Iterable[Document]) -> list[list[str]]:
    """Rows of the article table, in `DOCUMENT_COLUMNS` order; a duplicate names its original."""
    docs = list(documents)
    titles = {d.id: d.title for d in docs}
    rows = []
    for d in docs:
        duplicate = ""
        if d.duplicate_of:
            original = titles.get(d.duplicate_of)
            duplicate = f"{original} ({d.duplicate_of})" if original else d.duplicate_of
        rows.append([
            d.id,
            d.title,
            d.date or "",
            d.source or "",
            LANGUAGE_NAMES.get(d.lang, d.lang),
            PurePath(d.path).name if d.path else "",
            duplicate,
        ])
    return rows


CSS = """
.rag-answer .answer-text { font-size: 1.05em; margin: 0 0 .6em 0; }
.rag-answer.abstained .answer-text { color: #92400e; font-weight: 600; }
.rag-answer.error .answer-text { color: #b91c1c; }
.rag-answer .cards-title { font-size: .85em; font-weight: 600; opacity: .75; margin: .4em 0 .3em 0; }
a.cite-marker { text-decoration: none; font-weight: 600; color: #2563eb; }
.cite-card { border: 1px solid #d1d5db; border-radius: 8px; padding: .5em .75em; margin: .4em 0;
  background: rgba(148, 163, 184, .08); scroll-margin-top: 1em; }
.cite-card:target { border-color: #2563eb; box-shadow: 0 0 0 2px rgba(37, 99, 235, .35); }
.cite-card .cite-head { font-weight: 600; }
.cite-card .cite-n { color: #2563eb; }
.cite-card .cite-meta { font-size: .8em; opacity: .75; margin: .15em 0 .35em 0; }
.cite-card .cite-text { font-size: .92em; line-height: 1.5; }
.cite-card mark { background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px; }
.cite-card .cite-also { font-size: .75em; opacity: .7; margin-top: .3em; }
.evidence .ev-row { margin: .3em 0; font-size: .9em; }
.evidence .ev-rewritten { background: rgba(37, 99, 235, .08); padding: .3em .5em; border-radius: 6px; }
.evidence .ev-note { font-style: italic; opacity: .8; }
.evidence .ev-passages { margin: .2em 0 0 1.2em; padding: 0; }
.evidence .ev-src { opacity: .7; }
"""
