"""Abstention calibration on a public dataset: questions whose article is held out of the corpus.

    python -m eval.holdout ../shared/datasets/xquad-zh2zh [--per-group 150]

Every fourth article (by the `xquad-AA` / `cmrc-...` prefix of the paragraph ids) is left out of the
index; its questions become unanswerable (their answer is nowhere in the corpus, while the corpus
still covers similar Wikipedia topics), the other questions stay answerable. For each abstention
threshold the script prints how many answerable questions would abstain, how many unanswerable ones
would, and the answer hit rate, so `abstain_threshold` can be chosen on data other than our own gold set.
`--as-configured` asks with the settings as they are (e.g. `RAG_COMPOSER=reader`) and prints the share of each group
that abstained, and the answer hit rate.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from rag.evaluation.metrics import contains_any
from rag.pipeline import RAG
from rag.settings import Settings


def article_of(paragraph_id: str) -> str:
    return paragraph_id.rsplit("-", 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--per-group", type=int, default=150, help="questions per group (answerable/unanswerable)")
    parser.add_argument("--as-configured", action="store_true", help="abstentions as configured, not a sweep")
    args = parser.parse_args(argv)

    corpus = [json.loads(line) for line in (args.dataset / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = [json.loads(line) for line in (args.dataset / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = [q for q in queries if q["question"].strip()]  # cmrc-trial holds one empty question
    articles = sorted({article_of(p["id"]) for p in corpus})
    held_out = set(articles[::4])
    rng = random.Random(0)
    answerable = [q for q in queries if not any(article_of(g) in held_out for g in q["gold_ids"])]
    unanswerable = [q for q in queries if all(article_of(g) in held_out for g in q["gold_ids"])]
    answerable = rng.sample(answerable, min(args.per_group, len(answerable)))
    unanswerable = rng.sample(unanswerable, min(args.per_group, len(unanswerable)))

    with tempfile.TemporaryDirectory() as tmp:
        kept = Path(tmp) / "corpus.jsonl"
        kept.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in corpus
                                if article_of(p["id"]) not in held_out), encoding="utf-8")
        # The sweep is over the extractive composer's confidence, the scale of `abstain_threshold`.
        sweep = {"abstain_threshold": 0.0, "composer": "extractive"}
        settings = Settings.load() if args.as_configured else Settings.load(**sweep)
        rag = RAG.build([kept], index_dir=Path(tmp) / "index", settings=settings)
        rows = []
        for q, can in [(q, True) for q in answerable] + [(q, False) for q in unanswerable]:
            answer = rag.ask(q["question"])
            hit = can and (contains_any(answer.text, q["answers"])
                           or any(contains_any(c.text, q["answers"]) for c in answer.citations))
            rows.append((can, hit, answer.confidence, answer.abstained))

    ans = [r for r in rows if r[0]]
    una = [r for r in rows if not r[0]]
    print(f"{args.dataset.name}: {len(ans)} answerable, {len(una)} unanswerable (held-out articles: {len(held_out)})")
    if args.as_configured:
        print(f"composer {settings.composer}: answerable abstain {sum(r[3] for r in ans) / len(ans):.3f}, "
              f"unanswerable abstain {sum(r[3] for r in una) / len(una):.3f}, "
              f"answer hit {sum(r[1] and not r[3] for r in ans) / len(ans):.3f}")
        return 0
    print("| threshold | answerable abstain | unanswerable abstain | answer hit |")
    print("|---|---|---|---|")
    for step in range(0, 11):
        t = step * 0.05
        print(f"| {t:.2f} | {sum(r[2] < t for r in ans) / len(ans):.3f} | {sum(r[2] < t for r in una) / len(una):.3f} "
              f"| {sum(r[1] and r[2] >= t for r in ans) / len(ans):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
