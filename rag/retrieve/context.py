"""More of the best stories than their best chunks: the evidence a composer reads.

In: ranked passages and the index's documents. Out: the passages, then every other paragraph of the first few stories
among them (`document_context`).
"""

from __future__ import annotations

from dataclasses import replace

from rag.lang.text import paragraph_spans
from rag.types import Document, Passage


def document_context(passages: list[Passage], documents: dict[str, Document], n_docs: int) -> list[Passage]:
    """`passages`, then every other paragraph of the first `n_docs` documents among them, as extra
    evidence for the composer: a hit shows which article answers, but the answering sentence is
    often a paragraph away from the best-matching chunk."""
    out = list(passages)
    for doc_id in list(dict.fromkeys(p.doc_id for p in passages))[:n_docs]:
        doc = documents[doc_id]
        shown = [p for p in passages if p.doc_id == doc_id]
        for start, end in paragraph_spans(doc.text):
            if any(start < p.span[1] and p.span[0] < end for p in shown):
                continue
            out.append(replace(shown[0], chunk_id=f"{doc_id}@{start}", text=doc.text[start:end], span=(start, end),
                               hit_span=(0, 0), score=shown[0].score, scores={}, also_in=list(shown[0].also_in)))
    return out
