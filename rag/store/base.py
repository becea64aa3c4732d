"""The `VectorStore` protocol: where chunk vectors live, and how they are searched.

In: integer chunk ids, L2-normalised float32 vectors (n, dim) and per-vector metadata
(`VectorMeta`). Out: `(chunk_id, score)` pairs, best first, score = inner product (cosine).
Filters (`SearchFilter`) are applied inside the search, not after it, so `k` results come back
even when most of the corpus is filtered out.
"""

from __future__ import annotations

import datetime
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MANIFEST = "store.json"  # written by every store's save(): which backend, dim, index type, params
# "auto" stores are exact up to this many vectors, then approximate (IVF-SQ8). From eval/bench_scale.py at 100k
# clustered 384-d vectors on 2 cores: flat p50 8.7 ms, Recall@10 1.0; IVF-SQ8 (nprobe 48) 0.67 ms, Recall@10 0.970
# (0.986 with a 5% filter), a third of the memory. Below ~50k an exact search costs a few ms: not worth any recall.
ANN_THRESHOLD = 50_000


@dataclass(frozen=True)
class VectorMeta:
    """What a store keeps beside each vector, so that filters can run inside the search."""

    doc_id: str
    lang: str
    source: str | None = None
    date: str | None = None  # ISO "YYYY-MM-DD" (or a prefix of it) when known
    path: str = ""


_DATE_PREFIX = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def is_date_prefix(value: str) -> bool:
    """Whether `value` is a calendar date or its prefix: "2023", "2023-03", "2023-03-22" (not "2023-13-45")."""
    match = _DATE_PREFIX.fullmatch(value)
    if not match:
        return False
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class SearchFilter:
    """Restrict a search. Every given field must match; None means "any". A date that is no date is refused:
    it would otherwise match nothing, in silence."""

    langs: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    paths: tuple[str, ...] | None = None
    doc_ids: tuple[str, ...] | None = None
    date_from: str | None = None  # inclusive, ISO prefix compare
    date_to: str | None = None

    def __post_init__(self) -> None:
        for which, value in (("from", self.date_from), ("to", self.date_to)):
            if value is not None and not is_date_prefix(value):
                raise ValueError(f"The {which} date {value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")

    def key(self) -> tuple:
        """The filter as a hashable value, for caches (a list given where a tuple belongs is read as one)."""
        return tuple(tuple(v) if isinstance(v, list | set | frozenset) else v
                     for v in (self.langs, self.sources, self.paths, self.doc_ids, self.date_from, self.date_to))

    def matches(self, meta: VectorMeta) -> bool:
        if self.langs is not None and meta.lang not in self.langs:
            return False
        if self.sources is not None and (meta.source or "") not in self.sources:
            return False
        if self.paths is not None and meta.path not in self.paths:
            return False
        if self.doc_ids is not None and meta.doc_id not in self.doc_ids:
            return False
        if self.date_from is not None and (not meta.date or meta.date < self.date_from):
            return False
        if self.date_to is not None and (not meta.date or meta.date[: len(self.date_to)] > self.date_to):
            return False
        return True


class VectorStore(Protocol):
    """A persistent set of (id, vector, metadata) searchable by inner product."""

    dim: int

    def add(self, ids: Sequence[int], vectors: np.ndarray, metadata: Sequence[VectorMeta]) -> None: ...

    def remove(self, ids: Sequence[int]) -> None: ...

    def search(
        self, vectors: np.ndarray, k: int, where: SearchFilter | None = None
    ) -> list[list[tuple[int, float]]]:
        """For each query row in `vectors` (m, dim): up to k (id, score) pairs, best first."""
        ...

    def save(self, directory: Path) -> None:
        """Write everything the store needs into `directory` (which the caller renames into place)."""
        ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class IndexParams:
    """Tunables of the approximate indexes, shared by the FAISS and Milvus backends.

    Build-time values (hnsw_m, hnsw_ef_construction, ivf_nlist, pq_m) are recorded in the saved
    store; search-time values (hnsw_ef_search, ivf_nprobe, exact_filter_fraction, mmap) can be
    changed when a store is opened.
    """

    hnsw_m: int = 16  # graph degree (neighbours per node; 2x on the bottom layer)
    hnsw_ef_construction: int = 40
    hnsw_ef_search: int = 128
    ivf_nlist: int = 0  # 0: about 2 * sqrt(n), at least 40 training points per list
    ivf_nprobe: int = 48
    pq_m: int = 48  # IVF-PQ bytes per vector (rounded down to a divisor of dim)
    exact_filter_fraction: float = 0.1  # ANN: filters passing less than this share search exhaustively
    compact_fraction: float = 0.2  # rebuild (HNSW) or relabel (IVF) when this share of rows is dead
    mmap: bool = True  # FAISS: memory-map the index file on open (copied into RAM on first change)


class ReadWriteLock:
    """Many concurrent readers (searches) or one writer (add, remove, save)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and not self._readers)
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


def checked_batch(ids: Sequence[int], vectors: np.ndarray, metadata: Sequence[VectorMeta],
                  dim: int) -> tuple[np.ndarray, np.ndarray]:
    """What `add()` receives, checked: (int64 ids, unit float32 rows), or a ValueError saying what is wrong."""
    ext = np.asarray(ids, dtype=np.int64).reshape(-1)
    x = unit_rows(vectors, dim)
    if not (len(ext) == len(x) == len(metadata)):
        raise ValueError(f"add() got {len(ext)} ids, {len(x)} vectors and {len(metadata)} metadata")
    if len(np.unique(ext)) != len(ext):
        raise ValueError("add() got the same id twice in one call")
    return ext, x


def unit_rows(vectors: np.ndarray, dim: int, what: str = "vectors") -> np.ndarray:
    """`vectors` as a C-contiguous float32 (n, dim) array of unit rows, or a ValueError saying why not."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != dim:
        raise ValueError(
            f"{what} have shape {array.shape}, but this store holds {dim}-d vectors: embed with the "
            f"model the index was built with, or rebuild the index for the new model"
        )
    if array.size:
        if not np.isfinite(array).all():
            raise ValueError(f"{what} contain NaN or infinite values")
        norms = np.linalg.norm(array, axis=1)
        bad = np.flatnonzero(np.abs(norms - 1.0) > 1e-2)
        if bad.size:
            raise ValueError(
                f"{what} must be L2-normalised (row {int(bad[0])} has norm {norms[bad[0]]:.4f}); "
                f"divide each row by its norm before adding or searching"
            )
    return np.ascontiguousarray(array)


def make_filter(**fields: Any) -> SearchFilter:
    """A `SearchFilter` from loose values: lists become tuples, empty values mean "any"."""
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if value in (None, "", [], ()):
            continue
        clean[name] = tuple(value) if isinstance(value, list | tuple | set) else value
        if name in {"langs", "sources", "paths", "doc_ids"} and isinstance(value, str):
            clean[name] = (value,)
    return SearchFilter(**clean)
