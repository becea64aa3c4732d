"""Scale benchmark of the vector stores on synthetic 384-d corpora; prints a Markdown table.

    python eval/bench_scale.py [--sizes 100000 1000000] [--backends faiss milvus]
                               [--kinds flat hnsw hnswsq ivfsq8 ivfpq] [--data uniform clustered]
                               [--ef-search 128 512] [--nprobe 48 192]

For each corpus size, vector distribution, backend and index type: build time (store.add of the
whole corpus, training included), RSS growth of this process while the store is alive, size on
disk after save(), single-query latency p50/p95 (one thread, after warm-up, `--queries` queries),
Recall@10 against exact search, and the same latency and recall with a filter that lets 5% of the
corpus through (a language), which the stores apply inside the search. Each index is built once
and measured at every search setting given (--ef-search for HNSW, --nprobe for IVF).

Distributions (fixed seeds): `uniform` = random unit vectors, the hardest case for ANN indexes
(no structure to exploit; every point is about equally far from every other); `clustered` = unit
vectors around 2,000 random centres (mixture of Gaussians, closer to real sentence embeddings),
with queries drawn near stored points. Milvus runs milvus-lite (in-process) and only up to
`--milvus-max` vectors: its gRPC inserts are far slower than FAISS.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.store import VectorMeta, create_store  # noqa: E402
from rag.store.base import SearchFilter  # noqa: E402

DIM = 384
K = 10
FILTER = SearchFilter(langs=("en",))
FILTER_SHARE = 0.05


@dataclass
class Row:
    size: int
    data: str
    backend: str
    kind: str
    search: str
    build_s: float
    rss_mb: float
    disk_mb: float
    p50_ms: float
    p95_ms: float
    recall: float
    filtered_p95_ms: float
    filtered_recall: float


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def unit(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def synthetic(n: int, data: str, queries: int) -> tuple[np.ndarray, np.ndarray]:
    """(corpus (n, DIM), queries (queries, DIM)), unit float32 rows, from fixed seeds."""
    rng = np.random.default_rng(20240601)
    if data == "uniform":
        return (unit(rng.standard_normal((n, DIM), dtype=np.float32)),
                unit(rng.standard_normal((queries, DIM), dtype=np.float32)))
    centres = unit(rng.standard_normal((2000, DIM), dtype=np.float32))
    corpus = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks, to bound the temporaries
        m = min(100_000, n - start)
        block = centres[rng.integers(0, len(centres), m)] + rng.standard_normal((m, DIM), dtype=np.float32) * 0.05
        corpus[start:start + m] = unit(block)
    near = corpus[rng.integers(0, n, queries)] + rng.standard_normal((queries, DIM), dtype=np.float32) * 0.03
    return corpus, unit(near)


def exact(corpus: np.ndarray, queries: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """Exact top-K row numbers, optionally among the `allowed` rows only."""
    rows = np.arange(len(corpus)) if allowed is None else np.flatnonzero(allowed)
    index = faiss.IndexFlatIP(DIM)
    index.add(corpus[rows])
    return rows[index.search(queries, K)[1]]


def recall(found: list[list[tuple[int, float]]], truth: np.ndarray) -> float:
    return float(np.mean([len({i for i, _ in f} & set(t.tolist())) / K for f, t in zip(found, truth, strict=True)]))


def timed_queries(store, queries: np.ndarray, where: SearchFilter | None) -> tuple[list, np.ndarray]:
    for q in queries[:20]:  # warm-up
        store.search(q[None, :], K, where=where)
    found, times = [], []
    for q in queries:
        start = time.perf_counter()
        found.append(store.search(q[None, :], K, where=where)[0])
        times.append(time.perf_counter() - start)
    return found, np.array(times) * 1000


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def search_settings(kind: str, efs: list[int], nprobes: list[int]) -> list[tuple[str, dict[str, int]]]:
    """(label, IndexParams changes) for each search-time setting to measure on an index of `kind`."""
    if kind.startswith("hnsw"):
        return [(f"ef={ef}", {"hnsw_ef_search": ef}) for ef in efs]
    if kind.startswith("ivf"):
        return [(f"nprobe={n}", {"ivf_nprobe": n}) for n in nprobes]
    return [("exact", {})]


def bench(backend: str, kind: str, size: int, data: str, corpus: np.ndarray, meta: list[VectorMeta],
          queries: np.ndarray, truth: np.ndarray, filtered_truth: np.ndarray, threads: int,
          settings: list[tuple[str, dict[str, int]]]) -> list[Row]:
    gc.collect()
    before = rss_mb()
    faiss.omp_set_num_threads(threads)
    start = time.perf_counter()
    store = create_store(backend, DIM, faiss_index=kind)
    store.add(np.arange(size), corpus, meta)
    build = time.perf_counter() - start
    gc.collect()
    grown = rss_mb() - before
    faiss.omp_set_num_threads(1)  # single-threaded queries
    rows = []
    for label, changes in settings:
        store.params = replace(store.params, **changes)
        found, times = timed_queries(store, queries, None)
        filtered, filtered_times = timed_queries(store, queries, FILTER)
        rows.append(Row(size, data, backend, kind, label, build, grown, 0.0, float(np.percentile(times, 50)),
                        float(np.percentile(times, 95)), recall(found, truth),
                        float(np.percentile(filtered_times, 95)), recall(filtered, filtered_truth)))
    workdir = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        store.save(workdir / "index")
        disk = dir_mb(workdir / "index")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if hasattr(store, "close"):
        store.close()
    del store
    gc.collect()
    return [replace(row, disk_mb=disk) for row in rows]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["faiss", "milvus"], choices=["faiss", "milvus"])
    parser.add_argument("--kinds", nargs="+", default=["flat", "hnsw", "hnswsq", "ivfsq8", "ivfpq"])
    parser.add_argument("--milvus-kinds", nargs="+", default=["hnsw"],
                        help="milvus-lite's FLAT is brute force in Python: about 0.5 s a query at 100k")
    parser.add_argument("--data", nargs="+", default=["uniform", "clustered"], choices=["uniform", "clustered"])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[128], help="HNSW efSearch values to measure")
    parser.add_argument("--nprobe", type=int, nargs="+", default=[48], help="IVF nprobe values to measure")
    parser.add_argument("--milvus-max", type=int, default=100_000, help="largest corpus given to milvus-lite")
    parser.add_argument("--threads", type=int, default=2, help="FAISS threads while building")
    parser.add_argument("--uniform-hnsw-max", type=int, default=100_000,
                        help="largest uniform corpus given to HNSW: its recall there is already ~0.1 at 100k, "
                             "and a 1M build takes over 10 minutes on 2 cores")
    args = parser.parse_args(argv)

    rows: list[Row] = []
    skipped: list[str] = []
    started = time.perf_counter()
    for size in args.sizes:
        rng = np.random.default_rng(7)
        langs = np.where(rng.random(size) < FILTER_SHARE, "en", "zh-hans")
        meta = [VectorMeta(doc_id=f"d{i // 8}", lang=str(lang), source="bench", date="2024-01-01")
                for i, lang in enumerate(langs)]
        for data in args.data:
            corpus, queries = synthetic(size, data, args.queries)
            faiss.omp_set_num_threads(args.threads)
            truth = exact(corpus, queries)
            filtered_truth = exact(corpus, queries, langs == "en")
            plan = [("faiss", kind) for kind in args.kinds if "faiss" in args.backends]
            if data == "uniform" and size > args.uniform_hnsw_max:
                skipped += [f"faiss {kind} on {size:,} uniform (--uniform-hnsw-max)"
                            for _, kind in plan if kind.startswith("hnsw")]
                plan = [(backend, kind) for backend, kind in plan if not kind.startswith("hnsw")]
            if "milvus" in args.backends:
                if size <= args.milvus_max:
                    plan += [("milvus", kind) for kind in args.milvus_kinds]
                else:
                    skipped.append(f"milvus on {size:,} {data} (--milvus-max)")
            for backend, kind in plan:
                settings = search_settings(kind, args.ef_search, args.nprobe)
                for row in bench(backend, kind, size, data, corpus, meta, queries, truth, filtered_truth,
                                 args.threads, settings):
                    rows.append(row)
                    print(f"# {size} {data} {backend}-{kind} {row.search}: build {row.build_s:.1f}s, "
                          f"p95 {row.p95_ms:.2f} ms, R@10 {row.recall:.3f} "
                          f"({time.perf_counter() - started:.0f}s so far)", file=sys.stderr, flush=True)
            del corpus
            gc.collect()
    print(f"\nVector store scale benchmark: {DIM}-d unit vectors, k={K}, {args.queries} single queries "
          f"on one thread after warm-up; builds on {args.threads} threads; filtered = lang filter passing "
          f"{FILTER_SHARE:.0%}.\n")
    print("| vectors | data | backend | index | search | build s | RSS Δ MB | disk MB | p50 ms | p95 ms "
          "| Recall@10 | filtered p95 ms | filtered Recall@10 |")
    print("|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.size:,} | {r.data} | {r.backend} | {r.kind} | {r.search} | {r.build_s:.1f} | {r.rss_mb:.0f} | "
              f"{r.disk_mb:.0f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} | {r.recall:.3f} | {r.filtered_p95_ms:.2f} | "
              f"{r.filtered_recall:.3f} |")
    if skipped:
        print(f"\nSkipped: {'; '.join(skipped)}.")
    print(f"\nTotal {time.perf_counter() - started:.0f}s.")


if __name__ == "__main__":
    main()
