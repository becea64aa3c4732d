"""FAISS vector store: exact inner-product search for small corpora, HNSW or IVF above a size.

In: int64 chunk ids, unit float32 vectors (n, dim) and one `VectorMeta` per vector.
Out: for each query, up to k (chunk id, inner product) pairs, best first.

Rows. Every vector sits in a row; the FAISS labels are row numbers. Numpy columns (rag/store/rows.py) hold, per
row, the chunk id, whether the row is alive, and the metadata (strings as int32 codes into a
vocabulary, dates as bytes), so the rows a `SearchFilter` allows come out of a few vectorised
compares. They become a `faiss.IDSelectorBitmap` (one bit per row: O(1) membership, n/8 bytes,
cached per filter until the next change) passed in `faiss.SearchParameters`, so the filter acts
inside the search. k results come back even when 95% of the rows are filtered out: a filter
that passes fewer than `exact_filter_fraction` of the rows (default 10%) is searched
exhaustively over the allowed rows (HNSW: over its own vector storage, one bit test per row plus
one dot product per allowed row; IVF-PQ: every inverted list alike; IVF-SQ8: the allowed rows'
codes copied into a flat index of their own on the filter's first search, rag/store/faiss_index.py,
so a search costs the allowed rows alone), which is exact up to quantisation; a wider filter
widens the ANN search (efSearch, nprobe) by up to 4x, and an ANN search that still returns fewer
than k is redone exhaustively.

Index types (`FAISS_KINDS`):
- flat: exact, inner products in numpy (rag/store/flat.py: no FAISS import for a small corpus). remove()
  deletes at once; later rows move up, the columns too.
- hnsw, hnswsq: IndexHNSWFlat, or IndexHNSWSQ with 8-bit codes (a quarter of the memory). An
  HNSW graph cannot delete: removed rows become tombstones that the selector excludes from every
  search, and once they exceed `compact_fraction` of the rows save() rebuilds the graph from the
  stored vectors (a lazy rebuild: a re-index pays for it at most once, at save time).
- ivfsq8, ivfpq: IVF with 8-bit scalar or product quantisation, trained on the vectors present
  when it is built (the first add). remove() deletes from the inverted lists at once; the dead
  rows' columns are dropped (and the lists relabelled) once they exceed `compact_fraction`.
- auto: flat until the store holds `ann_threshold` vectors, then `AUTO_ANN` (ivfsq8), trained and
  built once from all the flat index's vectors.

add() is an upsert: ids already present are replaced. Searches run concurrently (FAISS releases
the GIL); add, remove and save wait for them and run alone.

On disk (save): index.faiss (faiss.write_index; a flat index: vectors.npy), rows.npz (the columns
and vocabularies) and store.json. open loads the index memory-mapped (FAISS: IO_FLAG_MMAP_IFC |
IO_FLAG_READ_ONLY): the pages are shared between processes and read on demand; the first add or
remove copies a FAISS index into memory first, since FAISS cannot grow a mapped index. A flat
index.faiss of an index written before vectors.npy is read through FAISS once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.store.base import (
    ANN_THRESHOLD,
    MANIFEST,
    IndexParams,
    ReadWriteLock,
    SearchFilter,
    VectorMeta,
    checked_batch,
    unit_rows,
)
from rag.store.faiss_index import AUTO_ANN, FAISS_KINDS, build_index, faiss, sq_subset
from rag.store.flat import FlatIndex
from rag.store.rows import Rows

log = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
VECTORS_FILE = "vectors.npy"  # a flat index
ROWS_FILE = "rows.npz"
_FILTER_CACHE_SIZE = 32
_MAX_WIDEN = 4.0


_SUBSETS_KEPT = 4  # narrow filters kept as indexes of their own, each < exact_filter_fraction of the codes


@dataclass
class _Allowed:
    """The rows a filter allows: a boolean per row; the same as a FAISS selector, made for a FAISS search; for a
    narrow filter over IVF-SQ8, once searched, those rows as a flat index of their own with each vector's label."""

    mask: np.ndarray
    count: int
    subset: tuple[faiss.Index, np.ndarray] | None = None

    @cached_property
    def selector(self) -> faiss.IDSelector:
        bitmap = np.packbits(self.mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(self.mask), faiss.swig_ptr(bitmap))
        selector.referenced_objects = [bitmap]  # it points into the bitmap (FAISS's own way of keeping one alive)
        return selector


