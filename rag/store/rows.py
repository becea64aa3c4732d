"""A store's per-row columns: chunk id, alive flag, metadata (strings as int32 codes into vocabularies) and date.

In: ids and `VectorMeta`s, appended; a `SearchFilter`. Out: the boolean mask of the rows the filter allows, from a few
vectorised compares (the same rules as `SearchFilter.matches`); `to_arrays` / `from_arrays` for `rows.npz`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.store.base import SearchFilter, VectorMeta

STRING_COLUMNS = ("lang", "source", "path", "doc")


class Vocab:
    """Strings <-> int32 codes, so that string metadata lives in integer arrays."""

    def __init__(self, words: Sequence[str] = ()) -> None:
        self.words = list(words)
        self._codes = {word: i for i, word in enumerate(self.words)}

    def encode(self, values: Sequence[str]) -> np.ndarray:
        out = np.empty(len(values), dtype=np.int32)
        for i, value in enumerate(values):
            code = self._codes.get(value)
            if code is None:
                code = self._codes[value] = len(self.words)
                self.words.append(value)
            out[i] = code
        return out

    def known(self, values: Sequence[str]) -> np.ndarray:
        """Codes of those `values` that occur (unknown values can match no row)."""
        return np.array([self._codes[v] for v in values if v in self._codes], dtype=np.int32)


class Rows:
    """Per-row columns with amortised O(1) appends: chunk id, alive flag, metadata codes, date."""

    def __init__(self) -> None:
        self.n = 0
        self._ext = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._codes = {name: np.zeros(0, dtype=np.int32) for name in STRING_COLUMNS}
        self._date = np.zeros(0, dtype="S10")
        self.vocabs = {name: Vocab() for name in STRING_COLUMNS}

    @property
    def ext(self) -> np.ndarray:
        return self._ext[: self.n]

    @property
    def alive(self) -> np.ndarray:
        return self._alive[: self.n]

    def append(self, ids: np.ndarray, metadata: Sequence[VectorMeta]) -> None:
        m = len(ids)
        if self.n + m > len(self._ext):
            capacity = max(self.n + m, 2 * len(self._ext), 1024)
            self._ext = _resized(self._ext, capacity)
            self._alive = _resized(self._alive, capacity)
            self._codes = {name: _resized(col, capacity) for name, col in self._codes.items()}
            self._date = _resized(self._date, capacity)
        dates = np.array([(meta.date or "").encode() for meta in metadata], dtype=bytes)
        if dates.dtype.itemsize > self._date.dtype.itemsize:
            self._date = self._date.astype(dates.dtype)
        new = slice(self.n, self.n + m)
        self._ext[new] = ids
        self._alive[new] = True
        self._codes["lang"][new] = self.vocabs["lang"].encode([meta.lang for meta in metadata])
        self._codes["source"][new] = self.vocabs["source"].encode([meta.source or "" for meta in metadata])
        self._codes["path"][new] = self.vocabs["path"].encode([meta.path for meta in metadata])
        self._codes["doc"][new] = self.vocabs["doc"].encode([meta.doc_id for meta in metadata])
        self._date[new] = dates
        self.n += m

    def keep(self, mask: np.ndarray) -> None:
        """Drop the rows where `mask` is False; the rest move up in order."""
        self._ext = self.ext[mask]
        self._alive = self.alive[mask]
        self._codes = {name: col[: self.n][mask] for name, col in self._codes.items()}
        self._date = self._date[: self.n][mask]
        self.n = int(mask.sum())

    def matching(self, where: SearchFilter) -> np.ndarray:
        """Boolean mask of the live rows `where` allows (the same rules as `SearchFilter.matches`)."""
        mask = self.alive.copy()
        for name, wanted in (("lang", where.langs), ("source", where.sources),
                             ("path", where.paths), ("doc", where.doc_ids)):
            if wanted is not None:
                mask &= np.isin(self._codes[name][: self.n], self.vocabs[name].known(list(wanted)))
        dates = self._date[: self.n]
        if where.date_from is not None or where.date_to is not None:
            mask &= dates != b""
        if where.date_from is not None:
            mask &= dates >= where.date_from.encode()
        if where.date_to:
            bound = where.date_to.encode()
            mask &= dates.astype(f"S{len(bound)}") <= bound
        return mask

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"ext": self.ext, "alive": self.alive, "date": self._date[: self.n]}
        for name in STRING_COLUMNS:
            arrays[name] = self._codes[name][: self.n]
            arrays[f"{name}_vocab"] = np.array(self.vocabs[name].words, dtype=str)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> Rows:
        rows = cls()
        rows.n = len(arrays["ext"])
        rows._ext = arrays["ext"].astype(np.int64)
        rows._alive = arrays["alive"].astype(bool)
        rows._date = arrays["date"]
        for name in STRING_COLUMNS:
            rows._codes[name] = arrays[name].astype(np.int32)
            rows.vocabs[name] = Vocab([str(w) for w in arrays[f"{name}_vocab"]])
        return rows


def _resized(array: np.ndarray, capacity: int) -> np.ndarray:
    out = np.zeros(capacity, dtype=array.dtype)
    out[: len(array)] = array
    return out
