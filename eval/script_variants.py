"""Script-crossing copies of a Simplified-Chinese dataset, to measure retrieval across Simplified and Traditional.

    python -m eval.script_variants ../shared/datasets/xquad-zh2zh --out /tmp/variants
    python -m eval.run /tmp/variants/xquad-zh2zh-hant-questions   # Traditional questions, Simplified corpus
    python -m eval.run /tmp/variants/xquad-zh2zh-hant-corpus      # Simplified questions, Traditional corpus

In: a dataset folder (corpus.jsonl + queries.jsonl, Simplified). Out: two dataset folders beside each other under
`--out`, converted with OpenCC (s2t); ids and gold ids unchanged, so the Recall@k of each is comparable with the
original's. The public data stays outside the repository (CC BY-SA: see README "Data").
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from rag.lang.text import to_traditional


def _convert(source: Path, target: Path, fields: tuple[str, ...], lang: str,
             convert: Callable[[str], str]) -> None:
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            for name in fields:
                if isinstance(row.get(name), str):
                    row[name] = convert(row[name])
            if "lang" in row:
                row["lang"] = lang
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_variants(dataset: Path, out: Path) -> list[Path]:
    """Write `<name>-hant-questions` and `<name>-hant-corpus` under `out`; returns their folders."""
    questions = out / f"{dataset.name}-hant-questions"
    corpus = out / f"{dataset.name}-hant-corpus"
    for folder in (questions, corpus):
        folder.mkdir(parents=True, exist_ok=True)
    _convert(dataset / "queries.jsonl", questions / "queries.jsonl", ("question",), "zh-hant", to_traditional)
    shutil.copyfile(dataset / "corpus.jsonl", questions / "corpus.jsonl")
    shutil.copyfile(dataset / "queries.jsonl", corpus / "queries.jsonl")
    _convert(dataset / "corpus.jsonl", corpus / "corpus.jsonl", ("title", "text"), "zh-hant", to_traditional)
    return [questions, corpus]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="folder with corpus.jsonl + queries.jsonl in Simplified Chinese")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for folder in write_variants(args.dataset, args.out):
        print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
