"""Fusion: the dense leg's z-scores and the keyword leg's hits into one score per chunk row.

In: the dense leg's rankings per family and the keyword leg's hits. Out: the fused score of every row either leg
found, and each row's score per leg (shown with the passage). One strategy per search mode, chosen by
`create_fusion(mode)`: hybrid (and dense) add the keyword leg's BM25 shares to the dense z-scores; keyword mode sums
BM25 scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from rag.retrieve.dense import FamilyRanking
from rag.retrieve.keyword import LegHits


@dataclass
class Fused:
    scores: dict[int, float] = field(default_factory=dict)
    legs: dict[int, dict[str, float]] = field(default_factory=dict)  # row -> leg name -> its score there


class Fusion(Protocol):
    def fuse(self, dense: dict[str, FamilyRanking], keyword: list[LegHits]) -> Fused: ...


class DenseFirstFusion:
    """Dense z + each keyword query's weight x its BM25 share (of that query's best score: BM25's scale means nothing
    across queries); a row only BM25 found starts from its family's dense floor (no better than the last dense hit)."""

    def fuse(self, dense: dict[str, FamilyRanking], keyword: list[LegHits]) -> Fused:
        fused = _dense_only(dense)
        for hits in keyword:
            floor = dense[hits.family].floor if hits.family in dense else 0.0
            for row, share in zip(hits.rows, hits.shares, strict=True):
                fused.legs.setdefault(row, {})[hits.leg] = share
                fused.scores[row] = fused.scores.get(row, floor) + hits.weight * share
        return fused


class ScoreSumFusion:
    """BM25 scores summed over the keyword queries that found a row (keyword mode: no dense leg to scale them)."""

    def fuse(self, dense: dict[str, FamilyRanking], keyword: list[LegHits]) -> Fused:
        fused = _dense_only(dense)
        for hits in keyword:
            for row, score, share in zip(hits.rows, hits.scores, hits.shares, strict=True):
                fused.legs.setdefault(row, {})[hits.leg] = share
                fused.scores[row] = fused.scores.get(row, 0.0) + score
        return fused


FUSIONS: dict[str, type[Fusion]] = {"hybrid": DenseFirstFusion, "dense": DenseFirstFusion, "keyword": ScoreSumFusion}


def create_fusion(mode: str) -> Fusion:
    """The fusion strategy of a search mode (one of `rag.retrieve.search.MODES`)."""
    return FUSIONS[mode]()


def _dense_only(dense: dict[str, FamilyRanking]) -> Fused:
    fused = Fused()
    for ranking in dense.values():
        for row, z in ranking.ranked:
            fused.scores[row] = z
            fused.legs.setdefault(row, {})["dense"] = z
    return fused
