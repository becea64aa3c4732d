"""rag/ranking.py: the k best positions, best first, ties in position order."""

import numpy as np

from rag.ranking import best_first


def test_the_k_best_come_best_first_and_ties_keep_their_order_at_the_kth_place_too():
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.9, 0.5, 0.5], dtype=np.float32)
    assert best_first(scores, 4).tolist() == [1, 4, 0, 2]
    assert best_first(scores, 3).tolist() == [1, 4, 0]
    assert best_first(scores, 10).tolist() == [1, 4, 0, 2, 5, 6, 3]  # fewer than k: all of them
    assert best_first(scores, 0).tolist() == []


def test_it_agrees_with_a_stable_sort_on_random_scores_with_many_ties():
    rng = np.random.default_rng(2)
    for _ in range(50):
        scores = rng.integers(0, 5, 200).astype(np.float32)
        k = int(rng.integers(1, 200))
        assert best_first(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()
