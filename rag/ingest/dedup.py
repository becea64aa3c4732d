"""Near-duplicate detection: the same story in another file, script or layout.

In: documents in ingestion order. Out: `doc.duplicate_of` set in place on each later copy, to
the id of the earliest document of its group.

How: the cleaned text is folded (`rag.lang.text.fold`: NFKC, Traditional -> Simplified, lower case),
stripped of spaces and punctuation, and cut into character 5-gram shingles; a fixed, hash-chosen
quarter of them is kept (the same shingles for every document, so overlaps stay comparable).
Shingles are indexed by document; only pairs sharing several *rare* shingles (in at most
`max(64, 2%)` of the documents) are compared, so boilerplate phrases never make candidates and
the work stays near-linear in the corpus. A pair is a duplicate when the containment
|A ∩ B| / min(|A|, |B|) reaches the threshold. Documents too short for shingles to judge
(fewer than 8 kept) are duplicates only when their compared text is identical.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import chain

import numpy as np

from rag.lang.text import fold
from rag.types import Document

SHINGLE = 5
SAMPLE_EVERY = 4
MIN_SHINGLES = 8  # documents with fewer kept shingles are too short to judge
MAX_CANDIDATES = 20
_NOISE = re.compile(r"[\W_]+")
_BASE = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _key(text: str) -> str:
    """The text as compared: folded, without spaces and punctuation."""
    return _NOISE.sub("", fold(text))


def shingles(text: str) -> set[int]:
    """The kept shingle hashes of `text` (see the module docstring); deterministic across runs."""
    return _shingles_of_key(_key(text))


def _shingles_of_key(s: str) -> set[int]:
    if len(s) < SHINGLE:
        return set()
    codes = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - SHINGLE + 1
    h = np.zeros(n, dtype=np.uint64)
    for k in range(SHINGLE):  # polynomial hash of each 5-gram, wrapping mod 2**64
        h = h * _BASE + codes[k : k + n]
    h ^= h >> np.uint64(29)  # mix the high bits down before sampling on the low ones
    h *= _MIX
    h ^= h >> np.uint64(32)
    return set(h[h % np.uint64(SAMPLE_EVERY) == 0].tolist())


def containment(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def find_duplicates(documents: list[Document], threshold: float = 0.6) -> None:
    """Set `duplicate_of` on every document that repeats an earlier one (containment >= threshold).

    A copy points at the first document of its group (never at another copy). Documents already
    marked keep their mark.
    """
    keys = [_key(doc.text) for doc in documents]
    sets = [_shingles_of_key(k) for k in keys]
    first_with_key: dict[str, int] = {}
    common = _common(sets, rare_limit=max(64, len(documents) // 50))
    postings: dict[int, list[int]] = defaultdict(list)
    for i, doc in enumerate(documents):
        same = first_with_key.setdefault(keys[i], i) if keys[i] else i
        if same != i and doc.duplicate_of is None:
            doc.duplicate_of = documents[same].duplicate_of or documents[same].id
        s = sets[i]
        if len(s) < MIN_SHINGLES:
            continue
        rare = [h for h in s if h not in common]
        shared = Counter(chain.from_iterable(postings[h] for h in rare if h in postings))
        if doc.duplicate_of is None:
            best, best_score = None, threshold
            for j, _ in shared.most_common(MAX_CANDIDATES):
                score = containment(s, sets[j])
                if score >= best_score and (best is None or score > best_score or j < best):
                    best, best_score = j, score
            if best is not None:
                doc.duplicate_of = documents[best].duplicate_of or documents[best].id
        for h in rare:
            postings[h].append(i)


def _common(sets: list[set[int]], rare_limit: int) -> set[int]:
    """The shingles held by more than `rare_limit` of the sets (counted in numpy: a Counter over every shingle of a
    100k-chunk corpus took 20 s of each update)."""
    total = sum(map(len, sets))
    if not total:
        return set()
    values, counts = np.unique(np.fromiter(chain.from_iterable(sets), dtype=np.uint64, count=total),
                               return_counts=True)
    return set(values[counts > rare_limit].tolist())
