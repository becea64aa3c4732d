"""Evaluation: retrieval and answer quality on a gold set, or retrieval on a public dataset.

    rag eval eval/gold.jsonl                      # over the default seeds index
    rag eval ../shared/datasets/xquad-mixed       # corpus.jsonl + queries.jsonl folder
    rag eval ../shared/datasets/cmrc-trial --reader   # the reader alone, given the gold paragraph
    python -m eval.run ...                        # the same, from a checkout

Gold set (eval/gold.jsonl, see eval/README.md): per question `ask()` and `search(k=10)`, then
- retrieval: Recall@1/5/10 and MRR@10 at document level (a duplicate story counts as its copies);
- answer: AnswerHit (a gold string in the answer text), CitationHit (in a cited passage), citation
  precision (share of citations whose passage holds a gold string), abstention precision/recall;
- latency p50/p95 of ask().
Datasets: retrieval metrics, split by `cross_lingual` when the queries have it; with `--reader`, the reader alone
on each question's gold paragraph (EM / F1, as CMRC 2018's and SQuAD's scripts score them).
Reports (JSON + Markdown with plots) go to `out` (`default_reports()`); a summary table is printed. A gold-set run
also writes `<name>.html` there: per question the answer, the gold strings, hit or miss, abstention and the cited
passages with the gold strings marked, and a "misses only" filter (`rag.evaluation.report_html`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from rag.api import RAG
from rag.evaluation.metrics import contains_any, exact_match, f1_score, first_rank, percentile, retrieval_metrics
from rag.evaluation.report_html import gold_report_html
from rag.lang.text import has_han
from rag.paths import project_root, read_jsonl
from rag.reader import Reader
from rag.settings import Settings


def default_reports() -> Path:
    """eval/reports/ in a checkout; ./eval-reports/ in the working directory for an installed package."""
    root = project_root()
    return root / "eval" / "reports" if root else Path.cwd() / "eval-reports"


def _story_ids(rag: RAG) -> dict[str, set[str]]:
    """doc id -> every id of the same story, so that a collapsed duplicate counts as a hit."""
    groups: dict[str, set[str]] = defaultdict(set)
    for d in rag.documents():
        root = d.duplicate_of or d.id
        groups[root] |= {d.id, root}
    return {member: group for group in groups.values() for member in group}


def eval_gold(rag: RAG, gold_path: Path, limit: int | None = None, mode: str | None = None) -> dict[str, Any]:
    items = read_jsonl(gold_path)
    items = items[:limit] if limit else items
    stories = _story_ids(rag)
    rag.ask(items[0]["question"])  # warm-up: first call loads models and caches
    rows = []
    for item in items:
        started = time.perf_counter()
        answer = rag.ask(item["question"], k=5, mode=mode)
        latency = time.perf_counter() - started
        passages = rag.search(item["question"], k=10, mode=mode)
        gold_docs = set().union(*(stories.get(d, {d}) for d in item["doc_ids"])) if item["doc_ids"] else set()
        answerable = bool(item["answers"])
        cited = [c.text for c in answer.citations]
        rows.append({
            "id": item["id"], "type": item["type"], "lang": item["lang"], "answerable": answerable,
            "rank": first_rank([p.doc_id for p in passages], gold_docs) if answerable else None,
            "answer_hit": answerable and not answer.abstained and contains_any(answer.text, item["answers"]),
            "citation_hit": answerable and not answer.abstained
            and any(contains_any(t, item["answers"]) for t in cited),
            "citations": len(cited),
            "supported_citations": sum(contains_any(t, item["answers"]) for t in cited) if answerable else 0,
            "abstained": answer.abstained,
            "confidence": answer.confidence,
            "latency": latency,
            "answer": answer.text,
            "question": item["question"],
            "gold": item["answers"],
            "cited": [{"n": c.n, "text": c.text, "title": c.title, "source": c.source, "date": c.date}
                      for c in answer.citations],
        })
    return {"rows": rows, "summary": _summarise_gold(rows)}


def _summarise_gold(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def block(subset: list[dict[str, Any]]) -> dict[str, Any]:
        answerable = [r for r in subset if r["answerable"]]
        unanswerable = [r for r in subset if not r["answerable"]]
        abstained = [r for r in subset if r["abstained"]]
        cited = sum(r["citations"] for r in answerable)
        out: dict[str, Any] = {"n": len(subset)}
        if answerable:
            out.update(retrieval_metrics([r["rank"] for r in answerable]))
            out["n"] = len(subset)
            out["answer_hit"] = sum(r["answer_hit"] for r in answerable) / len(answerable)
            out["answer_or_citation_hit"] = (
                sum(r["answer_hit"] or r["citation_hit"] for r in answerable) / len(answerable))
            out["citation_hit"] = sum(r["citation_hit"] for r in answerable) / len(answerable)
            out["citation_precision"] = sum(r["supported_citations"] for r in answerable) / cited if cited else 0.0
            out["abstain_rate_answerable"] = sum(r["abstained"] for r in answerable) / len(answerable)
        if unanswerable:
            out["abstention_recall"] = sum(r["abstained"] for r in unanswerable) / len(unanswerable)
        if abstained:
            out["abstention_precision"] = sum(not r["answerable"] for r in abstained) / len(abstained)
        return out

    latencies = [r["latency"] for r in rows]
    summary: dict[str, Any] = {"overall": block(rows), "by_type": {}, "by_lang": {}}
    for key, name in (("type", "by_type"), ("lang", "by_lang")):
        for value in sorted({r[key] for r in rows}):
            summary[name][value] = block([r for r in rows if r[key] == value])
    summary["latency_ms"] = {"p50": 1000 * percentile(latencies, 0.5), "p95": 1000 * percentile(latencies, 0.95)}
    return summary


def eval_dataset(rag: RAG, folder: Path, limit: int | None = None, mode: str | None = None) -> dict[str, Any]:
    queries = read_jsonl(folder / "queries.jsonl")
    queries = queries[:limit] if limit else queries
    blank = [q["id"] for q in queries if not q["question"].strip()]
    if blank:
        print(f"skipping {len(blank)} question(s) with no text: {', '.join(blank)}", file=sys.stderr)
    queries = [q for q in queries if q["question"].strip()]
    rows, latencies = [], []
    for q in queries:
        started = time.perf_counter()
        passages = rag.search(q["question"], k=10, mode=mode)
        latencies.append(time.perf_counter() - started)
        group = ("cross-lingual" if q["cross_lingual"] else "same-language") if "cross_lingual" in q else "all"
        rows.append({"id": q["id"], "group": group, "lang": q.get("lang", ""),
                     "rank": first_rank([p.doc_id for p in passages], set(q["gold_ids"]))})
    summary: dict[str, Any] = {"overall": retrieval_metrics([r["rank"] for r in rows]), "by_group": {}}
    for group in sorted({r["group"] for r in rows}):
        summary["by_group"][group] = retrieval_metrics([r["rank"] for r in rows if r["group"] == group])
    summary["latency_ms"] = {"p50": 1000 * percentile(latencies, 0.5), "p95": 1000 * percentile(latencies, 0.95)}
    return {"rows": rows, "summary": summary}


def eval_reader(reader: Reader, folder: Path, limit: int | None = None) -> dict[str, Any]:
    """The reader alone, given each question's gold paragraph: EM / F1 in percent (Chinese paragraphs by characters,
    as CMRC 2018's script; English by tokens, as SQuAD's), best over the gold answers; no answer scores 0."""
    corpus = {row["id"]: row["text"] for row in read_jsonl(folder / "corpus.jsonl")}
    queries = sorted((q for q in read_jsonl(folder / "queries.jsonl") if q["question"].strip() and q.get("answers")),
                     key=lambda q: q["id"])
    if limit and len(queries) > limit:  # spread over every article, as ../shared/bench/score_answers.py takes them
        queries = [queries[int(i * len(queries) / limit)] for i in range(limit)]
    rows, latencies = [], []
    for q in queries:
        context = corpus[q["gold_ids"][0]]
        started = time.perf_counter()
        spans = reader.read(q["question"], [context], k=1)
        latencies.append(time.perf_counter() - started)
        predicted = spans[0].text if spans else ""
        chinese = has_han(context)  # a paragraph with Han characters is scored by characters
        rows.append({"id": q["id"], "prediction": predicted, "em": exact_match(predicted, q["answers"], chinese),
                     "f1": f1_score(predicted, q["answers"], chinese)})
    n = len(rows) or 1
    summary = {"overall": {"n": len(rows), "EM": 100 * sum(r["em"] for r in rows) / n,
                           "F1": 100 * sum(r["f1"] for r in rows) / n,
                           "no_answer": sum(not r["prediction"] for r in rows) / n},
               "latency_ms": {"p50": 1000 * percentile(latencies, 0.5), "p95": 1000 * percentile(latencies, 0.95)}}
    return {"rows": rows, "summary": summary}


def _table(summary: dict[str, Any]) -> str:
    columns = ["n", "EM", "F1", "no_answer", "recall@1", "recall@5", "recall@10", "mrr@10", "answer_hit",
               "answer_or_citation_hit", "citation_precision", "abstain_rate_answerable", "abstention_recall",
               "abstention_precision"]
    sections = [("overall", {"overall": summary["overall"]})]
    sections += [(name, summary[name]) for name in ("by_group", "by_type", "by_lang") if name in summary]
    used = [c for c in columns if any(c in row for _, block in sections for row in block.values())]
    lines = ["| slice | " + " | ".join(used) + " |", "|---|" + "---|" * len(used)]
    for _, block in sections:
        for name, row in block.items():
            cells = [f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in used]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(f"\nlatency p50 {summary['latency_ms']['p50']:.1f} ms, p95 {summary['latency_ms']['p95']:.1f} ms")
    return "\n".join(lines)


def _plots(name: str, result: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    rows = [r for r in result["rows"] if r.get("answerable", True)]
    if not rows or "rank" not in rows[0]:  # the reader's report: scores, no ranks to plot
        return files
    key = "lang" if rows and "type" in rows[0] else "group"
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for value in sorted({r[key] for r in rows}):
        ranks = [r["rank"] for r in rows if r[key] == value]
        ks = list(range(1, 11))
        ax.plot(ks, [sum(r is not None and r < k for r in ranks) / len(ranks) for k in ks], marker="o", label=value)
    ax.set_xlabel("k")
    ax.set_ylabel("Recall@k (document)")
    ax.set_title(f"{name}: recall@k by {key}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"{name}-recall.png", dpi=100)
    files.append(f"{name}-recall.png")
    plt.close(fig)
    if "latency" in result["rows"][0]:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.hist([1000 * r["latency"] for r in result["rows"]], bins=30)
        ax.set_xlabel("ask() latency (ms)")
        ax.set_ylabel("questions")
        fig.tight_layout()
        fig.savefig(out / f"{name}-latency.png", dpi=100)
        files.append(f"{name}-latency.png")
        plt.close(fig)
    return files


def write_report(name: str, result: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    images = _plots(name, result, out)
    markdown = [f"# {name}", f"_{time.strftime('%Y-%m-%d %H:%M')}_", "", _table(result["summary"]), ""]
    markdown += [f"![{img}]({img})" for img in images]
    path = out / f"{name}.md"
    path.write_text("\n".join(markdown) + "\n", encoding="utf-8")
    return path


def write_gold_html(name: str, result: dict[str, Any], out: Path) -> Path:
    """`<name>.html` in `out` (beside `<name>.json` and `.md`): every question of a gold-set evaluation, its answer,
    hit or miss and cited passages."""
    out.mkdir(parents=True, exist_ok=True)
    title = f"{name}: per question, {time.strftime('%Y-%m-%d %H:%M')}"
    path = out / f"{name}.html"
    path.write_text(gold_report_html(result["rows"], result["summary"], title), encoding="utf-8")
    return path


def run_eval(target: str, index_dir: str | None = None, corpus: list[str] | None = None, limit: int | None = None,
             mode: str | None = None, out: str | Path | None = None, reader: bool = False) -> int:
    target_path = Path(target)
    reports = Path(out) if out else default_reports()
    settings = Settings.load()
    if reader:
        if not target_path.is_dir():
            raise ValueError("--reader needs a dataset folder (corpus.jsonl + queries.jsonl with gold_ids)")
        name = f"{target_path.name}-reader"
        result = eval_reader(Reader.load(settings.reader_model or None), target_path, limit)
    elif target_path.is_dir():
        name = target_path.name
        index = Path(index_dir) if index_dir else reports / "indexes" / name
        rag = RAG.open(index, settings) if (index / "CURRENT").is_file() and not corpus else RAG.build(
            corpus or [str(target_path / "corpus.jsonl")], index_dir=index, settings=settings)
        result = eval_dataset(rag, target_path, limit, mode)
    else:
        name = target_path.stem
        if corpus:
            rag = RAG.build(corpus, index_dir=index_dir or reports / "indexes" / name, settings=settings)
        elif index_dir:
            rag = RAG.open(index_dir, settings)
        else:
            rag = RAG.open_default(settings)
        result = eval_gold(rag, target_path, limit, mode)
    if mode:
        name = f"{name}-{mode}"
    path = write_report(name, result, reports)
    gold_set = not reader and not target_path.is_dir()
    per_question = write_gold_html(name, result, reports) if gold_set else None
    print(_table(result["summary"]))
    print(f"\nreport: {path}")
    if per_question:
        print(f"per question: {per_question}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="gold .jsonl or a dataset folder (corpus.jsonl + queries.jsonl)")
    parser.add_argument("--index-dir")
    parser.add_argument("--corpus", nargs="*")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--mode", choices=["hybrid", "dense", "keyword"])
    parser.add_argument("--out", help="folder for the reports (default: eval/reports in a checkout)")
    parser.add_argument("--reader", action="store_true", help="the reader alone, on each question's gold paragraph")
    args = parser.parse_args(argv)
    return run_eval(args.target, args.index_dir, args.corpus, args.limit, args.mode, args.out, args.reader)


if __name__ == "__main__":
    sys.exit(main())
