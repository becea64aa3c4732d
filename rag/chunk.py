"""Chunking: `Document` -> `Chunk`s with character spans, the chunks of an index as columns (`ChunkTable`), and
widening a hit back to a readable passage.

Chunks follow Chinese and English sentence ends (langchain-text-splitters), never cut inside a
number or a Latin word (no bare-space or empty separator), and a short tail is merged into its
neighbour so that tiny leftovers cannot become "hub" chunks that match every question. Only a run
with no separator at all, longer than a chunk may grow, is cut by length (`_bounded`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import overload

import numpy as np

from rag.lang.text import split_sentences, to_simplified
from rag.types import Chunk, Document

SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", ". ", "! ", "? ", "; ", "，", ", ", "、"]


def chunk_document(doc: Document, size: int, overlap: int, min_chars: int) -> list[Chunk]:
    """Split `doc.text` into chunks of about `size` characters with `overlap`, tails merged."""
    # Imported here: langchain (pydantic and all) takes ~0.3 s to import, and only building an index needs it.
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        chunk_size=size,
        chunk_overlap=overlap,
        keep_separator="end",
        add_start_index=True,
        strip_whitespace=True,
    )
    spans: list[tuple[int, int]] = []
    for piece in splitter.create_documents([doc.text]):
        start = piece.metadata["start_index"]
        if start < 0:  # the splitter could not locate the piece; find it after the previous one
            start = doc.text.find(piece.page_content, spans[-1][0] if spans else 0)
        spans.append((start, start + len(piece.page_content)))
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < min_chars:
        tail = spans.pop()
        spans[-1] = (spans[-1][0], tail[1])
    spans = [piece for span in spans for piece in _bounded(doc.text, span, size, size + min_chars)]
    return [
        Chunk(id=f"{doc.id}:{i}", doc_id=doc.id, text=doc.text[a:b], span=(a, b), lang=doc.lang, title=doc.title)
        for i, (a, b) in enumerate(spans)
    ]


def _bounded(text: str, span: tuple[int, int], size: int, limit: int) -> list[tuple[int, int]]:
    """`span`, or pieces of at most `size` characters when it is longer than `limit`: a run with no separator
    (no punctuation, no line break) would otherwise become one chunk beyond what the embedder reads. A piece ends
    after the window's last space when there is one in its second half (not inside a Latin word), else at `size`."""
    start, end = span
    if end - start <= limit:
        return [span]
    pieces = []
    while end - start > size:
        cut = text.rfind(" ", start + size // 2, start + size) + 1 or start + size
        pieces.append((start, cut))
        start = cut
    return [*pieces, (start, end)]


class ChunkTable(Sequence[Chunk]):
    """The chunks of an index as columns over its documents: chunk i is `documents[doc][start:end]` of row i, with id
    `<document id>:<ordinal>`, as `chunk_document` made it. A `Chunk` is made when one is read, so an index of a
    million chunks opens without making a million objects; the columns answer what a pass over all of them needs
    (`doc_rows`: a chunk's language, outlet or date is its document's; `chunk_ids`)."""

    COLUMNS = np.dtype([("doc", np.int32), ("ordinal", np.int32), ("start", np.int64), ("end", np.int64)])

    def __init__(self, documents: Sequence[Document], columns: np.ndarray) -> None:
        self.documents = list(documents)  # row order: `columns["doc"]` indexes it
        self.columns = columns

    @classmethod
    def of(cls, chunks: Iterable[Chunk], documents: Iterable[Document]) -> ChunkTable:
        """The table of `chunks`, each of one of `documents` (in that order) and made from it by `chunk_document`."""
        documents = list(documents)
        row = {doc.id: i for i, doc in enumerate(documents)}
        chunks = list(chunks)
        columns = np.empty(len(chunks), dtype=cls.COLUMNS)
        for name, values in (("doc", [row[c.doc_id] for c in chunks]), ("ordinal", [_ordinal(c) for c in chunks]),
                             ("start", [c.span[0] for c in chunks]), ("end", [c.span[1] for c in chunks])):
            columns[name] = values
        return cls(documents, columns)

    def without_documents(self, doc_ids: Collection[str]) -> tuple[ChunkTable, np.ndarray]:
        """The table without the documents `doc_ids` and their chunks, and a boolean mask of the rows it keeps."""
        kept_documents = np.array([doc.id not in doc_ids for doc in self.documents], dtype=bool)
        kept = kept_documents[self.doc_rows]
        columns = self.columns[kept]
        columns["doc"] = (np.cumsum(kept_documents) - 1)[columns["doc"]]  # rows of the documents left
        return ChunkTable([d for d, k in zip(self.documents, kept_documents.tolist(), strict=True) if k], columns), kept

    def appended(self, documents: Sequence[Document], chunks: Iterable[Chunk]) -> ChunkTable:
        """The table with `documents` after its own and their `chunks` after its rows."""
        added = ChunkTable.of(chunks, documents).columns
        added["doc"] += len(self.documents)
        return ChunkTable(self.documents + list(documents), np.concatenate([self.columns, added]))

    def __len__(self) -> int:
        return len(self.columns)

    @overload
    def __getitem__(self, row: int) -> Chunk: ...

    @overload
    def __getitem__(self, row: slice) -> list[Chunk]: ...

    def __getitem__(self, row: int | slice) -> Chunk | list[Chunk]:
        if isinstance(row, slice):
            return [self._chunk(*values) for values in self.columns[row].tolist()]
        return self._chunk(*self.columns[row].tolist())

    def __iter__(self) -> Iterator[Chunk]:
        return (self._chunk(*values) for values in self.columns.tolist())

    def _chunk(self, doc_row: int, ordinal: int, start: int, end: int) -> Chunk:
        doc = self.documents[doc_row]
        return Chunk(id=f"{doc.id}:{ordinal}", doc_id=doc.id, text=doc.text[start:end], span=(start, end),
                     lang=doc.lang, title=doc.title)

    @property
    def doc_rows(self) -> np.ndarray:
        return self.columns["doc"]

    def chunk_ids(self) -> list[str]:
        return [f"{self.documents[d].id}:{o}" for d, o in zip(self.doc_rows.tolist(), self.columns["ordinal"].tolist(),
                                                               strict=True)]


def _ordinal(chunk: Chunk) -> int:
    """n of a chunk id `<document id>:<n>`."""
    prefix, _, ordinal = chunk.id.rpartition(":")
    if prefix != chunk.doc_id or not ordinal.isdigit():
        raise ValueError(f"chunk {chunk.id!r} was not made by chunk_document from document {chunk.doc_id!r}")
    return int(ordinal)


def embedding_text(chunk: Chunk, with_title: bool) -> str:
    """What the dense leg embeds: title + text, folded to Simplified so both scripts meet in one space."""
    text = f"{chunk.title}\n{chunk.text}" if with_title and chunk.title else chunk.text
    return to_simplified(text)


def keyword_text(chunk: Chunk) -> str:
    """What the keyword leg indexes of a chunk: its title and text (tokenized by rag.retrieve.lexical)."""
    return f"{chunk.title}\n{chunk.text}"


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n")


def widen(text: str, span: tuple[int, int], max_chars: int) -> tuple[int, int]:
    """Widen `span` of `text` to its paragraph(s); if that exceeds `max_chars`, to whole sentences around it."""
    start, end = span
    para_start = max((m.end() for m in _PARAGRAPH_BREAK.finditer(text, 0, start)), default=0)
    next_break = _PARAGRAPH_BREAK.search(text, end)
    para_end = next_break.start() if next_break else len(text)
    if para_end - para_start <= max_chars:
        return para_start, para_end
    # Too long: grow sentence by sentence around the hit, alternating sides, within the paragraph.
    sentences = [(para_start + a, para_start + b) for a, b in split_sentences(text[para_start:para_end])]
    inside = [i for i, (a, b) in enumerate(sentences) if b > start and a < end] or [0]
    lo, hi = inside[0], inside[-1]
    while True:
        grown = False
        if lo > 0 and sentences[hi][1] - sentences[lo - 1][0] <= max_chars:
            lo -= 1
            grown = True
        if hi < len(sentences) - 1 and sentences[hi + 1][1] - sentences[lo][0] <= max_chars:
            hi += 1
            grown = True
        if not grown:
            break
    return min(sentences[lo][0], start), max(sentences[hi][1], end)
