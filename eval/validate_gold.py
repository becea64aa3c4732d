"""Validate the gold question set (eval/gold.jsonl) against the cleaned seed articles.

In:  the gold file (one JSON object per line, format in eval/README.md) and the seed folder, which is
     read with `rag.ingest.load_documents`, so answers are checked against the text that gets indexed.
Out: a summary table (questions per type, per language, per article) on stdout, then every failure;
     exit status 0 when all checks pass, 1 otherwise.

Checks: schema and types; unique ids and questions; every doc id exists; each answer string occurs in
one of the question's documents and each listed document holds one of its answers (compared after
`rag.lang.text.fold`, with whitespace and digit-group commas removed on both sides); no question contains
its own answer; the question's language is what `rag.lang.text.detect_language` sees; per-type rules
(cross-lingual, traditional, paraphrase, multi-article, number, unanswerable); coverage minimums.

Usage: python -m eval.validate_gold [--gold eval/gold.jsonl] [--seeds seeds]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest import load_documents
from rag.lang.text import detect_language, fold, is_chinese
from rag.types import Document

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = ROOT / "eval" / "gold.jsonl"
DEFAULT_SEEDS = ROOT / "seeds"

TYPES = ("fact", "number", "cross-lingual", "paraphrase", "multi-article", "traditional", "unanswerable")
LANGS = ("zh-hans", "zh-hant", "en")
REQUIRED_FIELDS = {"id": str, "question": str, "lang": str, "answers": list, "doc_ids": list, "type": str}
OPTIONAL_FIELDS = {"note": str}
ID_PATTERN = re.compile(r"g\d{3,}")


@dataclass(frozen=True)
class Coverage:
    """Minimum counts the gold set must reach."""

    total: int = 100
    per_article: int = 4
    per_type: Mapping[str, int] = field(
        default_factory=lambda: {
            "cross-lingual": 25,
            "traditional": 12,
            "paraphrase": 12,
            "multi-article": 5,
            "unanswerable": 15,
        }
    )
    # fact and number questions in English and in Chinese each.
    fact_number_per_language: int = 5
    # cross-lingual questions in each direction (English -> Chinese source, Chinese -> English source).
    cross_lingual_per_direction: int = 5


# A paraphrase may share with its source at most this many consecutive Han characters (Chinese
# questions) or words (English questions); names such as 腾蛟镇 or "Xiamen" stay possible.
PARAPHRASE_MAX_SHARED_HAN = 4
PARAPHRASE_MAX_SHARED_WORDS = 3
# Answers are key strings (a figure, a name, a date), not sentences.
MAX_ANSWER_CHARS = 30

_WHITESPACE = re.compile(r"\s+")
_DIGIT_GROUP_COMMA = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")
_NUMERAL = re.compile(r"[0-9一二三四五六七八九十百千万亿两]")


@dataclass
class GoldItem:
    """One gold question; `answers` and `doc_ids` are empty for unanswerable questions."""

    id: str
    question: str
    lang: str
    answers: list[str]
    doc_ids: list[str]
    type: str
    note: str = ""


@dataclass
class Report:
    """What a validation run found: the parsed items, the summary table and every failure."""

    items: list[GoldItem]
    failures: list[str]
    table: str

    @property
    def ok(self) -> bool:
        return not self.failures


def normalise(text: str) -> str:
    """Text for answer matching: folded (NFKC, Simplified, lower case), no whitespace, 11,265 -> 11265."""
    return _DIGIT_GROUP_COMMA.sub("", _WHITESPACE.sub("", fold(text)))


def parse_gold(lines: Iterable[str]) -> tuple[list[GoldItem], list[str]]:
    """Parse gold lines into items; malformed lines are reported as failures and skipped."""
    items: list[GoldItem] = []
    failures: list[str] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            failures.append(f"line {lineno}: not valid JSON ({exc})")
            continue
        problems = _schema_problems(row)
        if problems:
            label = row.get("id", f"line {lineno}") if isinstance(row, dict) else f"line {lineno}"
            failures.extend(f"{label}: {p}" for p in problems)
            continue
        items.append(GoldItem(**row))
    return items, failures


def _schema_problems(row: object) -> list[str]:
    if not isinstance(row, dict):
        return ["a line must be a JSON object"]
    problems: list[str] = []
    for name, kind in REQUIRED_FIELDS.items():
        if name not in row:
            problems.append(f"missing field {name!r}")
        elif not isinstance(row[name], kind):
            problems.append(f"field {name!r} must be a {kind.__name__}")
    for name, kind in OPTIONAL_FIELDS.items():
        if name in row and not isinstance(row[name], kind):
            problems.append(f"field {name!r} must be a {kind.__name__}")
    unknown = set(row) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        problems.append(f"unknown fields {sorted(unknown)}")
    if problems:
        return problems
    if not ID_PATTERN.fullmatch(row["id"]):
        problems.append(f"id {row['id']!r} must look like g001")
    if not row["question"].strip():
        problems.append("empty question")
    if row["lang"] not in LANGS:
        problems.append(f"lang {row['lang']!r} is not one of {LANGS}")
    if row["type"] not in TYPES:
        problems.append(f"type {row['type']!r} is not one of {TYPES}")
    for name in ("answers", "doc_ids"):
        if not all(isinstance(x, str) and x.strip() for x in row[name]):
            problems.append(f"{name} must hold non-empty strings")
    return problems


def check_items(items: Sequence[GoldItem], docs: Mapping[str, Document]) -> list[str]:
    """Per-question checks: ids, answers against the cleaned documents, language and type rules."""
    failures: list[str] = []
    for name, values in (("id", [i.id for i in items]), ("question", [i.question for i in items])):
        for value, n in Counter(values).items():
            if n > 1:
                failures.append(f"{name} {value!r} is used {n} times")
    texts = {doc_id: normalise(doc.text) for doc_id, doc in docs.items()}
    for item in items:
        failures.extend(f"{item.id}: {p}" for p in _item_problems(item, docs, texts))
    return failures


def _item_problems(item: GoldItem, docs: Mapping[str, Document], texts: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    seen_lang = detect_language(item.question)
    if seen_lang != item.lang:
        problems.append(f"lang is {item.lang!r} but the question reads as {seen_lang!r}")
    if item.type == "unanswerable":
        if item.answers or item.doc_ids:
            problems.append("an unanswerable question must have empty answers and doc_ids")
        if not item.note.strip():
            problems.append("an unanswerable question needs a note saying what the articles do (not) say")
        return problems
    if not item.answers or not item.doc_ids:
        problems.append("an answerable question needs at least one answer and one doc_id")
        return problems
    unknown = [d for d in item.doc_ids if d not in docs]
    if unknown:
        problems.append(f"unknown doc_ids {unknown} (ids are <file stem>#<n>)")
    if len(set(item.doc_ids)) != len(item.doc_ids):
        problems.append("doc_ids repeat")
    known = [d for d in item.doc_ids if d in docs]
    question = normalise(item.question)
    for answer in item.answers:
        needle = normalise(answer)
        if len(needle) > MAX_ANSWER_CHARS:
            problems.append(f"answer {answer!r} is longer than {MAX_ANSWER_CHARS} characters: quote the key part")
        if known and not any(needle in texts[d] for d in known):
            problems.append(f"answer {answer!r} occurs in none of {known}")
        if needle in question:
            problems.append(f"the question contains its own answer {answer!r}")
    needles = [normalise(a) for a in item.answers]
    for doc_id in known:
        if not any(n in texts[doc_id] for n in needles):
            problems.append(f"{doc_id} is listed but holds none of the answers")
    docs_of = [docs[d] for d in known]
    problems.extend(_type_problems(item, docs_of))
    return problems


def _type_problems(item: GoldItem, docs_of: Sequence[Document]) -> list[str]:
    if not docs_of:
        return []
    problems: list[str] = []
    asks_chinese = is_chinese(item.lang)
    if item.type == "cross-lingual" and any(is_chinese(d.lang) == asks_chinese for d in docs_of):
        problems.append("a cross-lingual question must be answered only by articles in the other language")
    if item.type == "traditional" and item.lang != "zh-hant":
        problems.append("a traditional question must have lang 'zh-hant'")
    if item.type == "number" and not any(_NUMERAL.search(a) for a in item.answers):
        problems.append("a number question needs an answer with a numeral")
    if item.type == "multi-article" and len(_stories(docs_of)) < 2:
        problems.append("a multi-article question needs answers from two different stories")
    if item.type == "paraphrase":
        same_lang = [d for d in docs_of if is_chinese(d.lang) == asks_chinese]
        if not same_lang:
            problems.append("a paraphrase must be in its source's language (else it is cross-lingual)")
        for doc in same_lang:
            shared = shared_run(item.question, doc.text, chinese=asks_chinese)
            limit = PARAPHRASE_MAX_SHARED_HAN if asks_chinese else PARAPHRASE_MAX_SHARED_WORDS
            if len(shared) > limit:
                words = ("" if asks_chinese else " ").join(shared)
                problems.append(f"a paraphrase repeats {len(shared)} source words in a row: {words!r} ({doc.id})")
    return problems


def _stories(docs_of: Iterable[Document]) -> set[str]:
    """Distinct stories: a document marked as a duplicate counts as the one it duplicates."""
    return {d.duplicate_of or d.id for d in docs_of}


def shared_run(question: str, text: str, *, chinese: bool) -> list[str]:
    """Longest run of Han characters (Chinese) or words (English) the question shares with `text`."""
    if chinese:
        runs = [list(r) for r in _HAN_RUN.findall(normalise(question))]
        haystack = normalise(text)
        glue = ""
    else:
        runs = [_WORD.findall(fold(question))]
        haystack = " " + " ".join(_WORD.findall(fold(text))) + " "
        glue = " "
    best: list[str] = []
    for run in runs:
        for start in range(len(run)):
            end = start + len(best) + 1
            while end <= len(run) and _joined(run[start:end], glue) in haystack:
                best = run[start:end]
                end += 1
    return best


def _joined(units: Sequence[str], glue: str) -> str:
    return glue + glue.join(units) + glue


def check_coverage(
    items: Sequence[GoldItem], docs: Mapping[str, Document], minimum: Coverage = Coverage()
) -> list[str]:
    """Coverage checks: total, per type, per article, fact/number per language, cross-lingual directions."""
    failures: list[str] = []
    if len(items) < minimum.total:
        failures.append(f"coverage: {len(items)} questions, need at least {minimum.total}")
    types = Counter(i.type for i in items)
    for type_, need in minimum.per_type.items():
        if types[type_] < need:
            failures.append(f"coverage: {types[type_]} {type_} questions, need at least {need}")
    per_doc = Counter(d for i in items for d in i.doc_ids)
    for doc_id in docs:
        if per_doc[doc_id] < minimum.per_article:
            failures.append(f"coverage: {doc_id} has {per_doc[doc_id]} questions, need {minimum.per_article}")
    for type_ in ("fact", "number"):
        for group, chinese in (("English", False), ("Chinese", True)):
            n = sum(1 for i in items if i.type == type_ and is_chinese(i.lang) == chinese)
            if n < minimum.fact_number_per_language:
                failures.append(f"coverage: {n} {group} {type_} questions, need {minimum.fact_number_per_language}")
    cross = [i for i in items if i.type == "cross-lingual"]
    for direction, chinese in (("English -> Chinese", False), ("Chinese -> English", True)):
        n = sum(1 for i in cross if is_chinese(i.lang) == chinese)
        if n < minimum.cross_lingual_per_direction:
            failures.append(
                f"coverage: {n} cross-lingual {direction} questions, need {minimum.cross_lingual_per_direction}"
            )
    return failures


def summary_table(items: Sequence[GoldItem], docs: Mapping[str, Document]) -> str:
    """Counts per type (split by language), per language and per article, as plain text."""
    lines = [f"{len(items)} questions over {len(docs)} articles", ""]
    header = f"{'type':<15}" + "".join(f"{lang:>9}" for lang in LANGS) + f"{'total':>9}"
    lines += [header, "-" * len(header)]
    for type_ in TYPES:
        row = [sum(1 for i in items if i.type == type_ and i.lang == lang) for lang in LANGS]
        lines.append(f"{type_:<15}" + "".join(f"{n:>9}" for n in row) + f"{sum(row):>9}")
    totals = [sum(1 for i in items if i.lang == lang) for lang in LANGS]
    lines.append(f"{'total':<15}" + "".join(f"{n:>9}" for n in totals) + f"{len(items):>9}")
    lines += ["", f"{'article':<26}{'lang':<9}{'questions':>9}  title", "-" * 72]
    per_doc = Counter(d for i in items for d in i.doc_ids)
    for doc_id, doc in docs.items():
        lines.append(f"{doc_id:<26}{doc.lang:<9}{per_doc[doc_id]:>9}  {doc.title[:40]}")
    return "\n".join(lines)


def load_corpus(seeds: Path) -> tuple[dict[str, Document], list[str]]:
    """Seed articles by id, cleaned by rag.ingest exactly as they are indexed, and ingestion errors."""
    result = load_documents([seeds])
    return {doc.id: doc for doc in result.documents}, [f"ingest: {err}" for err in result.errors]


def validate(gold: Path = DEFAULT_GOLD, seeds: Path = DEFAULT_SEEDS, minimum: Coverage = Coverage()) -> Report:
    """Run every check on the gold file against the seed articles."""
    docs, failures = load_corpus(seeds)
    items, gold_failures = parse_gold(gold.read_text(encoding="utf-8").splitlines())
    failures += gold_failures
    failures += check_items(items, docs)
    failures += check_coverage(items, docs, minimum)
    return Report(items=items, failures=failures, table=summary_table(items, docs))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold questions (.jsonl)")
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS, help="folder of seed articles")
    args = parser.parse_args(argv)
    report = validate(args.gold, args.seeds)
    print(report.table)
    if report.ok:
        print("\nOK: every check passed")
        return 0
    print(f"\n{len(report.failures)} failures:")
    for failure in report.failures:
        print(f"  - {failure}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
