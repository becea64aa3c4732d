"""The dense leg: the question's vector against chunk vectors and sentence vectors, per language family.

In: the question's vector, how many candidates, a filter. Out: per language family, the best chunk rows with their
z-scores against generic text in that family's language (`rag/data/anchors.jsonl`), and the z-score of a row not
among them (its floor). See rag/retrieve/search.py for why per family and why against anchors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from rag.retrieve.corpus import CorpusView, RetrievalParams
from rag.store.base import SearchFilter, VectorStore

SENTENCE_SEARCH_DEPTH = 8


@dataclass
class FamilyRanking:
    """One language family's best chunk rows, (row, z) best first, and the z-score of a row not among them."""

    ranked: list[tuple[int, float]]
    floor: float


class DenseLeg:
    def __init__(self, store: VectorStore, corpus: CorpusView, params: RetrievalParams,
                 anchors: dict[str, np.ndarray]) -> None:
        self.store = store
        self.corpus = corpus
        self.params = params
        self.anchors = anchors

    def rank(self, qvec: np.ndarray, k: int, where: SearchFilter | None) -> dict[str, FamilyRanking]:
        """The best `k` chunk rows of each language family for the query vector `qvec` (1, dim)."""
        out = {}
        for family in self.corpus.family_rows:
            family_filter = _with_langs(where, self.corpus.family_langs[family])
            mu, sd = self._background(family, qvec[0])
            out[family] = FamilyRanking(*self._dense_ranking(qvec, k, family_filter, mu, sd))
        return out

    @staticmethod
    def _dense_hits(store: VectorStore, row_of: Mapping[int, int], qvec: np.ndarray, k: int, where: SearchFilter,
                    mu: float, sd: float) -> tuple[dict[int, float], float]:
        """{chunk row: best z-score} of the `k` nearest vectors in `store`, and the z-score of a row not found
        (the last hit's when `k` came back, else a cosine of 0)."""
        hits = store.search(qvec, k, where)[0]
        best: dict[int, float] = {}
        for vid, score in hits:
            row = row_of.get(vid)
            if row is not None and row not in best:  # hits come best first
                best[row] = (score - mu) / sd
        floor = (hits[-1][1] - mu) / sd if len(hits) >= k else (0.0 - mu) / sd
        return best, floor

    def _dense_ranking(self, qvec: np.ndarray, k: int, where: SearchFilter, mu: float,
                       sd: float) -> tuple[list[tuple[int, float]], float]:
        """The best `k` chunk rows by (chunk z + w * best sentence z) / (1 + w), and the z of a row not among them.
        Without sentence vectors (or w = 0), by the chunk's own vector."""
        sentences, w = self.corpus.sentences, self.params.sentence_weight
        if sentences is None or not len(sentences) or w <= 0:
            chunk_z, floor = self._dense_hits(self.store, self.corpus.row_of_id, qvec, k, where, mu, sd)
            return sorted(chunk_z.items(), key=lambda item: -item[1]), floor
        # Both searches go deeper than k, so that most rows of either list have a real score in the other one; a
        # missing score counts as that list's floor. (A chunk holds several sentences.)
        depth = k * SENTENCE_SEARCH_DEPTH
        chunk_z, chunk_floor = self._dense_hits(self.store, self.corpus.row_of_id, qvec, depth, where, mu, sd)
        sentence_z, sentence_floor = self._dense_hits(sentences.store, self.corpus.row_of_sentence, qvec, depth,
                                                      where, mu, sd)
        combined = {
            row: (chunk_z.get(row, chunk_floor) + w * sentence_z.get(row, sentence_floor)) / (1 + w)
            for row in chunk_z.keys() | sentence_z.keys()
        }
        ranked = sorted(combined.items(), key=lambda item: -item[1])[:k]
        floor = ranked[-1][1] if len(ranked) >= k else (chunk_floor + w * sentence_floor) / (1 + w)
        return ranked, floor

    def _background(self, family: str, qvec: np.ndarray) -> tuple[float, float]:
        """Mean and spread of the question's similarity to generic text in `family`'s language."""
        sample = self.anchors.get(family)
        if sample is None:  # a language without anchors: compare against all of them
            sample = np.concatenate(list(self.anchors.values()))
        sims = sample @ qvec
        return float(sims.mean()), float(sims.std() + 1e-6)


def _with_langs(where: SearchFilter | None, langs: tuple[str, ...]) -> SearchFilter:
    if where is None:
        return SearchFilter(langs=langs)
    wanted = langs if where.langs is None else tuple(x for x in langs if x in where.langs)
    return replace(where, langs=wanted)

