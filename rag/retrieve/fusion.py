"""Fusion: the dense leg's z-scores and the keyword leg's hits into one score per chunk row.

In: the dense leg's rankings per family and the keyword leg's hits. Out: the fused score of every row either leg
found, and each row's score per leg (shown with the passage). Hybrid: dense z + weight x the BM25 share; a row only
BM25 found starts from its family's dense floor (no better than the last dense hit). Keyword mode: BM25 scores summed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.retrieve.dense import FamilyRanking
from rag.retrieve.keyword import LegHits


@dataclass
class Fused:
    scores: dict[int, float] = field(default_factory=dict)
    legs: dict[int, dict[str, float]] = field(default_factory=dict)


def fuse(dense: dict[str, FamilyRanking], keyword: list[LegHits], keyword_only: bool = False) -> Fused:
    fused = Fused()
    for ranking in dense.values():
        for row, z in ranking.ranked:
            fused.scores[row] = z
            fused.legs.setdefault(row, {})["dense"] = z
    for hits in keyword:
        floor = dense[hits.family].floor if hits.family in dense else 0.0
        for row, score, share in zip(hits.rows, hits.scores, hits.shares, strict=True):
            fused.legs.setdefault(row, {})[hits.leg] = share
            if keyword_only:
                fused.scores[row] = fused.scores.get(row, 0.0) + score
            else:
                fused.scores[row] = fused.scores.get(row, floor) + hits.weight * share
    return fused
