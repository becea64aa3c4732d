"""The `VectorStore` protocol: where chunk vectors live, and how they are searched.

In: integer chunk ids, L2-normalised float32 vectors (n, dim) and per-vector metadata
(`VectorMeta`). Out: `(chunk_id, score)` pairs, best first, score = inner product (cosine).
Filters (`SearchFilter`) are applied inside the search, not after it, so `k` results come back
even when most of the corpus is filtered out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np


@dataclass(frozen=True)
class VectorMeta:
    """What a store keeps beside each vector, so that filters can run inside the search."""

    doc_id: str
    lang: str
    source: str | None = None
    date: str | None = None  # ISO "YYYY-MM-DD" (or a prefix of it) when known
    path: str = ""


@dataclass(frozen=True)
class SearchFilter:
    """Restrict a search. Every given field must match; None means "any"."""

    langs: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    paths: tuple[str, ...] | None = None
    doc_ids: tuple[str, ...] | None = None
    date_from: str | None = None  # inclusive, ISO prefix compare
    date_to: str | None = None

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
