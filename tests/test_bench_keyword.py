"""eval/bench_keyword.py: the keyword leg as this package's postings and as Milvus full-text search (milvus-lite)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `eval` is a folder of scripts, not an installed package

from eval import bench, bench_keyword  # noqa: E402


def test_both_legs_rank_the_same_tokens_alike(tmp_path: Path) -> None:
    pool = bench.sentence_pool(bench.SEEDS, tmp_path)  # the seeds' sentences alone
    questions = [q for q, _ in bench.gold_questions(12)]
    postings, milvus = bench_keyword.measure(300, questions, pool, tmp_path)
    assert (postings.leg, milvus.leg) == ("postings", "milvus-lite")
    # Milvus scores the same tokens (written as vocabulary ids) by the same BM25: the same best rows, bar ties.
    assert milvus.same_best >= 0.8
    assert milvus.top10_overlap >= 0.9
    assert "| 300 | milvus-lite |" in bench_keyword.render([postings, milvus])
