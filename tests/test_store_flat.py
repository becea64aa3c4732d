"""rag/store/flat.py: exact search in numpy, and a small corpus that never loads FAISS."""

import subprocess
import sys

import numpy as np

from rag.store.flat import FlatIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray) -> list[int]:
    scored = sorted(((float(vectors[i] @ query), i) for i in np.flatnonzero(allowed)), key=lambda p: (-p[0], p[1]))
    return [i for _, i in scored[:k]]


def test_search_ranks_every_allowed_row_by_inner_product_and_pads_with_minus_one():
    rng = np.random.default_rng(11)
    vectors, queries = unit(rng.standard_normal((300, 16))), unit(rng.standard_normal((5, 16)))
    index = FlatIndex(vectors)
    allowed = rng.random(300) < 0.02  # fewer rows than k
    for mask in (None, allowed):
        scores, rows = index.search(queries, 10, mask)
        assert scores.shape == rows.shape == (5, 10)
        for query, row_scores, found in zip(queries, scores, rows, strict=True):
            expected = brute_force(vectors, query, 10, np.ones(300, bool) if mask is None else mask)
            assert [int(r) for r in found if r >= 0] == expected
            np.testing.assert_allclose(row_scores[: len(expected)], vectors[expected] @ query, rtol=1e-5)
            assert (found[len(expected):] == -1).all()


def test_rows_tied_at_the_kth_score_are_taken_in_row_order():
    rng = np.random.default_rng(5)
    distinct = unit(rng.standard_normal((4, 16)))
    vectors = distinct[rng.integers(0, 4, 400)]  # 100-odd copies of each: duplicated articles score alike
    _, rows = FlatIndex(vectors).search(distinct[:1], 7)
    assert rows[0].tolist() == np.flatnonzero((vectors == distinct[0]).all(axis=1))[:7].tolist()


def test_remove_closes_the_gaps_and_add_appends():
    vectors = unit(np.random.default_rng(2).standard_normal((20, 8)))
    index = FlatIndex(vectors.copy())
    index.remove(np.array([0, 5]))
    index.add(vectors[:1])
    assert index.ntotal == 19
    assert index.search(vectors[[6, 0]], 1)[1][:, 0].tolist() == [4, 18]  # row 6 moved up by two; row 0 is last


def test_save_and_load_memory_mapped(tmp_path):
    vectors = unit(np.random.default_rng(4).standard_normal((30, 8)))
    FlatIndex(vectors).save(tmp_path / "v.npy")
    loaded = FlatIndex.load(tmp_path / "v.npy")
    assert isinstance(loaded.vectors, np.memmap)
    np.testing.assert_array_equal(loaded.vectors, vectors)


def test_opening_and_searching_a_flat_store_does_not_load_faiss(tmp_path):
    script = f"""
import sys
import numpy as np
from rag.store import VectorMeta, create_store, open_store
store = create_store("faiss", 8, faiss_index="auto")
vectors = np.eye(8, dtype=np.float32)
store.add(list(range(8)), vectors, [VectorMeta(doc_id=str(i), lang="en", source="", date=None, path="a")
                                    for i in range(8)])
store.save({str(tmp_path / "s")!r})
opened = open_store({str(tmp_path / "s")!r})
assert opened.search(vectors[3:4], 2)[0][0][0] == 3
assert "faiss.loader" not in sys.modules, "faiss was loaded"
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
