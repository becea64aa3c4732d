"""One citation per story: collapse duplicate passages and turn the cited ones into `Citation`s.

In: ranked `Passage`s. Out: `Source`s (a passage plus the ids of the duplicates folded into it),
best first; `make_citation` builds the numbered `Citation` for a source. A later passage is a
duplicate of an earlier one when most of the shorter one's character trigrams (folded, so Traditional
and Simplified copies match) are in the other: the same passage of a story indexed twice, e.g. from two
newspaper scans or in two scripts. `in_question_script` swaps a passage for the
matching paragraph of the story's copy in the question's script (a Traditional question quotes the Traditional copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from rag.lang.text import WHITE_SPACE, fold, paragraph_spans
from rag.types import Citation, Document, Passage

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
    # By text, even between stories linked as copies: another paragraph of the copy says something else.
    smaller = min(len(grams), len(source._grams))
    return smaller > 0 and len(grams & source._grams) / smaller >= _SAME_STORY_OVERLAP


@lru_cache(maxsize=8192)
def _trigrams(text: str) -> frozenset[str]:
    """Shared: the same passages come back question after question."""
    squashed = WHITE_SPACE.sub("", fold(text))
    return frozenset(squashed[i : i + 3] for i in range(len(squashed) - 2))


def make_citation(n: int, source: Source, support_span: tuple[int, int]) -> Citation:
    p = source.passage
    return Citation(
        n=n, text=p.text, doc_id=p.doc_id, title=p.title, source=p.source, date=p.date,
        date_inferred=p.date_inferred, path=p.path, span=p.span, score=p.score, lang=p.lang,
        support_span=support_span, also_in=list(source.also_in),
    )


def in_question_script(passages: list[Passage], documents: dict[str, Document], language: str) -> list[Passage]:
    """`passages`, each from a Chinese story that has a copy in the question's other script (indexed as a duplicate
    of it, `also_in`) replaced by the copy's paragraph that holds the same text: a Traditional question then reads and
    quotes the Traditional copy. A passage whose text no single paragraph of the copy holds stays as it is."""
    if language not in ("zh-hans", "zh-hant"):
        return passages
    out = []
    for passage in passages:
        copy = next((documents[d] for d in passage.also_in if d in documents and documents[d].lang == language), None)
        span = None if copy is None or passage.lang == language else _same_paragraph(passage.text, copy.text)
        if copy is None or span is None:
            out.append(passage)
            continue
        out.append(replace(passage, chunk_id=f"{copy.id}@{span[0]}", doc_id=copy.id, text=copy.text[span[0]:span[1]],
                           title=copy.title, source=copy.source, date=copy.date,
                           date_inferred=copy.date_inferred, lang=copy.lang, path=copy.path,
                           span=span, hit_span=(0, 0),
                           also_in=[passage.doc_id, *(d for d in passage.also_in if d != copy.id)]))
    return out


def _same_paragraph(text: str, other: str, most: int = 3) -> tuple[int, int] | None:
    """The span of the paragraph of `other`, or run of up to `most` paragraphs, that holds most of `text`'s
    character trigrams (folded), when it holds most of them; the shortest such run."""
    grams = _trigrams(text)
    paragraphs = paragraph_spans(other)
    best, best_share = None, _SAME_STORY_OVERLAP
    for n in range(1, most + 1):
        for i in range(len(paragraphs) - n + 1):
            start, end = paragraphs[i][0], paragraphs[i + n - 1][1]
            share = len(grams & _trigrams(other[start:end])) / max(1, len(grams))
            if share > best_share:
                best, best_share = (start, end), share
    return best
