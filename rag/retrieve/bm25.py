"""BM25 over term-frequency postings, in segments: top-k within allowed rows, append and drop rows, save and mmap.

In: token lists, one per row (a chunk's keyword tokens); later a query's tokens and a mask of the rows it may return.
Out: the best rows with their BM25 scores, Lucene's variant (bm25s's default, which this replaced):
idf = ln(1 + (N - df + 0.5) / (df + 0.5)), term part = tf / (tf + k1 (1 - b + b dl / avgdl)), k1 = 1.5, b = 0.75.

Why not bm25s: it stores each posting's final score, so adding or removing one row changes every idf and the average
length, and an update (or an open, which re-indexed the stored tokens) rebuilt the whole matrix: minutes at 1M chunks.
Here postings keep raw term frequencies, and scores are computed at query time from the query terms' postings only.

Layout, as in Lucene: the rows are split into segments, each immutable, holding its postings twice: by term (what a
query reads) and by row (a row's terms: feedback terms, and dropping rows). `appended` adds a segment for new rows
(and merges the last segments once they are of similar size, so a corpus of n rows has O(log n) of them); `kept`
rebuilds only the segments that lose rows. Term ids come from one vocabulary, which only grows. On disk (`save`):
`terms.json` (the vocabulary in id order) and per segment a folder of .npy arrays, memory-mapped by `load`; a segment
loaded from disk and unchanged is hard-linked into the next save instead of written again.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.ranking import best_first

K1 = 1.5
B = 0.75
TERMS_FILE = "terms.json"
_ARRAYS = ("term_ptr", "term_rows", "term_tf", "row_ptr", "row_terms", "row_tf", "lengths")
# The last segment is merged into the one before it once it holds this share of that one's rows.
_MERGE_SHARE = 0.25
_MAX_TF = 65535  # term frequencies are uint16 (a chunk is bounded far below)
SPARSE_SHARE = 16  # fewer postings than 1/16 of the rows: summed per row found rather than over every row


@dataclass(frozen=True)
class Segment:
    """Rows [0, n) of one segment: postings by term id (`term_*`, CSC) and by row (`row_*`, CSR)."""

    term_ptr: np.ndarray  # int64, (terms known when the segment was made) + 1
    term_rows: np.ndarray  # int32 row of each posting, ascending within a term
    term_tf: np.ndarray  # uint16
    row_ptr: np.ndarray  # int64, rows + 1
    row_terms: np.ndarray  # int32 term id of each posting
    row_tf: np.ndarray  # uint16
    lengths: np.ndarray  # float32 tokens per row (repeats counted)
    source: Path | None = None  # the folder it was loaded from

    @property
    def n_rows(self) -> int:
        return len(self.row_ptr) - 1

    @property
    def n_terms(self) -> int:
        return len(self.term_ptr) - 1

    @classmethod
    def from_rows(cls, row_ptr: np.ndarray, row_terms: np.ndarray, row_tf: np.ndarray, n_terms: int) -> Segment:
        """A segment from its postings by row; those by term are derived (a stable sort keeps rows ascending)."""
        row_terms, row_tf = row_terms.astype(np.int32), row_tf.astype(np.uint16)
        n_rows = len(row_ptr) - 1
        rows = np.repeat(np.arange(n_rows, dtype=np.int32), np.diff(row_ptr))
        order = np.argsort(row_terms, kind="stable")
        term_ptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(row_terms, minlength=n_terms), out=term_ptr[1:])
        lengths = np.bincount(rows, weights=row_tf, minlength=n_rows).astype(np.float32)
        return cls(term_ptr, rows[order], row_tf[order], np.asarray(row_ptr, np.int64), row_terms, row_tf, lengths)

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, term frequencies) of `term` in this segment."""
        if term >= self.n_terms:
            return _NO_ROWS, _NO_TF
        start, end = self.term_ptr[term], self.term_ptr[term + 1]
        return self.term_rows[start:end], self.term_tf[start:end]

    def kept(self, keep: np.ndarray) -> Segment:
        """This segment without the rows where `keep` is False (the rest renumbered in order)."""
        counts = np.diff(self.row_ptr)
        posting_kept = np.repeat(keep, counts)
        row_ptr = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
        np.cumsum(counts[keep], out=row_ptr[1:])
        return Segment.from_rows(row_ptr, self.row_terms[posting_kept], self.row_tf[posting_kept], self.n_terms)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        if self.source is not None and _link_all(self.source, folder):
            return
        for name in _ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> Segment:
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r" if mmap else None) for name in _ARRAYS}
        # Plain arrays over the same mapped pages: np.memmap's own slicing costs ~2 us a slice in Python, and a
        # query slices a few postings per term and feedback reads a few rows (26k slices for 40 questions at 1M).
        return cls(**{name: array.view(np.ndarray) for name, array in arrays.items()}, source=folder)


