"""The per-question HTML report of a gold-set evaluation (`rag eval eval/gold.jsonl` writes it as `gold.html`,
beside its JSON and Markdown reports).

In: the rows and summary of `rag.evaluation.run.eval_gold` (per question: id, type, lang, question, gold answers,
the answer's text, answer_hit, abstained, answerable and the cited passages with title, outlet and date) and a title.
Out: one self-contained HTML page as a string: counts of hits, misses and abstentions at the top, then one table row
per question, the gold strings marked (<mark>) where they occur in the answer and the cited passages, and a
"misses only" checkbox that hides every other row with plain CSS (no script, no external assets, no network).
Everything taken from the data is HTML-escaped.

A row's result: an answerable question is a hit when a gold string is in the answer text (answer_hit), else a miss;
an unanswerable one is a hit when the tool abstained, a miss when it answered.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from rag.evaluation.metrics import normalise
from rag.lang.text import to_simplified

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
.counts span { display: inline-block; margin: 0 1.2em .4em 0; }
.metrics { border-collapse: collapse; margin: .5em 0 1em; font-size: 12px; }
.metrics td, .metrics th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
label.filter { display: inline-block; margin: .3em 0 1em; padding: .3em .7em; background: #f3f3f3;
  border: 1px solid #ccc; border-radius: 4px; cursor: pointer; }
table.questions { border-collapse: collapse; width: 100%; }
table.questions th, table.questions td { border-top: 1px solid #ddd; padding: 6px; vertical-align: top;
  text-align: left; }
tr.q.miss td.result { color: #a00; font-weight: bold; }
tr.q.hit td.result { color: #070; }
#misses-only:checked ~ table.questions tr.q.hit { display: none; }
mark { background: #ffe066; }
ol.cited { margin: 0; padding-left: 1.3em; }
ol.cited li { margin-bottom: .5em; }
.meta { color: #666; font-size: 12px; }
.passage { white-space: pre-wrap; }
.gold { white-space: nowrap; }
"""

_METRICS = ["n", "recall@1", "recall@5", "mrr@10", "answer_hit", "citation_hit", "citation_precision",
            "abstain_rate_answerable", "abstention_recall", "abstention_precision"]


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _folded(text: str) -> tuple[str, list[int]]:
    """`text` as `metrics.normalise` compares it (NFKC, Simplified, lower case, no spaces, no digit-grouping commas),
    with the index in `text` of each character kept."""
    chars: list[str] = []
    owners: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if not c.isspace():
                chars.append(c)
                owners.append(i)
    joined = "".join(chars)
    simplified = to_simplified(joined)
    if len(simplified) == len(joined):  # a conversion that changed the length would lose the mapping: skip it
        joined = simplified
    keep = [k for k in range(len(joined))
            if not (joined[k] == "," and k > 0 and joined[k - 1].isdigit() and re.match(r"\d{3}", joined[k + 1:]))]
    return "".join(joined[k] for k in keep), [owners[k] for k in keep]


def gold_spans(text: str, answers: Iterable[str]) -> list[tuple[int, int]]:
    """(start, end) in `text` of every occurrence of a gold string, matched as `metrics.contains_any` matches
    (across scripts, widths, spacing and digit grouping); overlapping spans merged."""
    haystack, owners = _folded(text)
    spans: list[tuple[int, int]] = []
    for answer in answers:
        needle = normalise(answer)
        if not needle:
            continue
        start = haystack.find(needle)
        while start >= 0:
            spans.append((owners[start], owners[start + len(needle) - 1] + 1))
            start = haystack.find(needle, start + len(needle))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, answers: Iterable[str]) -> str:
    """`text` escaped, with each occurrence of a gold string wrapped in <mark>."""
    out, last = [], 0
    for start, end in gold_spans(text, answers):
        out += [_e(text[last:start]), "<mark>", _e(text[start:end]), "</mark>"]
        last = end
    out.append(_e(text[last:]))
    return "".join(out)


def is_hit(row: dict[str, Any]) -> bool:
    """An answerable question is a hit when a gold string is in the answer; an unanswerable one when it abstained."""
    return bool(row["answer_hit"]) if row.get("answerable", True) else bool(row["abstained"])


