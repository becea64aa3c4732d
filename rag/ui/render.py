"""Render answers, evidence and the corpus for the chat UI: pure functions, no Gradio.

In: `Answer`, `Citation`, `Passage` and `Document` objects from `rag.types`.
Out: HTML strings for the chat message (answer text whose `[n]` markers link to one card per
cited passage, the supporting sentence in `<mark>`, each source named by outlet, date and title
(`rag.references`) with a strength word, copy buttons for a paste-able citation), the evidence panel
(standalone query, nearest passages; settings and timings behind a toggle), the same view for a
notebook (`notebook_html`, behind `Answer._repr_html_`), and table rows for the article list.
Labels follow the question's language and script.

All article text and metadata are HTML-escaped here. The strings contain no newlines: Gradio's
chatbot renders messages as Markdown, and a blank line would end the raw-HTML block and let
Markdown reinterpret article text.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import PurePath

from rag.lang.text import is_chinese, to_traditional
from rag.references import date_text, outlet_and_date, outlet_text, quotation, reference
from rag.types import Answer, Citation, Document, Passage, StoryCopy

LANGUAGE_NAMES = {"en": "English", "zh-hans": "简体中文", "zh-hant": "繁體中文", "other": "other"}

DOCUMENT_COLUMNS = ["id", "title", "date", "outlet", "language", "file", "duplicate"]  # keys of the UI strings
DOCUMENT_COLUMN_WIDTHS = ["14%", "32%", "9%", "11%", "8%", "12%", "14%"]

_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Labels:
    """Interface words in the language (and script) of the question."""

    lang: str
    sources: str
    nearest: str
    abstain_hint: str
    also_in: str
    searching: str
    copy: str
    copy_answer: str
    file: str
    strength: tuple[str, str, str]  # close, partial, loose match
    # the evidence panel
    question: str
    standalone: str
    nearest_list: str
    retrieval: str
    timings: str
    details: str


LABELS_FILE = "labels.json"  # in rag/data/ui: the words by language


@functools.cache
def _labels(lang: str) -> Labels:
    words = json.loads((resources.files("rag.data") / "ui" / LABELS_FILE).read_text(encoding="utf-8"))[lang]
    return Labels(lang=lang, **{**words, "strength": tuple(words["strength"])})


# Retrieval scores are z-scores against generic news text (rag.retrieve): a passage this many deviations above it
# is a close, then a partial match; below, a loose one. The number itself stays in the word's tooltip.
STRENGTH_BANDS = (6.0, 3.5)


@functools.cache  # converting the words to Traditional once, not on every answer shown
def labels_for(lang: str) -> Labels:
    """Chinese labels for a Chinese question, in its script (Traditional for a Traditional question); English
    otherwise."""
    if not is_chinese(lang):
        return _labels("en")
    simplified = _labels("zh-hans")
    if lang != "zh-hant":
        return simplified
    words = {f.name: getattr(simplified, f.name) for f in fields(Labels) if f.name not in ("lang", "strength")}
    return replace(simplified, lang="zh-hant", strength=tuple(to_traditional(w) for w in simplified.strength),
                   **{name: to_traditional(word) for name, word in words.items()})


def strength_word(score: float, labels: Labels) -> str:
    """A plain word for a retrieval score (see STRENGTH_BANDS)."""
    close, partial = STRENGTH_BANDS
    return labels.strength[0 if score >= close else 1 if score >= partial else 2]


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


def _meta_line(item: Citation | Passage, labels: Labels) -> str:
    """Outlet · date · strength word (the score in its tooltip) · the file name behind a toggle."""
    date = date_text(item, labels.lang)
    parts = [
        f'<span class="cite-outlet">{_esc(outlet_text(item, labels.lang))}</span>',
        f'<span class="cite-date">{_esc(date)}</span>' if date else "",
        f'<span class="cite-strength" title="{item.score:.2f}">{_esc(strength_word(item.score, labels))}</span>',
    ]
    meta = " · ".join(p for p in parts if p)
    file = (f'<details class="cite-file"><summary>{_esc(labels.file)}</summary>{_esc(PurePath(item.path).name)}'
            "</details>" if item.path else "")
    return f'<div class="cite-meta">{meta}{file}</div>'


def _also_in(copies: list[StoryCopy], labels: Labels) -> str:
    if not copies:
        return ""
    named = "; ".join(reference(c, labels.lang) for c in copies)
    return f'<div class="cite-also">{_esc(labels.also_in)}: {_esc(named)}</div>'


def _copy_button(text: str, label: str) -> str:
    """A button that puts `text` on the clipboard through COPY_JS. The chat strips inline handlers and data-
    attributes, so the text rides in hidden spans, one per line (the output holds no newline)."""
    lines = "".join(f'<span class="copy-line">{_esc(line)}</span>' for line in text.split("\n"))
    return f'<button type="button" class="copy-cite">{_esc(label)}<span class="copy-text">{lines}</span></button>'


def citation_card(citation: Citation, turn: int, labels: Labels) -> str:
    """One card: [n], title, outlet · date · strength · file, the passage with the support highlighted, the other
    copies of the story, and a button copying the supporting sentence with its reference."""
    start, end = citation.support_span
    quote = citation.text[start:end] if end > start else citation.text
    return (
        f'<div class="cite-card" id="{anchor_id(turn, citation.n)}">'
        f'<div class="cite-head"><span class="cite-n">[{citation.n}]</span> '
        f'<span class="cite-title">{_esc(citation.title)}</span></div>'
        f"{_meta_line(citation, labels)}"
        f'<div class="cite-text">{highlight(citation.text, citation.support_span)}</div>'
        f"{_also_in(citation.copies, labels)}"
        f"{_copy_button(quotation(quote, citation, labels.lang), labels.copy)}"
        "</div>"
    )


def passage_card(passage: Passage, labels: Labels) -> str:
    """A nearest-passage card (shown when the answer abstains): nothing is marked as support."""
    return (
        '<div class="cite-card passage-card">'
        f'<div class="cite-head"><span class="cite-title">{_esc(passage.title)}</span></div>'
        f"{_meta_line(passage, labels)}"
        f'<div class="cite-text">{_esc(passage.text)}</div>'
        f"{_also_in(passage.copies, labels)}"
        "</div>"
    )


def answer_reference_text(answer: Answer) -> str:
    """The answer with a numbered list of its sources (outlet, date, title), as the answer's copy button gives it."""
    lang = answer.language
    return "\n".join([answer.text, *(f"[{c.n}] {reference(c, lang)}" for c in answer.citations)])