class FaissStore:
    """A `VectorStore` over one FAISS index (see the module docstring for the layout)."""

    def __init__(self, dim: int, *, kind: str = "auto", ann_threshold: int = ANN_THRESHOLD,
                 params: IndexParams | None = None) -> None:
        if kind != "auto" and kind not in FAISS_KINDS:
            raise ValueError(f"unknown FAISS index type {kind!r}; choose one of auto, {', '.join(FAISS_KINDS)}")
        self.dim = dim
        self.requested = kind
        self.ann_threshold = ann_threshold
        self.params = params or IndexParams()
        self.kind = "flat" if kind == "auto" else kind
        # IVF and HNSW-SQ indexes are trained on their first vectors: until then there is none.
        self._index: faiss.Index | FlatIndex | None = None
        if self.kind in ("flat", "hnsw"):
            self._index = build_index(self.kind, np.zeros((0, dim), np.float32), self.params)
        self._rows = Rows()
        self._slot: dict[int, int] = {}  # chunk id -> row of its live vector
        self._dead_in_index = 0  # HNSW tombstones: dead rows still in the graph
        self._mapped = False
        self._source: Path | None = None  # the directory a loaded store came from
        self._lock = ReadWriteLock()
        self._cache: OrderedDict[tuple, _Allowed] = OrderedDict()
        self._with_subset: deque[_Allowed] = deque()  # those holding a subset, oldest first
        self._cache_lock = threading.Lock()

    # ---- protocol ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slot)

    def add(self, ids: Sequence[int], vectors: np.ndarray, metadata: Sequence[VectorMeta]) -> None:
        ext, x = checked_batch(ids, vectors, metadata, self.dim)
        if not len(ext):
            return
        with self._lock.writing():
            self._own_index()
            self._remove_locked(ext)
            first = self._rows.n  # the new rows, which are also the new vectors' FAISS labels
            if self._index is None:
                self._index = build_index(self.kind, x, self.params)
            elif self.kind.startswith("ivf"):
                self._index.add_with_ids(x, np.arange(first, first + len(x), dtype=np.int64))
            else:
                self._index.add(x)
            self._rows.append(ext, metadata)
            self._slot.update(zip(ext.tolist(), range(first, first + len(ext)), strict=True))
            self._changed()
            if self.requested == "auto" and self.kind == "flat" and len(self) >= self.ann_threshold:
                log.info("%d vectors reached ann_threshold=%d: building a %s index",
                         len(self), self.ann_threshold, AUTO_ANN)
                self._rebuild(AUTO_ANN)

    def remove(self, ids: Sequence[int]) -> None:
        ext = np.asarray(ids, dtype=np.int64).reshape(-1)
        with self._lock.writing():
            self._own_index()
            self._remove_locked(ext)

    def search(self, vectors: np.ndarray, k: int, where: SearchFilter | None = None
               ) -> list[list[tuple[int, float]]]:
        q = unit_rows(vectors, self.dim, "query vectors")
        if k <= 0 or not len(q):
            return [[] for _ in range(len(q))]
        with self._lock.reading():
            allowed = self._allowed(where)
            available = len(self) if allowed is None else allowed.count
            if self._index is None or available == 0:
                return [[] for _ in range(len(q))]
            exhaustive = allowed is not None and allowed.count < self.params.exact_filter_fraction * self._rows.n
            if exhaustive and self.kind == "ivfsq8":
                subset, subset_labels = self._subset(allowed)
                scores, found = subset.search(q, min(k, subset.ntotal))
                labels = np.where(found >= 0, subset_labels[found], -1)
            else:
                scores, labels = self._search_index(q, k, allowed, exhaustive)
            short = (labels >= 0).sum(axis=1) < min(k, available)
            if short.any() and self.kind != "flat" and not exhaustive:
                scores[short], labels[short] = self._search_index(q[short], k, allowed, exhaustive=True)
            ext = self._rows.ext
            return [[(int(ext[label]), float(score)) for score, label in zip(row_s, row_l, strict=True) if label >= 0]
                    for row_s, row_l in zip(scores, labels, strict=True)]

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock.writing():
            if self._dead_in_index > self.params.compact_fraction * self._rows.n:
                log.info("rebuilding the %s graph without its %d removed vectors", self.kind, self._dead_in_index)
                self._own_index()
                self._rebuild(self.kind)
            if self._source is not None and directory.resolve() == self._source.resolve():
                self._own_index()  # never truncate the file the index is mapped from
            if isinstance(self._index, FlatIndex):
                self._index.save(directory / VECTORS_FILE)
            elif self._index is not None:
                faiss.write_index(self._index, str(directory / INDEX_FILE))
            np.savez(directory / ROWS_FILE, **self._rows.to_arrays())
            manifest = {
                "backend": "faiss", "dim": self.dim, "index": self.kind, "requested": self.requested,
                "ann_threshold": self.ann_threshold, "count": len(self),
                "dead_in_index": self._dead_in_index, "params": asdict(self.params),
            }
            (directory / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, manifest: dict, **tunables: object) -> FaissStore:
        """Open what save() wrote into `directory`; `tunables` override search-time IndexParams."""
        saved = {f.name: manifest["params"][f.name] for f in fields(IndexParams) if f.name in manifest["params"]}
        params = IndexParams(**{**saved, **tunables})
        store = cls(manifest["dim"], kind=manifest["requested"], ann_threshold=manifest["ann_threshold"],
                    params=params)
        store.kind = manifest["index"]
        index_path = directory / INDEX_FILE
        if store.kind == "flat" and (directory / VECTORS_FILE).exists():
            store._index = FlatIndex.load(directory / VECTORS_FILE, params.mmap)
            store._mapped = params.mmap
            store._source = directory
        elif store.kind == "flat" and index_path.exists():  # written before vectors.npy: the vectors, through FAISS
            written = faiss.read_index(str(index_path))
            store._index = FlatIndex(written.reconstruct_n(0, written.ntotal))
        elif index_path.exists():
            flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if params.mmap else 0
            store._index = faiss.read_index(str(index_path), flags)
            store._mapped = params.mmap
            store._source = directory
        else:
            store._index = None
        with np.load(directory / ROWS_FILE) as arrays:
            store._rows = Rows.from_arrays({name: arrays[name] for name in arrays.files})
        store._reslot()
        store._dead_in_index = int(manifest.get("dead_in_index", 0))
        return store

    # ---- internals (callers hold the lock) ---------------------------------------------------

    def _own_index(self) -> None:
        """Copy a memory-mapped index into memory before changing it (FAISS can't grow a mapping): read again from
        its file (40 ms at 100k vectors; serialising the mapping took 0.2-0.3 s), or serialised if the file is gone."""
        if self._mapped and isinstance(self._index, FlatIndex):
            self._index.vectors = np.array(self._index.vectors)
        elif self._mapped and self._index is not None:
            try:
                self._index = faiss.read_index(str(self._source / INDEX_FILE))
            except RuntimeError:  # the generation it came from was removed meanwhile: the mapping still holds it
                self._index = faiss.deserialize_index(faiss.serialize_index(self._index))
        self._mapped = False

    def _changed(self) -> None:
        with self._cache_lock:
            self._cache.clear()
            self._with_subset.clear()

    def _remove_locked(self, ext: np.ndarray) -> None:
        rows = np.array([self._slot.pop(i) for i in ext.tolist() if i in self._slot], dtype=np.int64)
        if not len(rows):
            return
        self._changed()
        if self.kind == "flat":
            self._index.remove(rows)
            keep = np.ones(self._rows.n, dtype=bool)
            keep[rows] = False
            self._rows.keep(keep)
            self._reslot()
            return
        self._rows.alive[rows] = False
        if self.kind.startswith("hnsw"):
            self._dead_in_index += len(rows)
            return
        self._index.remove_ids(faiss.IDSelectorBatch(rows))
        dead = self._rows.n - len(self._slot)
        if dead > self.params.compact_fraction * self._rows.n:
            self._relabel_ivf()

    def _reslot(self) -> None:
        live = np.flatnonzero(self._rows.alive)
        self._slot = dict(zip(self._rows.ext[live].tolist(), live.tolist(), strict=True))

    def _relabel_ivf(self) -> None:
        """Drop dead rows from the columns and renumber the IVF labels to match."""
        alive = self._rows.alive.copy()
        new_label = np.cumsum(alive, dtype=np.int64) - 1
        invlists = faiss.extract_index_ivf(self._index).invlists
        for list_no in range(invlists.nlist):
            size = invlists.list_size(list_no)
            if size:
                labels = new_label[faiss.rev_swig_ptr(invlists.get_ids(list_no), size)]
                codes = faiss.rev_swig_ptr(invlists.get_codes(list_no), size * invlists.code_size).copy()
                invlists.update_entries(list_no, 0, size, faiss.swig_ptr(labels), faiss.swig_ptr(codes))
        self._rows.keep(alive)
        self._reslot()

    def _live_vectors(self) -> np.ndarray:
        if self.kind == "flat":
            return np.asarray(self._index.vectors)[self._rows.alive]
        storage = faiss.downcast_index(self._index.storage)
        return storage.reconstruct_n(0, self._index.ntotal)[self._rows.alive]

    def _rebuild(self, kind: str) -> None:
        """Rebuild as `kind` from the current flat or HNSW index, without dead rows."""
        vectors = self._live_vectors()
        self._index = build_index(kind, vectors, self.params)
        self.kind = kind
        self._rows.keep(self._rows.alive.copy())
        self._reslot()
        self._dead_in_index = 0
        self._changed()

    def _allowed(self, where: SearchFilter | None) -> _Allowed | None:
        """The rows a search may return, or None when that is every row in the index."""
        if where is None and not self._dead_in_index:
            return None
        key = () if where is None else where.key()
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        mask = self._rows.alive.copy() if where is None else self._rows.matching(where)
        allowed = _Allowed(mask, int(mask.sum()))
        with self._cache_lock:
            self._cache[key] = allowed
            while len(self._cache) > _FILTER_CACHE_SIZE:
                self._cache.popitem(last=False)
        return allowed

    def _subset(self, allowed: _Allowed) -> tuple[faiss.Index, np.ndarray]:
        """The allowed rows of IVF-SQ8 as a flat index of their codes (`sq_subset`): made on the filter's first
        search, kept for the last `_SUBSETS_KEPT` filters."""
        subset = allowed.subset
        if subset is None:  # two searches may both make it: alike, and the later one stays
            subset = allowed.subset = sq_subset(self._index, allowed.mask)
            with self._cache_lock:
                self._with_subset.append(allowed)
                while len(self._with_subset) > _SUBSETS_KEPT:
                    self._with_subset.popleft().subset = None
        return subset

    def _search_index(self, q: np.ndarray, k: int, allowed: _Allowed | None, exhaustive: bool
                      ) -> tuple[np.ndarray, np.ndarray]:
        index = self._index
        if isinstance(index, FlatIndex):
            return index.search(q, k, None if allowed is None else allowed.mask)
        # A filter passing a share s of the rows leaves ~s of the candidates an ANN search visits:
        # widen the search by 1/s (at most _MAX_WIDEN times) so that enough of them pass.
        widen = 1.0 if allowed is None else min(_MAX_WIDEN, self._rows.n / max(allowed.count, 1))
        if self.kind.startswith("hnsw"):
            if exhaustive:
                index = faiss.downcast_index(self._index.storage)
                params = faiss.SearchParameters()
            else:
                params = faiss.SearchParametersHNSW()
                params.efSearch = max(int(self.params.hnsw_ef_search * widen), k)
        else:
            ivf = faiss.extract_index_ivf(self._index)
            params = faiss.SearchParametersIVF()
            params.nprobe = ivf.nlist if exhaustive else min(int(self.params.ivf_nprobe * widen), ivf.nlist)
        if allowed is not None:
            params.sel = allowed.selector
        scores, labels = index.search(q, min(k, index.ntotal), params=params)
        return scores, labels
