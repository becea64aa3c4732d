"""The whole flow in one place: `RAG` builds, opens, updates, searches and answers over an index.

    files ─► ingest (load, clean, segment, find duplicates) ─► Document[]
          ─► chunk ─► Chunk[] ─► embed ─► VectorStore        + BM25 over folded tokens
    question ─► rewrite follow-up ─► hybrid retrieve ─► Passage[] ─► compose + verify ─► Answer

An index directory holds generations: `gen-NNNNNN-<random>/` folders and a `CURRENT` file naming the
live one (rag/index/generations.py). A build or update holds the directory's writer lock, starts from the
live generation (another process's update is kept, not overwritten), writes a new generation
completely, then replaces `CURRENT` atomically: an interrupted build leaves the previous index readable.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rag import ingest
from rag.chunk import ChunkTable, chunk_document, embedding_text, keyword_text
from rag.compose import create_composer
from rag.compose.citations import in_question_script
from rag.compose.messages import abstain_text
from rag.embed import CachedEmbedder, create_embedder, embedding_progress
from rag.index import generations
from rag.index.files import FORMAT_VERSION, IndexUnavailable, read_generation, write_generation
from rag.index.snapshot import Snapshot
from rag.ingest.dedup import ShingleIndex
from rag.ingest.errors import IngestError
from rag.lang.dictionary import preload as preload_dictionary
from rag.lang.text import has_words, in_chinese_script
from rag.paths import cache_root, file_key, utf8_encodable
from rag.query.analyze import Query
from rag.query.rewrite import rewrite_followup
from rag.retrieve import (
    CorpusView,
    RetrievalParams,
    RetrievalResult,
    Retriever,
    anchor_vectors,
    document_context,
    vector_meta,
)
from rag.retrieve.lexical import LexicalIndex, tokenize_all
from rag.retrieve.sentences import SentenceIndex
from rag.settings import Settings, default_paths
from rag.store import create_store_from_settings
from rag.store.base import SearchFilter, make_filter
from rag.types import AddReport, Answer, Document, Passage, StoryCopy

log = logging.getLogger(__name__)


class RAG:
    """A question-answering index over a set of articles. Use `RAG.build(paths)` or `RAG.open(dir)`."""

    def __init__(self, index_dir: str | Path, settings: Settings) -> None:
        self.index_dir = Path(index_dir)
        self.settings = settings
        self.errors: list[IngestError] = []
        self._write_lock = threading.Lock()
        s = settings
        self.embedder = CachedEmbedder(
            create_embedder(s.embedder, s.embedder_model, s.device, s.embed_batch_size), s.cache_dir or cache_root(),
            s.embed_batch_size,
        )
        self.composer = create_composer(s, self.embedder)
        self._state: Snapshot | None = None
        self._generation: Path | None = None  # the generation `_state` was read from or saved as
        self.format_version = FORMAT_VERSION  # of the generation `_state` was read from
        self._replace = False  # a build from scratch: the next write replaces whatever the directory holds
        preload_dictionary()  # cross-lingual questions need it; parsing takes seconds

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def build(cls, paths: Sequence[str | Path], index_dir: str | Path | None = None,
              settings: Settings | None = None, progress: bool = True) -> RAG:
        """Index `paths` (files and folders) from scratch into `index_dir`."""
        settings = settings or Settings.load()
        rag = cls(index_dir or settings.index_dir, settings)
        rag._state = rag._empty_state()
        rag._replace = True
        rag.add(paths, progress=progress)
        return rag

    @classmethod
    def open(cls, index_dir: str | Path | None = None, settings: Settings | None = None) -> RAG:
        """Open an index built earlier; a clear error if there is none or it needs another embedder."""
        settings = settings or Settings.load()
        rag = cls(index_dir or settings.index_dir, settings)
        rag._state = rag._load()
        return rag

    @classmethod
    def open_or_create(cls, index_dir: str | Path | None = None, settings: Settings | None = None) -> RAG:
        """The index in `index_dir`, or an empty one there when it holds none yet; either way, `add()` builds on
        whatever another process publishes there meanwhile (two `rag index` runs into one folder keep both)."""
        settings = settings or Settings.load()
        rag = cls(index_dir or settings.index_dir, settings)
        rag._state = rag._load() if generations.current(rag.index_dir) is not None else rag._empty_state()
        return rag

    @classmethod
    def open_default(cls, settings: Settings | None = None, progress: bool = True) -> RAG:
        """The default index (settings.index_dir) over settings.corpus, built or refreshed as needed."""
        settings = settings or Settings.load()
        index_dir, corpus = default_paths(settings)
        try:
            rag = cls.open_or_create(index_dir, settings)
        except IndexUnavailable as exc:  # the default index is derived data: rebuild rather than fail
            log.warning("Rebuilding the default index: %s", exc)
            return cls.build(corpus, index_dir=index_dir, settings=settings, progress=progress)
        if rag.format_version < FORMAT_VERSION:
            log.warning("Rebuilding the default index: it has format %d, this version writes %d",
                        rag.format_version, FORMAT_VERSION)
            return cls.build(corpus, index_dir=index_dir, settings=settings, progress=progress)
        rag.add(corpus, progress=progress)  # only new or changed files cost anything
        return rag

    # ---- reading ------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load now what a first question would otherwise wait for (a server calls it before serving): the
        composer's models and the keyword leg's pinyin spellings of the corpus's Han terms (English names; read
        from the index, or made from the whole vocabulary of one saved before they were)."""
        self.composer.warm_up()
        self._live().lexical.warm_up()

    def documents(self) -> list[Document]:
        return list(self._live().documents.values())

    def search(self, question: str, k: int = 10, filters: SearchFilter | dict | None = None,
               mode: str | None = None) -> list[Passage]:
        """Ranked passages for `question` (any language or script)."""
        return self.retrieve(question, k, filters, mode).passages

    def ask(self, question: str, k: int = 5, history: Sequence[tuple[str, str]] | None = None,
            filters: SearchFilter | dict | None = None, mode: str | None = None) -> Answer:
        """A short answer to `question` with numbered, checked citations, or an honest abstention."""
        started = time.perf_counter()
        asked = Query.of(question, self.settings.max_question_chars)
        question, language = asked.text, asked.language
        if not has_words(question):  # "？？？", emoji, invisible marks: nothing to search for, nothing to cite
            return Answer(question=question, text=abstain_text(language), citations=[], abstained=True,
                          language=language, notes=["the question holds no words to search for"])
        self.composer.prefetch()  # the reader's graph loads while the passages are retrieved
        query = Query.of(rewrite_followup(question, list(history)), self.settings.max_question_chars) \
            if history else asked
        result = self._retrieve(query, k, filters, mode)
        documents = self._live().documents
        evidence = document_context(result.passages, documents, self.settings.context_docs)
        if not filters:  # a filter (lang=zh-hans) may rule the copy out
            evidence = in_question_script(evidence, documents, language)
        answer = self.composer.compose(query.text, evidence, language, result.query_vector)
        # A Chinese answer reads in the question's script: a story with a copy in it is quoted from that copy
        # (in_question_script), any other quote is converted; the citation cards keep the article's own text.
        answer.text = in_chinese_script(answer.text, language)
        for citation in answer.citations:  # what a reader needs to find each copy: title, outlet, date
            citation.copies = [StoryCopy.of(documents[d]) for d in citation.also_in if d in documents]
        answer.passages = result.passages
        answer.question = question
        answer.rewritten_question = query.text if query.text != question else None
        answer.timings = {**result.timings, **answer.timings, "total": time.perf_counter() - started}
        return answer

    def retrieve(self, question: str, k: int = 10, filters: SearchFilter | dict | None = None,
                 mode: str | None = None) -> RetrievalResult:
        """Like `search`, with the question's language, per-stage timings and query vector."""
        return self._retrieve(Query.of(question, self.settings.max_question_chars), k, filters, mode)

    def _retrieve(self, query: Query, k: int, filters: SearchFilter | dict | None, mode: str | None
                  ) -> RetrievalResult:
        if k < 1:
            raise ValueError("k must be at least 1")
        where = filters if isinstance(filters, SearchFilter) or filters is None else make_filter(**filters)
        state = self._live()
        if not state.chunks or not has_words(query.text):
            return RetrievalResult(passages=[], language=query.language, timings={})
        return state.retriever.search(query, k=k, where=where, mode=mode or self.settings.mode)

    # ---- updating -----------------------------------------------------------------------------

    def add(self, paths: Sequence[str | Path], progress: bool | Callable[[float, str], None] = True) -> AddReport:
        """Index new or changed files among `paths`; unchanged files cost nothing. Bad files are reported."""
        report = AddReport()
        notify = progress if callable(progress) else None
        with self._write_lock, generations.writer_lock(self.index_dir):
            state = self._latest()
            documents, chunks, ids, files, sentences = state.working_copy()
            store, lexical = state.store, state.lexical
            found: list[Path] = []
            for given in paths:  # one bad path is reported, the others still get indexed
                try:
                    walked = ingest.iter_files([given], self.settings.follow_symlinks, report.errors)
                except IngestError as exc:
                    report.errors.append(exc)
                    continue
                found.extend(f for f in walked if f not in found)
            new_docs: list[Document] = []
            for n, path in enumerate(found):
                if notify:
                    notify(n / max(len(found), 1) * 0.3, f"Reading {path.name}")
                key = file_key(path, self.index_dir)
                try:
                    if not utf8_encodable(key):
                        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
                        raise IngestError(shown, "the file name is not valid UTF-8 text: rename the file")
                    digest = ingest.file_hash(path)
                    if files.get(key) == digest:
                        report.skipped.append(key)
                        continue
                    loaded = ingest.load_file_result(path, self.settings.max_file_mb)
                except (IngestError, OSError) as exc:  # one unreadable file costs that file, not the batch
                    error = exc if isinstance(exc, IngestError) else IngestError(path, f"cannot read: {exc}")
                    log.warning("Skipped %s", error)
                    report.errors.append(error)
                    continue
                report.errors.extend(loaded.errors)  # skipped .jsonl lines
                for doc in loaded.documents:
                    doc.path = key
                stale = [d.id for d in documents.values() if d.path == key]
                if stale:
                    report.replaced.append(key)
                chunks, ids, lexical = self._drop(stale, documents, chunks, ids, store, sentences, lexical)
                ingest.make_ids_unique(loaded.documents, set(documents) | {d.id for d in new_docs})
                files[key] = digest
                new_docs.extend(loaded.documents)
            shingles = state.shingles
            if new_docs or report.replaced:  # unchanged documents keep their marks
                shingles = self._mark_stories(state, documents, new_docs)

            s = self.settings
            new_chunks = [c for d in new_docs for c in chunk_document(d, s.chunk_size, s.chunk_overlap,
                                                                       s.min_chunk_chars)]
            if notify:
                notify(0.35, f"Embedding {len(new_chunks)} chunks")
            vectors = self.embedder.embed_passages([embedding_text(c, s.embed_title) for c in new_chunks],
                                                   progress=embedding_progress(progress, 0.35, 0.25, "chunks"))
            new_ids = list(range(state.next_id, state.next_id + len(new_chunks)))
            metas = {c.id: vector_meta(documents[c.doc_id]) for c in new_chunks}
            if new_chunks:
                store.add(new_ids, vectors, [metas[c.id] for c in new_chunks])
            if sentences is not None:
                if notify:
                    notify(0.6, "Embedding sentences")
                sentences.add(new_docs, new_chunks, self.embedder, metas,
                              progress=embedding_progress(progress, 0.6, 0.3, "sentences"))
            chunks = chunks.appended(new_docs, new_chunks)
            ids = np.concatenate([ids, np.asarray(new_ids, dtype=np.int64)])
            lexical = lexical.appended(tokenize_all([keyword_text(c) for c in new_chunks]))
            report.added = [d.id for d in new_docs]
            self.errors = report.errors
            if notify:
                notify(0.9, "Saving the index")
            self._state = self._snapshot(documents, chunks, ids, files, state.next_id + len(new_chunks), store,
                                         sentences, lexical, shingles)
            unpublished = generations.current(self.index_dir) is None
            if report.added or len(self._state.documents) != len(state.documents) or unpublished:
                self._save(self._state)
        if report.errors:
            log.warning("%d file(s) skipped: %s", len(report.errors), "; ".join(map(str, report.errors)))
        return report

    def remove(self, doc_ids: Sequence[str]) -> int:
        """Delete documents by id; returns how many were removed."""
        with self._write_lock, generations.writer_lock(self.index_dir):
            state = self._latest()
            documents, chunks, ids, files, sentences = state.working_copy()
            gone = [d for d in doc_ids if d in documents]
            if not gone:
                return 0
            for doc_id in gone:
                files.pop(documents[doc_id].path, None)  # re-adding the file brings the article back
            chunks, ids, lexical = self._drop(gone, documents, chunks, ids, state.store, sentences, state.lexical)
            shingles = self._mark_stories(state, documents)
            self._state = self._snapshot(documents, chunks, ids, files, state.next_id, state.store, sentences, lexical,
                                         shingles)
            self._save(self._state)
        return len(gone)

    def _mark_stories(self, state: Snapshot, documents: dict[str, Document],
                      new_docs: Sequence[Document] = ()) -> ShingleIndex:
        """After `state`'s documents that are gone were dropped from `documents`: add `new_docs` to it, judge them and
        the copies whose first document is gone for duplicates, date the undated (mark_stories); their index."""
        shingles, again = state.shingle_index().without(_kept(state.documents, documents), list(documents.values()))
        documents.update((doc.id, doc) for doc in new_docs)
        return ingest.mark_stories(list(documents.values()), self.settings.duplicate_threshold, shingles, again)

    @staticmethod
    def _drop(doc_ids: Sequence[str], documents: dict[str, Document], chunks: ChunkTable, ids: np.ndarray,
              store: Any, sentences: SentenceIndex | None, lexical: LexicalIndex
              ) -> tuple[ChunkTable, np.ndarray, LexicalIndex]:
        """Remove documents (and their chunks, sentences and vectors) from the working copies (`documents`,
        `sentences`, the store); the chunk table, vector ids and keyword index without their rows."""
        if not doc_ids:
            return chunks, ids, lexical
        drop = set(doc_ids)
        kept_chunks, kept = chunks.without_documents(drop)
        dead = np.flatnonzero(~kept)
        if len(dead):
            store.remove(ids[dead].tolist())
        if sentences is not None:
            sentences.drop({chunks[row].id for row in dead.tolist()})
        for doc_id in drop:
            documents.pop(doc_id, None)
        return kept_chunks, ids[kept], lexical.kept(kept)

    # ---- state, persistence -------------------------------------------------------------------

    def _live(self) -> Snapshot:
        if self._state is None:
            raise IndexUnavailable("No index loaded: use RAG.build(paths) or RAG.open(index_dir)")
        return self._state

    def _latest(self) -> Snapshot:
        """The state to update (under the writer lock): ours, unless another process has published a generation
        since we read ours; then that one, so that its work is kept."""
        live = generations.current(self.index_dir)
        if not self._replace and live is not None and live != self._generation:
            self._state = self._load()
        return self._live()

    def _empty_state(self) -> Snapshot:
        store = create_store_from_settings(self.settings, self.embedder.dim)
        sentences = None
        if self.settings.embed_sentences:
            sentences = SentenceIndex(create_store_from_settings(self.settings, self.embedder.dim, "sentences"))
        return self._snapshot({}, ChunkTable.of([], []), np.zeros(0, dtype=np.int64), {}, 0, store, sentences,
                              LexicalIndex.build([]), ShingleIndex.empty())

    def _snapshot(self, documents: dict[str, Document], chunks: ChunkTable, ids: np.ndarray,
                  files: dict[str, str], next_id: int, store: Any, sentences: SentenceIndex | None,
                  lexical: LexicalIndex, shingles: ShingleIndex | None) -> Snapshot:
        """The next searchable state (`lexical` holds a row per chunk, `shingles` a row per document, in order)."""
        s = self.settings
        corpus = CorpusView(chunks=chunks, ids=ids, documents=documents, lexical=lexical, sentences=sentences)
        retriever = Retriever(self.embedder, store, corpus, RetrievalParams.from_settings(s), self._anchors)
        return Snapshot(documents, chunks, ids, files, next_id, store, sentences, retriever, shingles)

    @cached_property
    def _anchors(self) -> dict[str, np.ndarray]:
        return anchor_vectors(self.embedder)

    def _save(self, state: Snapshot) -> None:
        """Write a new generation, then make it live (rag/index/generations.py); call under the writer lock."""
        tmp = generations.staging(self.index_dir)
        write_generation(tmp, self.settings, self.embedder, state.documents, state.chunks, state.ids, state.files,
                         state.next_id, state.store, state.sentences, state.lexical, state.shingles)
        self._generation = generations.publish(self.index_dir, tmp)
        self.format_version = FORMAT_VERSION
        self._replace = False
        log.info("Index saved to %s (%d documents, %d chunks)", self._generation, len(state.documents),
                 len(state.chunks))

    def _load(self) -> Snapshot:
        """The live generation, read; a generation removed while it was being read (a writer's clean-up after a
        long read) is followed to the one that replaced it."""
        for attempt in range(3):
            try:
                return self._load_generation(generations.current(self.index_dir))
            except FileNotFoundError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _load_generation(self, generation: Path | None) -> Snapshot:
        saved = read_generation(generation, self.index_dir, self.settings, self.embedder)
        self.format_version = saved.format_version
        self._generation = generation
        return self._snapshot(saved.documents, saved.chunks, saved.ids, saved.files, saved.next_id, saved.store,
                              saved.sentences, saved.lexical, saved.shingles)


def _kept(before: dict[str, Document], after: dict[str, Document]) -> np.ndarray:
    """Which of the documents `before` an update (in their order) are still in `after`."""
    return np.fromiter((doc_id in after for doc_id in before), dtype=bool, count=len(before))


_default_rag: RAG | None = None
_default_lock = threading.Lock()


def ask(question: str, k: int = 5, history: Sequence[tuple[str, str]] | None = None,
        filters: SearchFilter | dict | None = None, mode: str | None = None) -> Answer:
    """Answer over the default index (seeds/ into index/, built on first use)."""
    global _default_rag
    with _default_lock:
        if _default_rag is None:
            _default_rag = RAG.open_default()
    return _default_rag.ask(question, k=k, history=history, filters=filters, mode=mode)