def answer_html(answer: Answer, turn: int) -> str:
    """The chat message for an answer: linked text, a copy button and citation cards, or the abstention and the
    nearest passages."""
    labels = labels_for(answer.language)
    if answer.abstained:
        cards = "".join(passage_card(p, labels) for p in answer.passages)
        nearest = f'<div class="cards-title">{_esc(labels.nearest)}</div>{cards}' if cards else ""
        text = _esc(answer.text or labels.abstain_hint)
        return f'<div class="rag-answer abstained"><p class="answer-text">{text}</p>{nearest}</div>'
    numbers = [c.n for c in answer.citations]
    cards = "".join(citation_card(c, turn, labels) for c in answer.citations)
    sources = f'<div class="cards-title">{_esc(labels.sources)}</div>{cards}' if cards else ""
    return (
        f'<div class="rag-answer"><p class="answer-text">{link_markers(answer.text, turn, numbers)}</p>'
        f"{_copy_button(answer_reference_text(answer), labels.copy_answer)}{sources}</div>"
    )


def searching_html(question_lang: str) -> str:
    """The placeholder shown while the answer is being computed."""
    return f'<div class="rag-answer pending"><p class="answer-text">{labels_for(question_lang).searching}</p></div>'


def error_html(message: str) -> str:
    """The chat message shown when answering failed."""
    return f'<div class="rag-answer error"><p class="answer-text">{_esc(message)}</p></div>'


