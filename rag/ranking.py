"""The one rule for taking the k best of a score array: best first, ties in position order.

In: a 1-D array of scores and k. Out: the positions of the k highest scores (all, when fewer), best first; of equal
scores the earlier position first, at the k-th place too (`np.argpartition` keeps any of the rows tied there). The
flat vector index (rag/store/flat.py) and BM25 (rag/retrieve/bm25.py) rank by it, so a search returns the same rows
whichever run, machine or array layout produced its ties (duplicated articles give equal scores).
"""

from __future__ import annotations

import numpy as np


def best_first(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the `k` highest `scores`, best first, ties in position order."""
    n = len(scores)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < n:  # the k-th best score in one linear pass, then every higher one and the first of those equal to it
        kth = np.partition(scores, n - k)[n - k]
        chosen = scores > kth
        chosen[np.flatnonzero(scores == kth)[: k - int(chosen.sum())]] = True
        positions = np.flatnonzero(chosen)
    else:
        positions = np.arange(n)
    return positions[np.lexsort((positions, -scores[positions]))]