_NO_ROWS = np.zeros(0, dtype=np.int32)
_NO_TF = np.zeros(0, dtype=np.uint16)


def _merged(first: Segment, second: Segment, n_terms: int) -> Segment:
    """One segment holding `first`'s rows, then `second`'s."""
    row_ptr = np.concatenate([first.row_ptr, second.row_ptr[1:] + first.row_ptr[-1]])
    return Segment.from_rows(row_ptr, np.concatenate([first.row_terms, second.row_terms]),
                             np.concatenate([first.row_tf, second.row_tf]), n_terms)


def _link_all(source: Path, folder: Path) -> bool:
    """Hard-link a saved segment's files into `folder`; False (and nothing left behind) where that fails."""
    try:
        for name in _ARRAYS:
            os.link(source / f"{name}.npy", folder / f"{name}.npy")
        return True
    except OSError:  # another file system, or the source was cleaned away: the arrays are written instead
        for leftover in folder.iterdir():
            leftover.unlink()
        return False


class BM25Index:
    """Immutable: `appended` and `kept` return a new index, while searches keep reading this one."""

    def __init__(self, terms: list[str], segments: Sequence[Segment], term_ids: dict[str, int] | None = None) -> None:
        # `terms` and `term_ids` only grow and are shared with the index `appended` makes from this one (the common
        # case: no copy of a large vocabulary per update); an id is valid here when it is below this index's size.
        self._terms = terms
        self._term_ids = term_ids
        self.n_terms = len(terms)
        self.segments = tuple(segments)
        self.starts = np.cumsum([0, *(s.n_rows for s in self.segments)])

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]]) -> BM25Index:
        return cls([], []).appended(token_lists)

    def __len__(self) -> int:
        return int(self.starts[-1])

    # ---- vocabulary ------------------------------------------------------------------------------

    @property
    def terms(self) -> list[str]:
        """The vocabulary in id order (a removed row's terms stay, with a df that may be 0)."""
        return self._terms[: self.n_terms]

    def term_id(self, token: str) -> int | None:
        found = self._ids().get(token)
        return found if found is not None and found < self.n_terms else None

    def _ids(self) -> dict[str, int]:
        if self._term_ids is None:  # made on first use: an open reads the term list only
            self._term_ids = {t: i for i, t in enumerate(self._terms)}
        return self._term_ids

    @cached_property
    def doc_freqs(self) -> np.ndarray:
        """Rows holding each term, by term id."""
        df = np.zeros(self.n_terms, dtype=np.int64)
        for segment in self.segments:
            df[: segment.n_terms] += np.diff(segment.term_ptr)
        return df

    def df(self, token: str) -> int:
        term = self.term_id(token)
        return 0 if term is None else int(self.doc_freqs[term])

    def idf(self, token: str) -> float:
        df = self.df(token)
        return float(np.log(1 + (len(self) - df + 0.5) / (df + 0.5)))

    def row_terms(self, row: int) -> dict[str, int]:
        """{term: frequency} of one row."""
        s = int(np.searchsorted(self.starts, row, side="right")) - 1
        segment, local = self.segments[s], row - int(self.starts[s])
        start, end = segment.row_ptr[local], segment.row_ptr[local + 1]
        return {self._terms[t]: int(f)
                for t, f in zip(segment.row_terms[start:end], segment.row_tf[start:end], strict=True)}

    # ---- scoring ---------------------------------------------------------------------------------

    @cached_property
    def _length_norm(self) -> np.ndarray:
        """k1 (1 - b + b dl / avgdl) per row."""
        if not self.segments:
            return np.zeros(0, np.float32)
        lengths = np.concatenate([s.lengths for s in self.segments])
        return (K1 * (1 - B + B * lengths / max(float(lengths.mean()), 1e-9))).astype(np.float32)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """The BM25 score of every row (float32; zeros where no token occurs). A token given twice counts twice."""
        postings = self._postings(tokens)
        if postings is None:
            return np.zeros(len(self), dtype=np.float32)
        return np.bincount(*postings, minlength=len(self)).astype(np.float32)

    def top(self, tokens: Sequence[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the `k` best rows scoring above 0, best first (ties in row order); `allowed`: a boolean
        mask of the rows that may be returned (a filter, a language), None for all."""
        postings = self._postings(tokens, allowed)
        if postings is None:
            return _NO_ROWS.astype(np.int64), np.zeros(0, dtype=np.float32)
        rows, weights = postings
        if len(rows) * SPARSE_SHARE < len(self):
            # Few postings (a selective filter, rare terms): summed per row found, without a pass over every row (a
            # 5% filter over 1M rows: the keyword leg's p50 17 -> 12 ms, its 4 queries 3.7 -> 3.2 ms a call over
            # all calls of 40 questions). The same sums, added in the same order: the same rows and scores.
            found, inverse = np.unique(rows, return_inverse=True)
            sums = np.bincount(inverse, weights, minlength=len(found))
        else:
            sums = np.bincount(rows, weights, minlength=len(self))
            found = np.flatnonzero(sums > 0)  # (a boolean array: np.flatnonzero reads one ~8x faster than float64)
            sums = sums[found]
        scores = sums.astype(np.float32)  # ranked as float32, as they are returned
        best = best_first(scores, k)  # `found` is ascending: ties in row order
        return found[best], scores[best]

    def _postings(self, tokens: Sequence[str], allowed: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray] | None:
        """The query's postings as (rows, BM25 parts), in token order, within `allowed` when given; None when no
        token occurs there. A row's score is the sum of its parts."""
        rows, weights = [], []
        for token in tokens:
            term = self.term_id(token)
            if term is None:
                continue
            idf = np.float32(self.idf(token))
            for start, segment in zip(self.starts, self.segments, strict=False):
                hit, tf = segment.postings(term)
                at = hit + start
                if allowed is not None:
                    inside = allowed[at]
                    at, tf = at[inside], tf[inside]
                if len(at):
                    tf = tf.astype(np.float32)
                    rows.append(at)
                    weights.append(idf * tf / (tf + self._length_norm[at]))
        if not rows:
            return None
        return np.concatenate(rows), np.concatenate(weights)

    # ---- updates ---------------------------------------------------------------------------------

    def appended(self, token_lists: Iterable[Sequence[str]]) -> BM25Index:
        """This index with rows for `token_lists` after its own."""
        terms, term_ids = self._terms, self._ids()
        if len(terms) != self.n_terms:  # an index made from this one grew the vocabulary: this one needs its own
            terms = self.terms
            term_ids = {t: i for i, t in enumerate(terms)}
        row_ptr, row_terms, row_tf = [0], [], []
        for tokens in token_lists:
            for token, tf in Counter(tokens).items():
                term = term_ids.get(token)
                if term is None:
                    term = term_ids[token] = len(terms)
                    terms.append(token)
                row_terms.append(term)
                row_tf.append(min(tf, _MAX_TF))
            row_ptr.append(len(row_terms))
        if len(row_ptr) == 1:
            return BM25Index(terms, self.segments, term_ids)
        new = Segment.from_rows(np.asarray(row_ptr, np.int64), np.asarray(row_terms, np.int32),
                                np.asarray(row_tf, np.int64), len(terms))
        segments = [*self.segments, new]
        while len(segments) > 1 and segments[-1].n_rows >= _MERGE_SHARE * segments[-2].n_rows:
            segments[-2:] = [_merged(segments[-2], segments[-1], len(terms))]
        return BM25Index(terms, segments, term_ids)

    def kept(self, keep: np.ndarray) -> BM25Index:
        """This index without the rows where `keep` (a boolean per row) is False; only segments losing rows change."""
        segments = []
        for start, segment in zip(self.starts, self.segments, strict=False):
            part = keep[start: start + segment.n_rows]
            if part.all():
                segments.append(segment)
            elif part.any():
                segments.append(segment.kept(part))
        return BM25Index(self._terms, segments, self._term_ids)

    # ---- disk ------------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write into `folder` (created here: it must not exist)."""
        folder.mkdir(parents=True)
        (folder / TERMS_FILE).write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        for i, segment in enumerate(self.segments):
            segment.save(folder / f"segment-{i}")

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> BM25Index:
        terms = json.loads((folder / TERMS_FILE).read_text(encoding="utf-8"))
        count = sum(1 for p in folder.iterdir() if p.name.startswith("segment-"))
        return cls(terms, [Segment.load(folder / f"segment-{i}", mmap) for i in range(count)])
