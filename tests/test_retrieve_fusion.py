"""rag.retrieve.fusion: dense z-scores and keyword hits into one score per row."""

from __future__ import annotations

import pytest

from rag.retrieve.dense import FamilyRanking
from rag.retrieve.fusion import FUSIONS, DenseFirstFusion, ScoreSumFusion, create_fusion
from rag.retrieve.keyword import LegHits
from rag.retrieve.search import MODES

DENSE = {"zh": FamilyRanking(ranked=[(0, 3.0), (1, 2.0)], floor=1.5),
         "en": FamilyRanking(ranked=[(5, 2.5)], floor=1.0)}
KEYWORD = [LegHits("zh", "lexical", 2.0, rows=[1, 2], scores=[8.0, 4.0], shares=[1.0, 0.5]),
           LegHits("en", "translated", 2.0, rows=[6], scores=[3.0], shares=[1.0])]


def test_a_row_only_bm25_found_starts_from_its_familys_dense_floor():
    fused = DenseFirstFusion().fuse(DENSE, KEYWORD)
    assert fused.scores[0] == 3.0  # dense only
    assert fused.scores[1] == pytest.approx(2.0 + 2.0 * 1.0)  # both legs
    assert fused.scores[2] == pytest.approx(1.5 + 2.0 * 0.5)  # BM25 only, zh floor
    assert fused.scores[6] == pytest.approx(1.0 + 2.0 * 1.0)  # BM25 only, en floor
    assert fused.legs[1] == {"dense": 2.0, "lexical": 1.0} and fused.legs[6] == {"translated": 1.0}


def test_keyword_mode_sums_bm25_scores_and_without_dense_hits_starts_from_zero():
    fused = ScoreSumFusion().fuse({}, KEYWORD)
    assert fused.scores == {1: 8.0, 2: 4.0, 6: 3.0}
    assert DenseFirstFusion().fuse({}, KEYWORD).scores[2] == pytest.approx(0.0 + 2.0 * 0.5)


def test_every_search_mode_has_its_fusion():
    assert set(FUSIONS) == set(MODES)
    assert isinstance(create_fusion("keyword"), ScoreSumFusion)
    assert isinstance(create_fusion("hybrid"), DenseFirstFusion)
