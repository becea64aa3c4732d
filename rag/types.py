"""The data that flows between stages: plain, typed dataclasses.

Document (ingest) -> Chunk (chunk) -> Passage (retrieve) -> Answer with Citations (compose).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rag.ingest builds on these types
    from rag.ingest import IngestError


@dataclass
class Document:
    """One article, as segmented out of a file (or one line of a .jsonl corpus).

    `text` is the cleaned text that gets indexed; `original` is the article as it stood in the
    file, for display. `span` is (start, end) of the article in the decoded file text.
    `date_inferred` says where a date the article does not state came from ("lead", "copy", "listing":
    see `rag.ingest.dates`); "" for a stated date. `page_headlines` are the headlines the article's page
    lists around it (an e-paper's table of contents).
    """

    id: str
    title: str
    text: str
    original: str = ""
    date: str | None = None
    source: str | None = None
    lang: str = "zh-hans"
    path: str = ""
    span: tuple[int, int] = (0, 0)
    duplicate_of: str | None = None
    url: str | None = None
    date_inferred: str = ""
    page_headlines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "page_headlines": list(self.page_headlines)}  # asdict's deep copy is 20x slower

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        data = dict(data)
        data["span"] = tuple(data.get("span") or (0, 0))
        return cls(**data)


@dataclass
class Chunk:
    """A piece of a document's cleaned text; `span` is (start, end) in `Document.text`."""

    id: str
    doc_id: str
    text: str
    span: tuple[int, int]
    lang: str
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))  # its fields are all immutable: asdict's deep copy took 5 s per 100k chunks

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        data = dict(data)
        data["span"] = tuple(data["span"])
        return cls(**data)


@dataclass
class StoryCopy:
    """Another copy of a story (the same article in another file or script), as a reader would find it."""

    doc_id: str
    title: str
    source: str | None
    date: str | None
    lang: str
    path: str = ""
    date_inferred: str = ""

    @classmethod
    def of(cls, doc: Document) -> StoryCopy:
        return cls(doc_id=doc.id, title=doc.title, source=doc.source, date=doc.date, lang=doc.lang, path=doc.path,
                   date_inferred=doc.date_inferred)


@dataclass
class Passage:
    """A retrieved chunk, widened to its paragraph for reading, with the document's metadata.

    `span` is (start, end) of `text` in the document's cleaned text; `hit_span` is the matched
    chunk's span inside `text`. `scores` holds each retrieval leg's score; `also_in` lists the ids
    of duplicate documents (the same story in another file or script) collapsed into this one, and `copies`
    describes them (title, outlet, date).
    """

    chunk_id: str
    doc_id: str
    text: str
    title: str
    source: str | None
    date: str | None
    lang: str
    path: str
    span: tuple[int, int]
    score: float
    hit_span: tuple[int, int] = (0, 0)
    scores: dict[str, float] = field(default_factory=dict)
    also_in: list[str] = field(default_factory=list)
    date_inferred: str = ""
    copies: list[StoryCopy] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _repr_html_(self) -> str:
        """The passage as the web UI's card: title, outlet, date, strength, text (escaped)."""
        from rag.ui.render import notebook_html

        return notebook_html(self)


@dataclass
class Citation:
    """One numbered source of an answer: marker `n` in the answer text refers to it.

    `support_span` is (start, end) of the supporting sentence inside `text`.
    """

    n: int
    text: str
    doc_id: str
    title: str
    source: str | None
    date: str | None
    path: str
    span: tuple[int, int]
    score: float
    lang: str = ""
    support_span: tuple[int, int] = (0, 0)
    also_in: list[str] = field(default_factory=list)
    date_inferred: str = ""
    copies: list[StoryCopy] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """What `ask()` returns: a short answer with numbered citations, or an honest abstention.

    `text` quotes the evidence with [n] markers, framed in the question's language; `short_answer` is the answer
    itself. `passages` are the nearest passages found, shown even when the answer abstains.
    `timings` are seconds per stage; `confidence` is the composer's score of its best evidence.
    """

    question: str
    text: str
    citations: list[Citation]
    abstained: bool
    language: str
    rewritten_question: str | None = None
    short_answer: str = ""  # the answer alone (a span of the first cited passage, in its language); "" on abstaining
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # How well the best evidence answers the question, in [0, 1]; the composer abstains below
    # Settings.abstain_threshold.
    confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _repr_markdown_(self) -> str:
        """The answer and its sources (outlet, date, title), each passage quoted whole; an abstention lists the
        nearest passages instead."""
        from rag.references import reference

        lines = [self.text, ""]
        for c in self.citations:
            lines += [f"**[{c.n}]** {reference(c, self.language)}  ", *_quoted(c.text), ""]
        if self.abstained:
            for p in self.passages:
                lines += [f"- {reference(p, self.language)}", *("  " + line for line in _quoted(p.text)), ""]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The answer as the web UI shows it: linked markers, citation cards (or the nearest passages of an
        abstention), copy buttons; all article text escaped."""
        from rag.ui.render import notebook_html

        return notebook_html(self)

    def __str__(self) -> str:
        return self._repr_markdown_()


def _quoted(text: str) -> list[str]:
    """Markdown quote lines for `text`: every line inside the quote (a blank one ends a Markdown quote)."""
    return [f"> {line}".rstrip() for line in text.splitlines()] or [">"]


@dataclass
class AddReport:
    """What `RAG.add()` did: the articles indexed, the files unchanged or replaced, the files refused and why."""

    added: list[str] = field(default_factory=list)  # doc ids indexed
    skipped: list[str] = field(default_factory=list)  # unchanged files
    replaced: list[str] = field(default_factory=list)  # changed files whose earlier articles were replaced
    errors: list[IngestError] = field(default_factory=list)
