"""Answer and retrieval metrics, as every evaluation of this project computes them.

In: answer texts with gold strings, ranks of the first gold document, reader predictions. Out: hits (a gold string in
a text, compared across scripts, widths, spacing and digit grouping), Recall@k, MRR@10, percentiles, reader F1 / EM.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable

from rag.lang.text import fold


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


# Reader scores, as CMRC 2018's and SQuAD's scripts compute them: Chinese by characters, English by tokens
# (articles dropped), punctuation and whitespace ignored; the best over the gold answers.
_PUNCTUATION = set(string.punctuation) | set("，。！？；：、“”‘’（）《》〈〉【】『』「」—…·～")


def _units(text: str, chinese: bool) -> list[str]:
    text = unicodedata.normalize("NFKC", text or "").lower()
    if chinese:
        return [ch for ch in text if not ch.isspace() and ch not in _PUNCTUATION]
    text = re.sub(r"\b(a|an|the)\b", " ", "".join(ch for ch in text if ch not in _PUNCTUATION))
    return text.split()


def f1_score(prediction: str, answers: Iterable[str], chinese: bool) -> float:
    """The best F1 of `prediction` against any of `answers`, in [0, 1]."""
    best = 0.0
    predicted = _units(prediction, chinese)
    for answer in answers:
        gold = _units(answer, chinese)
        same = sum((Counter(predicted) & Counter(gold)).values())
        if predicted and gold and same:
            best = max(best, 2 * same / (len(predicted) + len(gold)))
    return best


def exact_match(prediction: str, answers: Iterable[str], chinese: bool) -> float:
    predicted = _units(prediction, chinese)
    return float(any(predicted == _units(answer, chinese) for answer in answers))
