"""What retrieval reads, row-aligned: the chunks of an index snapshot with their vector ids, documents, keyword index
and sentence vectors (`CorpusView`), the tunables (`RetrievalParams`) and what a search returns (`RetrievalResult`).

In: a snapshot's tables. Out: per-row lookups built once per snapshot (vector id -> row, language family masks, the
documents of each story, filter masks on first use), so that no search walks the corpus in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np

from rag.retrieve.lexical import LexicalIndex
from rag.retrieve.sentences import SentenceIndex
from rag.settings import Settings
from rag.store.base import SearchFilter, VectorMeta
from rag.store.rows import Rows
from rag.types import Chunk, Document, Passage


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


@dataclass
class CorpusView:
    """Everything retrieval reads, row-aligned: `chunks[i]` has vector id `ids[i]` and lexical row i."""

    chunks: list[Chunk]
    ids: np.ndarray  # int64 vector ids, one per chunk
    documents: dict[str, Document]
    lexical: LexicalIndex
    sentences: SentenceIndex | None = None  # None: the index has no sentence vectors (`embed_sentences` off)
    row_of_id: dict[int, int] = field(init=False)
    row_of_sentence: dict[int, int] = field(init=False)  # sentence vector id -> row of the chunk holding it
    family_rows: dict[str, np.ndarray] = field(init=False)  # language family -> a boolean mask of its rows
    family_langs: dict[str, tuple[str, ...]] = field(init=False)  # language family -> the languages of its rows
    story_documents: dict[str, list[str]] = field(init=False)  # story id -> its documents (the first and its copies)

    def __post_init__(self) -> None:
        self.row_of_id = {int(v): i for i, v in enumerate(self.ids)}
        row_of_chunk = {c.id: i for i, c in enumerate(self.chunks)}
        self.row_of_sentence = {} if self.sentences is None else {
            v: row_of_chunk[c] for v, c in zip(self.sentences.vids, self.sentences.chunk_ids, strict=True)
            if c in row_of_chunk
        }
        langs = np.array([c.lang for c in self.chunks])
        families = np.array([language_family(lang) for lang in langs])
        self.family_rows = {f: families == f for f in sorted(set(families.tolist()))}
        self.family_langs = {f: tuple(sorted(set(langs[rows].tolist()))) for f, rows in self.family_rows.items()}
        self.story_documents = {}
        for doc in self.documents.values():
            self.story_documents.setdefault(doc.duplicate_of or doc.id, []).append(doc.id)

    @cached_property
    def _metadata(self) -> Rows:
        """Each row's filterable metadata as columns, made on the first filtered search."""
        rows = Rows()
        rows.append(self.ids, [vector_meta(c, self.documents[c.doc_id]) for c in self.chunks])
        return rows

    def allowed(self, where: SearchFilter) -> np.ndarray:
        """A boolean mask of the rows `where` lets through."""
        return self._metadata.matching(where)


@dataclass
class RetrievalResult:
    passages: list[Passage]
    language: str
    timings: dict[str, float]
    query_vector: np.ndarray | None = None  # reused by the composer


def vector_meta(chunk: Chunk, doc: Document) -> VectorMeta:
    return VectorMeta(doc_id=doc.id, lang=chunk.lang, source=doc.source, date=doc.date, path=doc.path)

