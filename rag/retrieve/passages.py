"""From fused scores to `Passage`s: best rows first, widened to their paragraphs, one story once.

In: fused scores and per-leg scores by row. Out: up to k passages; a story's copies collapse into the first one shown
(listed in `also_in` / `copies`), and a document yields at most `passages_per_doc` non-overlapping passages.
"""

from __future__ import annotations

from rag.chunk import widen
from rag.retrieve.corpus import CorpusView, RetrievalParams
from rag.types import Passage, StoryCopy


def to_passages(fused: dict[int, float], legs: dict[int, dict[str, float]], corpus: CorpusView,
                params: RetrievalParams, k: int) -> list[Passage]:
    """Best chunks first, widened to paragraphs; one story's copies collapse into the first one shown,
    and one document yields at most `passages_per_doc` non-overlapping passages."""
    docs = corpus.documents
    passages: list[Passage] = []
    shown: dict[str, list[Passage]] = {}  # story id -> passages of it
    for row in sorted(fused, key=lambda r: -fused[r]):
        chunk = corpus.chunks[row]
        doc = docs[chunk.doc_id]
        story = doc.duplicate_of or doc.id
        earlier = shown.get(story, [])
        if earlier and (doc.id != earlier[0].doc_id or len(earlier) >= params.passages_per_doc):
            continue
        start, end = widen(doc.text, chunk.span, params.passage_max_chars)
        if any(start < p.span[1] and p.span[0] < end for p in earlier):
            continue
        passage = Passage(
            chunk_id=chunk.id, doc_id=doc.id, text=doc.text[start:end], title=doc.title,
            source=doc.source, date=doc.date, date_inferred=doc.date_inferred, lang=doc.lang, path=doc.path,
            span=(start, end),
            score=round(float(fused[row]), 4), hit_span=(chunk.span[0] - start, chunk.span[1] - start),
            scores={name: round(v, 4) for name, v in legs.get(row, {}).items()},
        )
        shown.setdefault(story, []).append(passage)
        passages.append(passage)
        if len(passages) >= k:
            break
    # Every copy of a shown story is listed, whether or not it reached the ranking.
    for story, story_passages in shown.items():
        for doc_id in corpus.story_documents.get(story, ()):
            for passage in story_passages:
                if doc_id != passage.doc_id and doc_id not in passage.also_in:
                    passage.also_in.append(doc_id)
    for passage in passages:
        passage.copies = [StoryCopy.of(docs[d]) for d in passage.also_in]
    return passages

