"""One consistent, searchable state of an index: its tables, stores and the retriever over them.

In: the tables an index generation holds (rag/index/files.py reads them) or an update has just built. Out: a
`Snapshot`, which searches read while an update works on copies (`working_copy`) and publishes the next one; a
snapshot is never changed once searches can see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.chunk import ChunkTable
from rag.ingest.dedup import ShingleIndex
from rag.retrieve import Retriever
from rag.retrieve.lexical import LexicalIndex
from rag.retrieve.sentences import SentenceIndex
from rag.types import Document


@dataclass
class Snapshot:
    """The index as one search sees it from start to end."""

    documents: dict[str, Document]
    chunks: ChunkTable  # over `documents`, in their order
    ids: np.ndarray  # each chunk's vector id in the stores, in chunk order
    files: dict[str, str]  # path -> sha256
    next_id: int
    store: Any
    sentences: SentenceIndex | None  # None: built with `embed_sentences` off
    retriever: Retriever
    shingles: ShingleIndex | None  # None: read from an index written before it kept one (made at its first update)

    @property
    def lexical(self) -> LexicalIndex:
        return self.retriever.corpus.lexical

    def working_copy(self) -> tuple[dict[str, Document], ChunkTable, np.ndarray, dict[str, str],
                                    SentenceIndex | None]:
        """The tables an update starts from, while searches keep reading this snapshot: copies of those it changes in
        place (documents, files, sentences); the chunk table and vector ids as they are (an update makes new ones)."""
        sentences = self.sentences.copy() if self.sentences is not None else None
        return dict(self.documents), self.chunks, self.ids, dict(self.files), sentences

    def shingle_index(self) -> ShingleIndex:
        """The documents' index for duplicate detection (`rag.ingest.dedup`), made from their texts if it was not
        read."""
        return self.shingles if self.shingles is not None else ShingleIndex.of(list(self.documents.values()))
