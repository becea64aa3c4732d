"""The keyword leg two ways, over the same tokens: this package's BM25 postings (rag/retrieve/bm25.py, in the index's
`lexical/` folder) and Milvus's full-text search (a BM25 function over a text field, milvus-lite >= 3.2 and Milvus
servers >= 2.5); prints a Markdown table and, with --json, writes the numbers.

    python -m eval.bench_keyword [--sizes 100000] [--questions 60]

The corpus is eval/bench.py's synthetic one (chunks of seed and dataset sentences, Chinese and English), the
questions those of our gold set, k the retriever's `candidates`. Both legs score the same tokens
(rag.retrieve.lexical.tokenize): milvus-lite 3.2's analyzers are `standard` and `jieba` only (no whitespace
tokenizer; its jieba would cut words otherwise and not fold scripts), so each token is stored as its vocabulary id
written as a word (`t1234`), which the standard analyzer keeps whole. Both run BM25 with k1 = 1.5, b = 0.75, and
each query keeps to one language family (a filter on `lang`), as the keyword leg asks. Reported per size: build
seconds (postings; Milvus: insert, flush and load), query p50 / p95 (one thread, second pass over the questions),
and how far the two agree (the same best row; overlap of the top 10; Milvus's scores are (k1 + 1) times ours,
Lucene's older form, so the rankings can agree exactly).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.bench import DATASETS, SEEDS, gold_questions, sentence_pool, synthetic_corpus  # noqa: E402
from rag.retrieve.bm25 import K1, B, BM25Index  # noqa: E402
from rag.retrieve.corpus import language_family  # noqa: E402
from rag.retrieve.lexical import tokenize, tokenize_all  # noqa: E402
from rag.settings import Settings  # noqa: E402

INSERT_BATCH = 2000
FAMILY = "zh"  # the gold questions are Chinese: their same-language query keeps to the Chinese chunks


@dataclass
class KeywordRow:
    chunks: int
    leg: str  # "postings" or "milvus-lite"
    build_s: float
    p50_ms: float
    p95_ms: float
    same_best: float  # share of questions whose best row is the postings' best row
    top10_overlap: float


class MilvusKeywordLeg:
    """BM25 through a milvus-lite collection: (id, lang, tokens) rows, `tokens` analysed by a BM25 function."""

    def __init__(self, db: Path, token_ids: Callable[[Sequence[str]], str]) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        self.token_ids = token_ids
        self.client = MilvusClient(str(db))
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("lang", DataType.VARCHAR, max_length=16)
        schema.add_field("tokens", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"],
                                     output_field_names=["sparse"]))
        index = self.client.prepare_index_params()
        index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                        params={"bm25_k1": K1, "bm25_b": B})
        self.client.create_collection("chunks", schema=schema, index_params=index)

    def add(self, families: Sequence[str], token_lists: Sequence[Sequence[str]]) -> None:
        for start in range(0, len(token_lists), INSERT_BATCH):
            self.client.insert("chunks", [{"id": row, "lang": families[row],
                                           "tokens": self.token_ids(token_lists[row]) or "_"}
                                          for row in range(start, min(len(token_lists), start + INSERT_BATCH))])
        self.client.flush("chunks")
        self.client.load_collection("chunks")

    def top(self, tokens: Sequence[str], k: int, family: str) -> list[int]:
        found = self.client.search("chunks", data=[self.token_ids(tokens) or "_"], anns_field="sparse", limit=k,
                                   filter=f'lang == "{family}"', output_fields=[],
                                   search_params={"params": {"drop_ratio_search": 0.0}})
        return [hit["id"] for hit in found[0]]

    def close(self) -> None:
        self.client.close()


def timed(top: Callable[[Sequence[str]], list[int]], queries: list[list[str]]) -> tuple[list[list[int]], float, float]:
    """Rows found per query and p50 / p95 ms of the second of two passes (the first warms caches)."""
    for tokens in queries:
        top(tokens)
    found, seconds = [], []
    for tokens in queries:
        started = time.perf_counter()
        found.append(top(tokens))
        seconds.append(time.perf_counter() - started)
    p50, p95 = np.percentile(seconds, [50, 95]) * 1000
    return found, round(float(p50), 2), round(float(p95), 2)


def agreement(found: list[list[int]], reference: list[list[int]]) -> tuple[float, float]:
    """(share with the same best row, mean overlap of the top 10) against the reference leg's rows."""
    same = [a[:1] == b[:1] for a, b in zip(found, reference, strict=True)]
    overlap = [len(set(a[:10]) & set(b[:10])) / min(10, len(b)) if b else float(not a)
               for a, b in zip(found, reference, strict=True)]
    return round(float(np.mean(same)), 3), round(float(np.mean(overlap)), 3)


def measure(size: int, questions: list[str], pool: dict[str, list[str]], work: Path) -> list[KeywordRow]:
    settings = Settings()
    k = settings.candidates  # rows per query, as many as the retriever asks the keyword leg for
    _, chunks = synthetic_corpus(size, pool, settings.chunk_size)
    token_lists = tokenize_all([c.text for c in chunks])
    families = [language_family(c.lang) for c in chunks]
    queries = [tokenize(q) for q in questions]

    started = time.perf_counter()
    postings = BM25Index.build(token_lists)
    postings_s = time.perf_counter() - started
    in_family = np.array([f == FAMILY for f in families])
    local, p50, p95 = timed(lambda tokens: postings.top(tokens, k, in_family)[0].tolist(), queries)
    rows = [KeywordRow(size, "postings", round(postings_s, 1), p50, p95, 1.0, 1.0)]

    def token_ids(tokens: Sequence[str]) -> str:
        return " ".join(f"t{term}" for term in map(postings.term_id, tokens) if term is not None)

    milvus = MilvusKeywordLeg(work / f"keyword-{size}.db", token_ids)
    try:
        started = time.perf_counter()
        milvus.add(families, token_lists)
        milvus_s = time.perf_counter() - started
        found, p50, p95 = timed(lambda tokens: milvus.top(tokens, k, FAMILY), queries)
    finally:
        milvus.close()
    rows.append(KeywordRow(size, "milvus-lite", round(milvus_s, 1), p50, p95, *agreement(found, local)))
    return rows


def render(rows: list[KeywordRow]) -> str:
    lines = ["| chunks | keyword leg | build s | query p50 / p95 ms | same best row | top-10 overlap |",
             "|---:|---|---:|---:|---:|---:|"]
    lines += [f"| {r.chunks:,} | {r.leg} | {r.build_s} | {r.p50_ms} / {r.p95_ms} | {r.same_best:.3f} | "
              f"{r.top10_overlap:.3f} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="folder of */corpus.jsonl (sentences)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    pool = sentence_pool(SEEDS, args.datasets)
    questions = [q for q, _ in gold_questions(args.questions)]
    with tempfile.TemporaryDirectory(prefix="rag-keyword-") as work:
        rows = [row for size in args.sizes for row in measure(size, questions, pool, Path(work))]
    print(render(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
