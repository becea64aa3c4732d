"""Answer and retrieval metrics, as every evaluation of this project computes them.

In: answer texts with gold strings, ranks of the first gold document. Out: hits (a gold string in a text, compared
across scripts, widths, spacing and digit grouping), Recall@k, MRR@10, percentiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rag.text import fold


def normalise(text: str) -> str:
    """Compare answers across scripts, widths, spacing and digit grouping."""
    return re.sub(r"(?<=\d),(?=\d{3})", "", "".join(fold(text).split()))


def contains_any(text: str, answers: Iterable[str]) -> bool:
    haystack = normalise(text)
    return any(normalise(a) and normalise(a) in haystack for a in answers)


def first_rank(doc_ids: list[str], gold: set[str]) -> int | None:
    return next((i for i, d in enumerate(doc_ids) if d in gold), None)


def retrieval_metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "n": len(ranks),
        "recall@1": sum(r is not None and r < 1 for r in ranks) / n,
        "recall@5": sum(r is not None and r < 5 for r in ranks) / n,
        "recall@10": sum(r is not None and r < 10 for r in ranks) / n,
        "mrr@10": sum(1 / (r + 1) for r in ranks if r is not None and r < 10) / n,
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
