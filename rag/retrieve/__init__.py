"""Retrieval: a question in, ranked `Passage`s out, fair across languages and scripts.

search.py: the `Retriever`, the flow of one search (see its docstring for the why), over one module per step:
corpus.py (what retrieval reads, row-aligned), dense.py (per language family, against its anchors), keyword.py (BM25
queries per family, across languages), fusion.py, rerank.py (by best sentence), passages.py (widened, one story
once); lexical.py: the keyword leg (jieba tokens of folded text, query expansion across
languages) over bm25.py (BM25 postings in segments: top-k within allowed rows, appends and removals without
re-indexing, memory-mapped on open); sentences.py: every quotable sentence's vector, in a store of its own;
anchors.py: the generic text a dense score is measured against; context.py: the evidence a composer reads around
the best passages.
"""

from rag.retrieve.anchors import ANCHORS, anchor_vectors, save_anchor_vectors, shipped_anchor_path
from rag.retrieve.context import document_context
from rag.retrieve.corpus import CorpusView, RetrievalParams, RetrievalResult, language_family, vector_meta
from rag.retrieve.search import MODES, Retriever

__all__ = ["ANCHORS", "MODES", "CorpusView", "RetrievalParams", "RetrievalResult", "Retriever", "anchor_vectors",
           "document_context", "language_family", "save_anchor_vectors", "shipped_anchor_path", "vector_meta"]
