"""rag/store/faiss_index.py: a narrow filter's rows of an IVF-SQ8 index as a flat index of their own."""

import faiss
import numpy as np
import pytest

from rag.store import SearchFilter, VectorMeta, create_store
from rag.store.base import IndexParams
from rag.store.faiss_index import build_index, sq_subset

DIM, N = 32, 3000


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    # Clustered, as embeddings are: the IVF lists are then uneven, some without any allowed row.
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((40, DIM))
    return unit(centres[rng.integers(0, 40, N)] + 0.3 * rng.standard_normal((N, DIM)))


def test_the_subset_scores_as_an_exhaustive_search_of_every_list_with_the_filter(vectors: np.ndarray):
    index = build_index("ivfsq8", vectors, IndexParams())
    allowed = np.random.default_rng(5).random(N) < 0.05
    flat, labels = sq_subset(index, allowed)
    assert flat.ntotal == allowed.sum() and sorted(labels) == list(np.flatnonzero(allowed))

    bitmap = np.packbits(allowed, bitorder="little")
    params = faiss.SearchParametersIVF(sel=faiss.IDSelectorBitmap(N, faiss.swig_ptr(bitmap)),
                                       nprobe=faiss.extract_index_ivf(index).nlist)
    queries = vectors[:50] + 0.01
    expected_scores, expected = index.search(queries, 10, params=params)
    scores, found = flat.search(queries, 10)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)
    for row in range(len(queries)):  # equal scores may come in either order
        assert sorted(labels[found[row]]) == sorted(expected[row])


def test_no_allowed_row_gives_an_empty_index(vectors: np.ndarray):
    flat, labels = sq_subset(build_index("ivfsq8", vectors, IndexParams()), np.zeros(N, dtype=bool))
    assert flat.ntotal == 0 and len(labels) == 0


def test_an_index_coding_residuals_has_no_codes_to_share(vectors: np.ndarray):
    with pytest.raises(ValueError, match="codes the vectors themselves"):
        sq_subset(build_index("ivfpq", vectors, IndexParams(pq_m=8)), np.ones(N, dtype=bool))


def test_a_narrow_filter_searched_through_its_subset_sees_every_change(vectors: np.ndarray):
    store = create_store("faiss", DIM, faiss_index="ivfsq8")
    ids = np.arange(N, dtype=np.int64) + 100
    meta = [VectorMeta(doc_id=f"doc{i // 10}", lang="zh-hans", source="", date=None, path="a.txt")
            for i in range(N)]
    store.add(ids, vectors, meta)
    where = SearchFilter(doc_ids=tuple(f"doc{d}" for d in range(0, N // 10, 25)))  # 4% of the rows
    query = vectors[20:21]  # row 20 is doc2's: outside the filter
    first = store.search(query, 5, where=where)[0]
    assert len(first) == 5 and all(where.matches(meta[i - 100]) for i, _ in first)

    store.remove([first[0][0]])
    assert first[0][0] not in {i for i, _ in store.search(query, 5, where=where)[0]}
    store.add([99], query, [VectorMeta(doc_id="doc0", lang="zh-hans", source="", date=None, path="a.txt")])
    assert store.search(query, 5, where=where)[0][0][0] == 99
