"""What to quote of a long sentence: the window of whole clauses that best holds the question's terms and the kind of
thing asked for.

In: a passage's text, a sentence's span in it, the question's analysis, the spans of the asked-for kind. Out:
`answering_clauses` -> the span to quote (at most TRIM_CHARS, at least MIN_CLAUSE_CHARS of the sentence); the clause
bounds and term positions it is built from, shared with the extractive composer's ranking.
"""

from __future__ import annotations

import re

from rag.compose.evidence import CountedTerms
from rag.lang.text import fold
from rag.query.analyze import QuestionInfo
from rag.query.text_view import text_view

TRIM_CHARS = 120  # quote only the answering clause(s) of sentences longer than this
MIN_CLAUSE_CHARS = 40  # a trimmed quote keeps at least this much of its sentence
_CLAUSE_END = re.compile(r"[，；：、;]|(?<!\d),|,(?!\d{3}(?!\d))|(?<!\d):|:(?!\d)")


def answering_clauses(text: str, start: int, end: int, info: QuestionInfo, cross: bool,
                       kinds: list[tuple[int, int]], among: set[int]) -> tuple[int, int]:
    """The window of whole clauses of text[start:end], at most TRIM_CHARS long, that best holds the
    question's terms and asked-for kind (`kinds`: spans in `text`; fewest characters on ties, then earliest).
    `among`: the question's terms in the passage."""
    bounds = clause_bounds(text, start, end)
    clauses = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if text[a:b].strip()]
    # Kinds and terms are found once (in the sentence, in each clause), not per window: that cost ~50 ms a question;
    # a window's coverage grows clause by clause (a term never spans a clause end: terms hold no punctuation).
    counted = CountedTerms.of(info, cross, entities=False)
    present = [counted.found_in(info, text_view(text[a:b]), among) for a, b in clauses]
    best: tuple[float, int, int, int, int] | None = None
    for i in range(len(clauses)):
        found: set[int] = set()
        for j in range(i, len(clauses)):
            found |= present[j]
            a, b = clauses[i][0], clauses[j][1]
            if b - a > TRIM_CHARS and j > i:
                break
            if b - a < MIN_CLAUSE_CHARS and j + 1 < len(clauses):
                continue
            matched, total = counted.totals(found)
            coverage = matched / total if total else 0.0
            value = coverage + (1.0 if any(a <= s and e <= b for s, e in kinds) else 0.0)
            key = (-value, b - a, a, a, b)
            if best is None or key < best:
                best = key
    if best is None:
        return start, end
    a, b = best[3], best[4]
    if b - start <= TRIM_CHARS:  # keep the sentence's opening ("At present, ...") when it fits
        a = start
    while a < b and (text[a].isspace() or text[a] in ",，;；:：、"):
        a += 1
    while b > a and (text[b - 1].isspace() or text[b - 1] in ",，;；:：、"):
        b -= 1
    return a, b


def clause_bounds(text: str, start: int, end: int) -> list[int]:
    """`start`, the end of each clause of text[start:end] (after its punctuation), and `end`."""
    return [start] + [m.end() for m in _CLAUSE_END.finditer(text, start, end)] + [end]


def term_positions(text: str, info: QuestionInfo) -> list[tuple[int, int]]:
    """Where the question's key terms (Latin/number terms, and Han terms ignoring spaces) occur."""
    folded = fold(text)
    lowered = folded if len(folded) == len(text) else text.lower()
    positions: list[tuple[int, int]] = []
    for term in info.terms:
        if term.text[:1].isdigit():
            continue
        pattern = r"\s*".join(re.escape(ch) for ch in term.text)
        positions.extend(m.span() for m in re.finditer(pattern, lowered))
    return positions


def gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, max(a[0], b[0]) - min(a[1], b[1]))