def _result(row: dict[str, Any]) -> str:
    if row.get("answerable", True):
        label = "hit" if row["answer_hit"] else "miss"
        return label + (" (abstained)" if row["abstained"] else "")
    return "hit (abstained, unanswerable)" if row["abstained"] else "miss (answered an unanswerable question)"


def _passages(row: dict[str, Any], gold: Sequence[str]) -> str:
    cited = row.get("cited") or []
    if not cited:
        return '<span class="meta">none</span>'
    items = []
    for c in cited:
        meta = " · ".join(_e(v) for v in (c.get("title"), c.get("source"), c.get("date")) if v)
        items.append(f'<li value="{_e(c.get("n", ""))}"><div class="meta">{meta}</div>'
                     f'<div class="passage">{highlight(c.get("text", ""), gold)}</div></li>')
    return '<ol class="cited">' + "".join(items) + "</ol>"


def _row(row: dict[str, Any]) -> str:
    gold = list(row.get("gold") or [])
    status = "hit" if is_hit(row) else "miss"
    gold_cell = "<br>".join(f'<span class="gold">{_e(g)}</span>' for g in gold) or '<span class="meta">none</span>'
    return (f'<tr class="q {status}" id="{_e(row["id"])}">'
            f'<td>{_e(row["id"])}</td><td>{_e(row.get("type", ""))}</td><td>{_e(row.get("lang", ""))}</td>'
            f'<td>{_e(row.get("question", ""))}</td>'
            f'<td class="passage">{highlight(row.get("answer", ""), gold)}</td>'
            f'<td>{gold_cell}</td><td class="result">{_e(_result(row))}</td>'
            f'<td>{_passages(row, gold)}</td></tr>')


def _metrics(summary: dict[str, Any]) -> str:
    overall = summary.get("overall", {})
    used = [m for m in _METRICS if m in overall]
    if not used:
        return ""
    cells = [f"{overall[m]:.3f}" if isinstance(overall[m], float) else _e(overall[m]) for m in used]
    latency = summary.get("latency_ms", {})
    note = (f'<p class="meta">ask() latency p50 {latency["p50"]:.1f} ms, p95 {latency["p95"]:.1f} ms</p>'
            if "p50" in latency and "p95" in latency else "")
    return ('<table class="metrics"><tr>' + "".join(f"<th>{_e(m)}</th>" for m in used) + "</tr><tr>"
            + "".join(f"<td>{c}</td>" for c in cells) + "</tr></table>" + note)


def gold_report_html(rows: Sequence[dict[str, Any]], summary: dict[str, Any], title: str) -> str:
    """One self-contained HTML page: counts and overall metrics, a "misses only" filter, a row per question."""
    hits = sum(is_hit(r) for r in rows)
    answered_unanswerable = sum(not r.get("answerable", True) and not r["abstained"] for r in rows)
    abstained = sum(bool(r["abstained"]) for r in rows)
    abstained_unanswerable = sum(bool(r["abstained"]) and not r.get("answerable", True) for r in rows)
    counts = (f'<span>questions <b>{len(rows)}</b></span>'
              f'<span>answerable <b>{sum(bool(r.get("answerable", True)) for r in rows)}</b></span>'
              f'<span class="hits">hits <b>{hits}</b></span>'
              f'<span class="misses">misses <b>{len(rows) - hits}</b> '
              f'({answered_unanswerable} answered an unanswerable question)</span>'
              f'<span class="abstentions">abstentions <b>{abstained}</b> '
              f'({abstained_unanswerable} on unanswerable questions)</span>')
    header = ("<tr><th>id</th><th>type</th><th>lang</th><th>question</th><th>answer</th><th>gold</th>"
              "<th>result</th><th>cited passages</th></tr>")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<div class="counts">{counts}</div>',
        _metrics(summary),
        '<p class="meta">A hit: a gold string in the answer text (for an unanswerable question: an abstention). '
        "Gold strings are <mark>marked</mark> in the answer and the cited passages.</p>",
        '<input type="checkbox" id="misses-only"> <label class="filter" for="misses-only">misses only</label>',
        f'<table class="questions"><thead>{header}</thead><tbody>',
        *(_row(r) for r in rows),
        "</tbody></table>",
        "</body></html>",
        "",
    ])
