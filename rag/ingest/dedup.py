"""Near-duplicate detection: the same story in another file, script or layout.

In: documents in ingestion order, and the `ShingleIndex` of those judged before. Out: `doc.duplicate_of` set in
place on each copy, to the id of the earliest document of its group; the index with the new documents in it.

How: the cleaned text is folded (`rag.lang.text.fold`: NFKC, Traditional -> Simplified, lower case),
stripped of spaces and punctuation, and cut into character 5-gram shingles; a fixed, hash-chosen
quarter of them is kept (the same shingles for every document, so overlaps stay comparable).
A document is judged once, when it is added, against the documents before it: only those sharing
several *rare* shingles with it (held by fewer than `max(64, 2%)` of the documents so far) are
compared, so boilerplate phrases never make candidates and the work stays near-linear in the corpus.
It is a copy when the containment |A ∩ B| / min(|A|, |B|) reaches the threshold. Documents too short
for shingles to judge (fewer than 8 kept) are copies only when their compared text is identical.
When the first document of a group is removed, its copies are judged again (`ShingleIndex.without`).

The index keeps, per document, a digest of its compared text and its shingles as postings sorted by
(shingle, row) in one uint64 array, so that adding one article to a large index reads no other
document's text but its few candidates' (the rule is the same for a whole build and for one article).
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.lang.text import fold
from rag.types import Document

SHINGLE = 5
SAMPLE_EVERY = 4
MIN_SHINGLES = 8  # documents with fewer kept shingles are too short to judge
MAX_CANDIDATES = 20
CACHED_SETS = 20_000  # shingle sets kept while judging (a set is ~1-4 kB): candidates are often recent documents
RARE_SHARE, RARE_MIN = 50, 64  # a shingle is rare while fewer than max(64, 1/50 of the documents so far) hold it
_NOISE = re.compile(r"[\W_]+")
_BASE = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_ROW_BITS = np.uint64(32)
_LOW_HALF = 0 if sys.byteorder == "little" else 1  # where a uint64's low 32 bits sit, as two uint32
FOLDER = "dedup"


def _key(text: str) -> str:
    """The text as compared: folded, without spaces and punctuation."""
    return _NOISE.sub("", fold(text))


def shingles(text: str) -> np.ndarray:
    """The kept shingle hashes of `text`, sorted, uint32 (see the module docstring); deterministic across runs."""
    return _shingles_of_key(_key(text))


def _shingles_of_key(s: str) -> np.ndarray:
    if len(s) < SHINGLE:
        return np.zeros(0, dtype=np.uint32)
    codes = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - SHINGLE + 1
    h = np.zeros(n, dtype=np.uint64)
    for k in range(SHINGLE):  # polynomial hash of each 5-gram, wrapping mod 2**64
        h = h * _BASE + codes[k : k + n]
    h ^= h >> np.uint64(29)  # mix the high bits down before sampling on the low ones
    h *= _MIX
    h ^= h >> np.uint64(32)
    return np.unique((h[h % np.uint64(SAMPLE_EVERY) == 0] >> _ROW_BITS).astype(np.uint32))


def _digest(key: str) -> int:
    """A 64-bit digest of a compared text; 0 for an empty one (nothing to compare)."""
    if not key:
        return 0
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little") or 1


def containment(a: np.ndarray, b: np.ndarray) -> float:
    if not len(a) or not len(b):
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / min(len(a), len(b))


@dataclass(frozen=True)
class ShingleIndex:
    """What duplicate detection keeps of the documents judged so far, row i being the i-th document."""

    digests: np.ndarray  # uint64 per row: the compared text's digest (0: empty)
    postings: np.ndarray  # uint64, sorted: shingle << 32 | row, for every row with enough shingles to judge

    @classmethod
    def empty(cls) -> ShingleIndex:
        return cls(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint64))

    @classmethod
    def of(cls, documents: Sequence[Document]) -> ShingleIndex:
        """The index of documents already judged (an index written before it kept one), without judging them."""
        keys = [_key(doc.text) for doc in documents]
        entries = [_entries(_shingles_of_key(key), row) for row, key in enumerate(keys)]
        postings = np.sort(np.concatenate(entries)) if entries else np.zeros(0, dtype=np.uint64)
        return cls(np.array([_digest(k) for k in keys], dtype=np.uint64), postings)

    def __len__(self) -> int:
        return len(self.digests)

    def without(self, kept: np.ndarray, documents: Sequence[Document]) -> tuple[ShingleIndex, list[int]]:
        """The index of the rows `kept` (a mask over this index's rows), renumbered, and the new rows of the copies
        whose first document is gone (to judge again). `documents`: the kept documents, in order."""
        if kept.all():
            return self, []
        postings = np.asarray(self.postings)[kept[_rows(self.postings)]]
        rows = _rows(postings)
        rows -= np.cumsum(~kept, dtype=np.uint32)[rows]  # a row's new number (in place): the order stays sorted
        present = {doc.id for doc in documents}
        orphans = [row for row, doc in enumerate(documents) if doc.duplicate_of and doc.duplicate_of not in present]
        return ShingleIndex(self.digests[kept], postings), orphans

    def judge(self, documents: Sequence[Document], threshold: float, again: Collection[int] = ()) -> ShingleIndex:
        """Mark the copies among the new documents (`documents[len(self):]`) and the rows in `again`, each against
        the documents before it, in row order; the index with the new documents in it. `documents`: every document,
        in row order."""
        judged = _Judgement(self, documents, threshold)
        for row in sorted(again):
            judged.judge(row)
        for row in range(len(self), len(documents)):
            judged.judge(row)
        return judged.result()

    def save(self, directory: Path) -> None:
        """Into `directory/dedup/`."""
        (directory / FOLDER).mkdir(parents=True, exist_ok=True)
        np.save(directory / FOLDER / "digests.npy", self.digests)
        np.save(directory / FOLDER / "postings.npy", self.postings)

    @classmethod
    def load(cls, directory: Path) -> ShingleIndex | None:
        """What `save` wrote into `directory` (the postings memory-mapped), or None if it holds none (an index of
        format <= 6)."""
        if not (directory / FOLDER).is_dir():
            return None
        return cls(np.load(directory / FOLDER / "digests.npy"),
                   np.load(directory / FOLDER / "postings.npy", mmap_mode="r"))


def _entries(kept_shingles: np.ndarray, row: int) -> np.ndarray:
    if len(kept_shingles) < MIN_SHINGLES:
        return np.zeros(0, dtype=np.uint64)
    return (kept_shingles.astype(np.uint64) << _ROW_BITS) | np.uint64(row)


def _rows(postings: np.ndarray) -> np.ndarray:
    """The row of each posting: a view of the low 32 bits of each, so that a pass over millions allocates no copy."""
    return np.asarray(postings).view(np.uint32)[_LOW_HALF::2]


def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two sorted arrays as one."""
    return np.insert(a, np.searchsorted(a, b), b) if len(b) else a


class _Judgement:
    """One pass of `ShingleIndex.judge`: the new rows' postings go to a small sorted array, merged into the large one
    when it grows past an eighth of it, so that each document is judged with a few binary searches."""

    def __init__(self, index: ShingleIndex, documents: Sequence[Document], threshold: float) -> None:
        self.documents, self.threshold, self.judged = documents, threshold, len(index)
        self.digests = np.asarray(index.digests)
        self.new_digests: list[int] = []
        values, first = np.unique(self.digests, return_index=True)
        self.first_with_digest = dict(zip(values.tolist(), first.tolist(), strict=True))
        self.levels = [np.asarray(index.postings), np.zeros(0, dtype=np.uint64)]
        self.sets: dict[int, np.ndarray] = {}  # kept shingles of rows read lately

    def shingles_of(self, row: int, key: str | None = None) -> np.ndarray:
        if row not in self.sets:
            if len(self.sets) >= CACHED_SETS:
                self.sets.clear()
            self.sets[row] = _shingles_of_key(_key(self.documents[row].text) if key is None else key)
        return self.sets[row]

    def judge(self, row: int) -> None:
        doc = self.documents[row]
        mark: str | None = None  # set once at the end: a search reading the document meanwhile sees old or new
        key = None
        if row < self.judged:
            digest = int(self.digests[row])
        else:
            key = _key(doc.text)
            digest = _digest(key)
            self.new_digests.append(digest)
            self.first_with_digest.setdefault(digest, row)
        if digest and (same := self.first_with_digest[digest]) < row:
            mark = self.root(same)
        s = self.shingles_of(row, key)
        if len(s) >= MIN_SHINGLES:
            if mark is None and (best := self.best_match(row, s)) is not None:
                mark = self.root(best)
            if row >= self.judged:
                self.add(_entries(s, row))
        if doc.duplicate_of != mark:
            doc.duplicate_of = mark

    def root(self, row: int) -> str:
        other = self.documents[row]
        return other.duplicate_of or other.id

    def best_match(self, row: int, s: np.ndarray) -> int | None:
        """The earlier row with the highest containment at or above the threshold (the first of equals)."""
        starts = s.astype(np.uint64) << _ROW_BITS
        ranges = [(np.searchsorted(level, starts), np.searchsorted(level, starts | np.uint64(row)))
                  for level in self.levels]
        held = sum(hi - lo for lo, hi in ranges)  # how many earlier documents hold each shingle
        rare = held < max(RARE_MIN, (row + 1) // RARE_SHARE)
        holders = _rows(np.concatenate([level[_spans(lo[rare], hi[rare])] for level, (lo, hi) in
                                        zip(self.levels, ranges, strict=True)]))
        if not len(holders):
            return None
        rows, shared = np.unique(holders, return_counts=True)
        candidates = rows[np.lexsort((rows, -shared))[:MAX_CANDIDATES]]
        best, best_score = None, self.threshold
        for other in sorted(candidates.tolist()):
            score = containment(s, self.shingles_of(other))
            if score > best_score or (score >= best_score and best is None):
                best, best_score = other, score
        return best

    def add(self, entries: np.ndarray) -> None:
        large, small = self.levels
        small = _merge(small, entries)
        if len(small) > max(1 << 16, len(large) // 8):
            large, small = _merge(large, small), small[:0]
        self.levels = [large, small]

    def result(self) -> ShingleIndex:
        digests = np.concatenate([self.digests, np.array(self.new_digests, dtype=np.uint64)])
        return ShingleIndex(digests, _merge(*self.levels))


def _spans(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The indices lo[0]..hi[0]-1, lo[1]..hi[1]-1, ... as one array."""
    lengths = hi - lo
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return starts + np.arange(total)


def find_duplicates(documents: list[Document], threshold: float = 0.6) -> ShingleIndex:
    """Set `duplicate_of` on every document that repeats an earlier one (containment >= threshold), from scratch;
    a copy points at the first document of its group (never at another copy). Returns the documents' index."""
    return ShingleIndex.empty().judge(documents, threshold)
