"""What retrieval reads, row-aligned: the chunks of an index snapshot with their vector ids, documents, keyword index
and sentence vectors (`CorpusView`), the tunables (`RetrievalParams`) and what a search returns (`RetrievalResult`).

In: a snapshot's tables. Out: per-row lookups built once per snapshot (vector id -> row, language family masks, the
documents of each story, filter masks on first use), so that no search walks the corpus in Python.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np

from rag.chunk import ChunkTable
from rag.retrieve.lexical import LexicalIndex
from rag.retrieve.sentences import SentenceIndex
from rag.settings import Settings
from rag.store.base import SearchFilter, VectorMeta
from rag.store.rows import Rows
from rag.types import Document, Passage

ALLOWED_KEPT = 8  # filters whose row masks a view keeps


def language_family(lang: str) -> str:
    if lang.startswith("zh"):
        return "zh"
    return "en" if lang == "en" else "other"


@dataclass
class RetrievalParams:
    """The retrieval tunables; their defaults and meaning live in `Settings` (same names)."""

    candidates: int
    sentence_weight: float
    lexical_weight: float
    lexical_cross_lingual_weight: float
    prf_terms: int
    prf_docs: int
    prf_weight: float
    translation_weight: float
    sentence_keyword_weight: float
    passage_max_chars: int
    passages_per_doc: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrievalParams:
        """The fields of `Settings` that share these names."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


class RowOfVectorId(Mapping[int, int]):
    """Vector id -> row, by binary search over the ids (ascending, as an index assigns them; sorted here otherwise):
    a dict of a million ids took 0.4 s of every open."""

    def __init__(self, ids: np.ndarray) -> None:
        ascending = bool(np.all(ids[1:] > ids[:-1]))
        self.order = None if ascending else np.argsort(ids, kind="stable")
        self.sorted_ids = ids if self.order is None else ids[self.order]

    def __getitem__(self, vid: int) -> int:
        i = int(np.searchsorted(self.sorted_ids, vid))
        if i == len(self.sorted_ids) or self.sorted_ids[i] != vid:
            raise KeyError(vid)
        return i if self.order is None else int(self.order[i])

    def __iter__(self) -> Iterator[int]:
        return iter(self.sorted_ids.tolist())

    def __len__(self) -> int:
        return len(self.sorted_ids)


@dataclass
class CorpusView:
    """Everything retrieval reads, row-aligned: `chunks[i]` has vector id `ids[i]` and lexical row i. The chunks are
    a `ChunkTable`, whose columns spare the passes below making every chunk."""

    chunks: ChunkTable
    ids: np.ndarray  # int64 vector ids, one per chunk
    documents: dict[str, Document]
    lexical: LexicalIndex
    sentences: SentenceIndex | None = None  # None: the index has no sentence vectors (`embed_sentences` off)
    row_of_id: RowOfVectorId = field(init=False)
    row_of_sentence: dict[int, int] = field(init=False)  # sentence vector id -> row of the chunk holding it
    family_rows: dict[str, np.ndarray] = field(init=False)  # language family -> a boolean mask of its rows
    family_langs: dict[str, tuple[str, ...]] = field(init=False)  # language family -> the languages of its rows
    story_documents: dict[str, list[str]] = field(init=False)  # story id -> its documents (the first and its copies)
    _allowed: dict[tuple, np.ndarray] = field(init=False, default_factory=dict, repr=False)  # filter key -> mask
    _allowed_lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.row_of_id = RowOfVectorId(self.ids)
        self.row_of_sentence = {}
        if self.sentences is not None:
            row_of_chunk = {chunk_id: row for row, chunk_id in enumerate(self.chunks.chunk_ids())}
            self.row_of_sentence = {v: row_of_chunk[c] for v, c in zip(self.sentences.vids, self.sentences.chunk_ids,
                                                                       strict=True) if c in row_of_chunk}
        # Each row's language as a number (of a handful), from its document's.
        langs, of_document = np.unique(np.array([d.lang for d in self.chunks.documents], dtype=str),
                                       return_inverse=True)
        lang_of_row = of_document.reshape(-1)[self.chunks.doc_rows]
        present = np.bincount(lang_of_row, minlength=len(langs)) > 0
        families = [language_family(lang) for lang in langs.tolist()]
        self.family_rows, self.family_langs = {}, {}
        for family in sorted({f for f, here in zip(families, present.tolist(), strict=True) if here}):
            numbers = [i for i, f in enumerate(families) if f == family and present[i]]
            self.family_rows[family] = np.isin(lang_of_row, numbers)
            self.family_langs[family] = tuple(langs[numbers].tolist())
        self.story_documents = {}
        for doc in self.documents.values():
            self.story_documents.setdefault(doc.duplicate_of or doc.id, []).append(doc.id)

    @cached_property
    def _metadata(self) -> Rows:
        """Each row's filterable metadata as columns, made on the first filtered search."""
        rows = Rows()
        by_document = [vector_meta(doc) for doc in self.chunks.documents]  # a chunk's metadata is its document's
        rows.append(self.ids, [by_document[row] for row in self.chunks.doc_rows.tolist()])
        return rows

    def allowed(self, where: SearchFilter) -> np.ndarray:
        """A boolean mask of the rows `where` lets through; the last `ALLOWED_KEPT` filters' masks are kept (a view
        never changes; at 1M rows a mask takes 2 ms to make and 1 MB to keep)."""
        key = where.key()
        with self._allowed_lock:
            mask = self._allowed.get(key)
        if mask is None:
            mask = self._metadata.matching(where)
            with self._allowed_lock:
                self._allowed[key] = mask
                while len(self._allowed) > ALLOWED_KEPT:
                    del self._allowed[next(iter(self._allowed))]
        return mask


@dataclass
class RetrievalResult:
    passages: list[Passage]
    language: str
    timings: dict[str, float]
    query_vector: np.ndarray | None = None  # reused by the composer


def vector_meta(doc: Document) -> VectorMeta:
    """What a vector of one of `doc`'s chunks or sentences carries into the store (a chunk has its document's
    language)."""
    return VectorMeta(doc_id=doc.id, lang=doc.lang, source=doc.source, date=doc.date, path=doc.path)

