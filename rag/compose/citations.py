"""One citation per story: collapse duplicate passages and turn the cited ones into `Citation`s.

In: ranked `Passage`s. Out: `Source`s (a passage plus the ids of the duplicates folded into it),
best first; `make_citation` builds the numbered `Citation` for a source. A later passage is a
duplicate of an earlier one when either lists the other in `also_in`, or when most of the
shorter one's character trigrams (folded, so Traditional and Simplified copies match) are in the
other: the same story indexed twice, e.g. from two newspaper scans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rag.text import fold
from rag.types import Citation, Passage

_SPACE = re.compile(r"\s+")
_SAME_STORY_OVERLAP = 0.6


@dataclass
class Source:
    passage: Passage
    also_in: list[str] = field(default_factory=list)
    _grams: frozenset[str] = field(default_factory=frozenset, repr=False)


def collapse_duplicates(passages: list[Passage]) -> list[Source]:
    sources: list[Source] = []
    for passage in passages:
        grams = _trigrams(passage.text)
        original = next((s for s in sources if _same_story(s, passage, grams)), None)
        if original is None:
            sources.append(Source(passage, list(passage.also_in), grams))
            continue
        for doc_id in [passage.doc_id, *passage.also_in]:
            if doc_id != original.passage.doc_id and doc_id not in original.also_in:
                original.also_in.append(doc_id)
    return sources


def _same_story(source: Source, passage: Passage, grams: frozenset[str]) -> bool:
    first = source.passage
    if first.doc_id == passage.doc_id:
        return False  # another paragraph of the same article, not a copy
    ids = {first.doc_id, *source.also_in}
    if passage.doc_id in ids or ids & set(passage.also_in):
        return True
    smaller = min(len(grams), len(source._grams))
    return smaller > 0 and len(grams & source._grams) / smaller >= _SAME_STORY_OVERLAP


@lru_cache(maxsize=8192)
def _trigrams(text: str) -> frozenset[str]:
    """Shared: the same passages come back question after question."""
    squashed = _SPACE.sub("", fold(text))
    return frozenset(squashed[i : i + 3] for i in range(len(squashed) - 2))


def make_citation(n: int, source: Source, support_span: tuple[int, int]) -> Citation:
    p = source.passage
    return Citation(
        n=n, text=p.text, doc_id=p.doc_id, title=p.title, source=p.source, date=p.date, path=p.path,
        span=p.span, score=p.score, lang=p.lang, support_span=support_span, also_in=list(source.also_in),
    )