def evidence_html(answer: Answer, mode: str, k: int, filter_summary: str) -> str:
    """The evidence panel for the latest answer, in the question's language: the standalone query when the
    conversation rewrote it, the nearest passages (title, reference, strength), and behind a toggle the retrieval
    settings, timings and notes a developer wants."""
    labels = labels_for(answer.language)
    rows = [f'<div class="ev-row"><b>{_esc(labels.question)}</b>: {_esc(answer.question)}</div>']
    if answer.rewritten_question:
        rows.append(f'<div class="ev-row ev-rewritten"><b>{_esc(labels.standalone)}</b>: '
                    f"{_esc(answer.rewritten_question)}</div>")
    if answer.passages:
        items = "".join(
            f"<li>{_esc(p.title)} <span class='ev-src'>({_esc(outlet_and_date(p, labels.lang))} · "
            f"<span title='{p.score:.2f}'>{_esc(strength_word(p.score, labels))}</span>)</span></li>"
            for p in answer.passages
        )
        rows.append(f'<div class="ev-row"><b>{_esc(labels.nearest_list)}</b><ol class="ev-passages">{items}</ol>'
                    "</div>")
    language = LANGUAGE_NAMES.get(answer.language, answer.language)
    details = [
        f'<div class="ev-row">{_esc(labels.retrieval)}: {_esc(mode)}, k = {k}, {_esc(language)}'
        f"{', ' + _esc(filter_summary) if filter_summary else ''}</div>"
    ]
    if answer.timings:
        timing = " · ".join(f"{_esc(stage)} {secs:.2f} s" for stage, secs in answer.timings.items())
        details.append(f'<div class="ev-row">{_esc(labels.timings)}: {timing}</div>')
    details += [f'<div class="ev-row ev-note">{_esc(note)}</div>' for note in answer.notes]
    rows.append(f'<details class="ev-details"><summary>{_esc(labels.details)}</summary>{"".join(details)}'
                "</details>")
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
            f"{d.date} (inferred · 推断)" if d.date and d.date_inferred else d.date or "",
            d.source or "",
            LANGUAGE_NAMES.get(d.lang, d.lang),
            PurePath(d.path).name if d.path else "",
            duplicate,
        ])
    return rows


def notebook_html(item: Answer | Passage) -> str:
    """An answer or a passage for a notebook: the UI's rendering with its CSS, and the copy buttons' script."""
    if isinstance(item, Answer):
        body = answer_html(item, turn=0)
    else:
        body = f'<div class="rag-answer">{passage_card(item, labels_for(item.lang))}</div>'
    return f"<style>{CSS}</style>{body}<script>({COPY_JS})()</script>"


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
#examples thead { display: none; }
.evidence .ev-details { margin-top: .5em; font-size: .85em; opacity: .85; }
.cite-card .cite-file { display: inline; margin-left: .4em; }
.cite-card .cite-file summary { display: inline; cursor: pointer; text-decoration: underline dotted; }
button.copy-cite { font-size: .75em; margin: .3em 0 .1em 0; padding: .1em .6em; border: 1px solid #cbd5e1;
  border-radius: 6px; background: transparent; cursor: pointer; }
button.copy-cite .copy-text { display: none; }
button.copy-cite.copied { border-color: #16a34a; color: #16a34a; }
"""

# One listener for every copy button on the page (the chat strips inline handlers; answers arrive after load).
COPY_JS = """() => {
  if (window.__ragCopy) return;
  window.__ragCopy = true;
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('button.copy-cite');
    if (!button) return;
    const text = [...button.querySelectorAll('.copy-line')].map((line) => line.textContent).join('\\n');
    const done = () => { button.classList.add('copied'); setTimeout(() => button.classList.remove('copied'), 1500); };
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done); return; }
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove(); done();
  });
}"""
