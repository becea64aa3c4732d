"""Embedding throughput of the configured embedder (Settings.load()), stage by stage; prints a Markdown table.

    python -m eval.bench_embed [--chunks 20000] [--batch-sizes 0 128 512]

On `--chunks` synthetic chunks of real sentences (eval/bench.py's `synthetic_corpus`, as the index
embeds them: `embedding_text`), measures chunks/s, characters/s and tokens/s of
- the model's tokenizer alone (sentence-transformers backend only: what `encode` must do on the CPU),
- the embedder alone (`embed_passages` on groups of `GROUP_BATCHES` batches, as the pipeline calls it),
- the embedder behind `CachedEmbedder` with an empty on-disk cache (what `RAG.build` pays).
Each row after one untimed warm-up group. For a GPU, run it where the GPU is: `RAG_EMBEDDER=sentence-transformers
RAG_EMBEDDER_MODEL=DIR python -m eval.bench_embed`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from eval.bench import DATASETS, SEEDS, machine, sentence_pool, synthetic_corpus
from rag.chunk import embedding_text
from rag.embed import GROUP_BATCHES, CachedEmbedder, create_embedder
from rag.embed.base import Embedder
from rag.settings import Settings

log = logging.getLogger(__name__)


def timed_rate(run: Callable[[Sequence[str]], object], texts: Sequence[str], group: int) -> float:
    """Seconds to `run` every group of `group` texts, after one untimed warm-up group."""
    run(texts[:group])
    start = time.perf_counter()
    for i in range(0, len(texts), group):
        run(texts[i : i + group])
    return time.perf_counter() - start


def measure(inner: Embedder, texts: Sequence[str], batch_size: int) -> Iterator[tuple[str, float]]:
    """(what, seconds) for the tokenizer alone (when the backend exposes one), the embedder, the embedder + cache."""
    tokenizer = getattr(getattr(inner, "_model", None), "tokenizer", None)
    if callable(tokenizer):
        prompt = inner.prompts.passage  # type: ignore[attr-defined] - the sentence-transformers backend

        def tokenize(batch: Sequence[str]) -> object:
            return tokenizer([prompt + t for t in batch], padding=True, truncation=True, return_tensors="pt")

        yield "tokenizer alone", timed_rate(tokenize, texts, inner.batch_size)
    yield "embedder", timed_rate(inner.embed_passages, texts, inner.batch_size * GROUP_BATCHES)
    with tempfile.TemporaryDirectory() as cache:
        cached = CachedEmbedder(inner, cache, batch_size)
        start = time.perf_counter()
        cached.embed_passages(texts)
        yield "embedder + cache (RAG.build)", time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--datasets", default=DATASETS, help="folder of */corpus.jsonl (sentences to recombine)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[0],
                        help="embed_batch_size values to try (0: the backend's own)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="# %(message)s", stream=sys.stderr)
    settings = Settings.load()
    _, chunks = synthetic_corpus(args.chunks, sentence_pool(SEEDS, Path(args.datasets)), settings.chunk_size)
    texts = [embedding_text(c, settings.embed_title) for c in chunks]
    texts.sort(key=len)  # as CachedEmbedder orders them
    chars = sum(map(len, texts))
    m = machine(settings)
    print(f"# Embedding throughput: {settings.embedder} {settings.embedder_model}".rstrip())
    print(f"_{m.date}; {m.nproc} × {m.cpu}" + (f", {m.accelerator}" if m.accelerator else "")
          + f"; {len(texts):,} chunks, {chars:,} characters, load average {m.load_avg[0]}_\n")
    print("| what | batch | chunks/s | chars/s | tokens/s |\n|---|---:|---:|---:|---:|")
    for batch_size in args.batch_sizes:
        inner = create_embedder(settings.embedder, settings.embedder_model, settings.device, batch_size)
        for what, seconds in measure(inner, texts, batch_size):
            print(f"| {what} | {inner.batch_size} | {len(texts) / seconds:,.1f} | {chars / seconds:,.0f} | "
                  f"{sum(inner.token_count(t) for t in texts) / seconds:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
