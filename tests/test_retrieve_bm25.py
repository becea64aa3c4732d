import math
import os
from collections import Counter

import numpy as np
import pytest

from rag.retrieve import bm25
from rag.retrieve.bm25 import K1, B, BM25Index
from rag.retrieve.lexical import tokenize

TEXTS = [
    "厦门市持证社工11265人，社区服务站覆盖全部街道。",
    "The city has 11,265 certified social workers and a service station in every street.",
    "志愿者走访独居老人，社区服务站提供助餐服务。",
    "Volunteers visited elderly people living alone; the station serves meals.",
    "省民政厅轮训驻站社工，每年培训两次。",
    "",
    "社区 社区 社区 服务",
]
ROWS = [tokenize(t) for t in TEXTS]
QUERIES = ["社区服务站", "social workers 11265", "社工培训", "meals elderly", "不存在的词"]


def reference_scores(rows: list[list[str]], query: list[str]) -> np.ndarray:
    """Okapi BM25 as Lucene scores it, written out term by term."""
    n = len(rows)
    avgdl = sum(len(r) for r in rows) / n
    out = np.zeros(n)
    for token in query:
        df = sum(token in r for r in rows)
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, r in enumerate(rows):
            tf = Counter(r)[token]
            if tf:
                out[i] += idf * tf / (tf + K1 * (1 - B + B * len(r) / avgdl))
    return out


@pytest.mark.parametrize("query", QUERIES)
def test_scores_are_okapi_bm25(query: str) -> None:
    index = BM25Index.build(ROWS)
    tokens = tokenize(query)
    np.testing.assert_allclose(index.scores(tokens), reference_scores(ROWS, tokens), rtol=1e-5, atol=1e-6)


def test_top_is_best_first_within_the_allowed_rows() -> None:
    index = BM25Index.build(ROWS)
    tokens = tokenize("社区服务站 social workers")
    expected = reference_scores(ROWS, tokens)
    rows, scores = index.top(tokens, 2)
    assert rows.tolist() == sorted(np.flatnonzero(expected), key=lambda r: -expected[r])[:2]
    assert scores[0] >= scores[1] > 0
    allowed = np.zeros(len(ROWS), dtype=bool)
    allowed[[1, 3, 5]] = True
    rows, _ = index.top(tokens, 10, allowed)
    assert rows.tolist() == [1]  # of the allowed rows only row 1 matches
    assert index.top(tokenize("不存在的词"), 5)[0].size == 0


def test_rows_appended_in_parts_score_as_one_build() -> None:
    whole = BM25Index.build(ROWS)
    parts = BM25Index.build(ROWS[:3]).appended(ROWS[3:4]).appended([]).appended(ROWS[4:])
    assert len(parts) == len(whole) == len(ROWS)
    for query in QUERIES:
        np.testing.assert_allclose(parts.scores(tokenize(query)), whole.scores(tokenize(query)), rtol=1e-6)
    assert parts.row_terms(6) == dict(Counter(ROWS[6]))


def test_many_small_appends_keep_few_segments() -> None:
    index = BM25Index.build([])
    for row in ROWS * 40:
        index = index.appended([row])
    assert len(index) == len(ROWS) * 40
    assert len(index.segments) <= 10  # merged as they grow: O(log n), not one per append
    np.testing.assert_allclose(index.scores(tokenize("社区")), BM25Index.build(ROWS * 40).scores(tokenize("社区")),
                               rtol=1e-6)


def test_dropping_rows_scores_as_a_build_without_them() -> None:
    index = BM25Index.build(ROWS[:4]).appended(ROWS[4:])
    keep = np.array([True, False, True, True, False, True, True])
    dropped = index.kept(keep)
    rebuilt = BM25Index.build([r for r, k in zip(ROWS, keep, strict=True) if k])
    for query in QUERIES:
        np.testing.assert_allclose(dropped.scores(tokenize(query)), rebuilt.scores(tokenize(query)), rtol=1e-6)
    assert dropped.segments[0] is not index.segments[0]  # it lost row 1
    assert index.kept(np.ones(len(ROWS), dtype=bool)).segments == index.segments  # nothing rebuilt


def test_an_index_grown_twice_from_one_version_keeps_both_vocabularies_apart() -> None:
    base = BM25Index.build(ROWS[:2])
    first = base.appended([["apple", "pear"]])
    second = base.appended([["plum"], ["apple"]])
    assert first.df("pear") == 1 and first.df("plum") == 0
    assert second.df("plum") == 1 and second.df("pear") == 0 and second.df("apple") == 1
    assert base.df("apple") == 0 and len(base) == 2


def test_save_and_load_round_trip_memory_mapped(tmp_path) -> None:
    index = BM25Index.build(ROWS[:4]).appended(ROWS[4:])
    index.save(tmp_path / "a")
    loaded = BM25Index.load(tmp_path / "a")
    assert isinstance(loaded.segments[0].term_rows.base, np.memmap)  # a plain array over the mapped file
    for query in QUERIES:
        np.testing.assert_array_equal(loaded.scores(tokenize(query)), index.scores(tokenize(query)))
    assert loaded.terms == index.terms


def test_a_saved_segment_left_unchanged_is_linked_not_written_again(tmp_path) -> None:
    BM25Index.build(ROWS * 8).save(tmp_path / "gen-1")
    grown = BM25Index.load(tmp_path / "gen-1").appended([tokenize("新的一篇文章")])
    grown.save(tmp_path / "gen-2")
    old = tmp_path / "gen-2" / "segment-0" / "term_rows.npy"
    new = tmp_path / "gen-2" / "segment-1" / "term_rows.npy"
    assert os.stat(old).st_ino == os.stat(tmp_path / "gen-1" / "segment-0" / "term_rows.npy").st_ino
    assert os.stat(new).st_nlink == 1
    assert BM25Index.load(tmp_path / "gen-2").df("文章") == 1


@pytest.mark.parametrize("share", [0.05, 0.5, None])
def test_few_postings_are_summed_per_row_found_with_the_same_result(monkeypatch, share) -> None:
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(300)]
    rows = [list(rng.choice(words, size=rng.integers(1, 40), p=np.arange(300, 0, -1) / 45150)) for _ in range(3000)]
    index = BM25Index.build(rows)
    allowed = None if share is None else rng.random(len(rows)) < share
    for query in (["w0", "w1", "w5", "w1"], ["w250", "w299"], ["w3", "w120", "nowhere"]):
        results = []
        for sparse_share in (0, 10**9):  # never, always summed per row found
            monkeypatch.setattr(bm25, "SPARSE_SHARE", sparse_share)
            results.append(index.top(query, 25, allowed))
        (rows_a, scores_a), (rows_b, scores_b) = results
        assert rows_a.tolist() == rows_b.tolist() and scores_a.tobytes() == scores_b.tobytes()
        expected = reference_scores(rows, query) * (1 if allowed is None else allowed)
        assert set(rows_a.tolist()) <= set(np.flatnonzero(expected).tolist())
        np.testing.assert_allclose(scores_a, expected[rows_a], rtol=1e-5)
        best = np.sort(expected[expected > 0])[::-1][:25]
        np.testing.assert_allclose(scores_a, best, rtol=1e-5)  # the best, best first


def test_rows_tied_at_the_kth_score_are_taken_in_row_order() -> None:
    rng = np.random.default_rng(1)
    rows = [["a", "b"] if tied else ["a", "c", "d"] for tied in rng.random(400) < 0.5]
    index = BM25Index.build(rows)
    expected = [i for i, row in enumerate(rows) if row == ["a", "b"]][:7]
    assert index.top(["a", "b"], 7)[0].tolist() == expected
