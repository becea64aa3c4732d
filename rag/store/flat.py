"""The flat index: exact inner-product search over a matrix of vectors, in numpy.

In: unit float32 vectors (n, dim); queries (m, dim) and optionally a boolean mask of the rows a search may return.
Out: for each query the k best (score, row) pairs, best first, padded with row -1 when fewer rows are allowed. Rows are
numbered in the order added; `remove` closes the gaps (later rows move up), as FAISS's IndexFlat does.

A flat store holds fewer than `ANN_THRESHOLD` vectors (50k), where one pass of inner products is the whole search (a
few milliseconds) and FAISS would add nothing but its import, a quarter of a second of every new process: a cold
`rag ask` over a small corpus does not load it. Saved as one `.npy` file, memory-mapped at open.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.ranking import best_first


class FlatIndex:
    """`FlatIndex(vectors)`; `.add(x)`, `.remove(rows)`, `.search(queries, k, allowed)`, `.save(path)`, `load`."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    @property
    def ntotal(self) -> int:
        return len(self.vectors)

    def add(self, x: np.ndarray) -> None:
        self.vectors = np.concatenate([self.vectors, x])  # a new array: a mapped file is never written

    def remove(self, rows: np.ndarray) -> None:
        self.vectors = np.delete(self.vectors, rows, axis=0)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows), each (m, k): the best rows by inner product, ties in row order; -1 rows (score -inf)
        where fewer than k rows are allowed."""
        # einsum, not a matrix product: numpy's BLAS would run it on its own threads, which then spin for a while on
        # the cores the query encoder's threads need next (an encode after one took 52 ms instead of 15 on 2 cores).
        scores = np.einsum("qd,nd->qn", queries, self.vectors)
        if allowed is not None:
            scores[:, ~allowed] = -np.inf
        k = max(0, min(k, self.ntotal))
        rows = np.array([best_first(row, k) for row in scores], dtype=np.int64).reshape(len(queries), k)
        top = np.take_along_axis(scores, rows, axis=1)
        return top, np.where(np.isneginf(top), -1, rows)

    def save(self, path: Path) -> None:
        with path.open("wb") as out:  # np.save given a name would add ".npy" to one that lacks it
            np.save(out, np.ascontiguousarray(self.vectors, dtype=np.float32))

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> FlatIndex:
        return cls(np.load(path, mmap_mode="r" if mmap else None))
