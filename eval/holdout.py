"""Abstention on questions whose article is not in the index, and answers on those whose article is.

    python -m eval.holdout qa-train [--as-configured]            # calibration data: never a test set
    python -m eval.holdout ../shared/datasets/xquad-zh2zh --as-configured   # report only

`qa-train` is the reader's calibration slice of ../shared/datasets/qa-train (the contexts `training/train_reader.py`
holds out: never trained on): CMRC 2018 (Chinese) and SQuAD 1.1 (English) paragraphs in one mixed index. A dataset
folder (corpus.jsonl + queries.jsonl) is a public test set: it may be reported on, never tuned on, so only
`--as-configured` runs on it.

Every fourth article is left out of the index; its questions become unanswerable (their answer is nowhere in the
corpus, while the corpus still covers similar topics), the other questions stay answerable. `--as-configured` asks
with the settings as they are and prints, per question language, the share of each group that abstained and the
answer hit rate (a gold string in the answer text or a cited passage). On qa-train it also asks every question over
the passages of the other language only (a filter): unanswerable across languages, as an English question is over a
corpus of Chinese articles that does not hold its answer. Without it, on qa-train, it prints for each
threshold on the extractive composer's confidence how many answerable and unanswerable questions would abstain.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rag.api import RAG
from rag.evaluation.metrics import contains_any
from rag.lang.text import is_chinese
from rag.settings import Settings
from training.train_reader import DATA, heldout

QA_TRAIN = {"zh-hans": "cmrc2018_train.jsonl", "en": "squad1.1_train_explorer.jsonl"}


def article_of(paragraph_id: str) -> str:
    return paragraph_id.rsplit("-", 1)[0]


def _qa_train_article(row: dict) -> str:
    """CMRC: `TRAIN_186_QUERY_0` -> `TRAIN_186`; SQuAD: `squad1.1-train/Title/p0/q0` -> `squad1.1-train/Title`."""
    return row["id"].rsplit("_QUERY_", 1)[0] if "_QUERY_" in row["id"] else row["id"].rsplit("/", 2)[0]


def qa_train_calibration() -> tuple[list[dict], list[dict]]:
    """(corpus rows {id, title, text, lang}, queries {id, question, answers, gold_ids, lang}) of the held-out slice."""
    corpus: dict[str, dict] = {}
    queries = []
    for lang, name in QA_TRAIN.items():
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if not heldout(row["context"]) or not row["answers"]:
                continue
            article = _qa_train_article(row)
            paragraph = f"{article}-{hashlib.sha1(row['context'].encode()).hexdigest()[:8]}"
            corpus.setdefault(paragraph, {"id": paragraph, "title": article.rsplit("/", 1)[-1].replace("_", " "),
                                          "text": row["context"], "lang": lang})
            queries.append({"id": row["id"], "question": row["question"], "lang": lang, "gold_ids": [paragraph],
                            "answers": [a["text"] for a in row["answers"]]})
    return list(corpus.values()), queries


def _dataset(folder: Path) -> tuple[list[dict], list[dict]]:
    def rows(name: str) -> Iterator[dict]:
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)

    return list(rows("corpus.jsonl")), [q for q in rows("queries.jsonl") if q["question"].strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="qa-train (the calibration slice) or a dataset folder (report only)")
    parser.add_argument("--per-group", type=int, default=150,
                        help="questions per group (language x answerable/unanswerable)")
    parser.add_argument("--as-configured", action="store_true", help="abstentions as configured, not a sweep")
    parser.add_argument("--index-dir", type=Path, help="keep the index here and reuse it on the next run")
    args = parser.parse_args(argv)
    if args.dataset == "qa-train":
        corpus, queries = qa_train_calibration()
    elif not args.as_configured:
        parser.error("a public dataset is a test set: only --as-configured runs on it (calibrate on qa-train)")
    else:
        corpus, queries = _dataset(Path(args.dataset))

    articles = sorted({article_of(p["id"]) for p in corpus})
    held_out = set(articles[::4])
    rng = random.Random(0)
    groups: dict[tuple[str, bool], list[dict]] = {}
    for q in queries:
        answerable = not all(article_of(g) in held_out for g in q["gold_ids"])
        groups.setdefault((q.get("lang", ""), answerable), []).append(q)
    asked = [(q, can) for (lang, can), qs in sorted(groups.items())
             for q in rng.sample(qs, min(args.per_group, len(qs)))]

    settings = Settings.load() if args.as_configured else Settings.load(abstain_threshold=0.0, composer="extractive")
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index_dir or Path(tmp) / "index"
        if (index / "CURRENT").is_file():
            rag = RAG.open(index, settings)
        else:
            kept = Path(tmp) / "corpus.jsonl"
            kept.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in corpus
                                    if article_of(p["id"]) not in held_out), encoding="utf-8")
            rag = RAG.build([kept], index_dir=index, settings=settings)
        rows = []
        for q, can in asked:
            answer = rag.ask(q["question"])
            hit = can and (contains_any(answer.text, q["answers"])
                           or any(contains_any(c.text, q["answers"]) for c in answer.citations))
            rows.append((q.get("lang", ""), can, hit, answer.confidence, answer.abstained))
        across = [(q["lang"], rag.ask(q["question"], filters={"langs": [_other(q["lang"])]}).abstained)
                  for q, _ in asked] if args.as_configured and args.dataset == "qa-train" else []

    print(f"{args.dataset}: {len(corpus)} paragraphs, {len(held_out)} of {len(articles)} articles held out")
    if args.as_configured:
        print(f"composer {settings.composer}")
        print("| questions | answerable | answerable abstain | answer hit | unanswerable | unanswerable abstain |")
        print("|---|---|---|---|---|---|")
        for lang in sorted({r[0] for r in rows}) + ["all"]:
            ans = [r for r in rows if r[1] and lang in ("all", r[0])]
            una = [r for r in rows if not r[1] and lang in ("all", r[0])]
            print(f"| {lang or '-'} | {len(ans)} | {_share(ans, lambda r: r[4])} | "
                  f"{_share(ans, lambda r: r[2] and not r[4])} | {len(una)} | {_share(una, lambda r: r[4])} |")
        for lang in sorted({lang for lang, _ in across}):
            asked_across = [r for r in across if r[0] == lang]
            print(f"| {lang} over {_other(lang)} passages only | - | - | - | {len(asked_across)} | "
                  f"{_share(asked_across, lambda r: r[1])} |")
        return 0
    ans = [r for r in rows if r[1]]
    una = [r for r in rows if not r[1]]
    print("| threshold | answerable abstain | unanswerable abstain | answer hit |")
    print("|---|---|---|---|")
    for step in range(0, 11):
        t = step * 0.05
        print(f"| {t:.2f} | {sum(r[3] < t for r in ans) / len(ans):.3f} | {sum(r[3] < t for r in una) / len(una):.3f} "
              f"| {sum(r[2] and r[3] >= t for r in ans) / len(ans):.3f} |")
    return 0


def _other(lang: str) -> str:
    return "en" if is_chinese(lang) else "zh-hans"


def _share(rows: list[tuple], test) -> str:
    return f"{sum(bool(test(r)) for r in rows) / len(rows):.3f}" if rows else "-"


if __name__ == "__main__":
    sys.exit(main())
