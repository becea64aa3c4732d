"""Hybrid retrieval: question -> ranked `Passage`s, fair across languages and scripts.

Why it is not plain rank fusion: in a mixed corpus, a multilingual embedder scores every
same-language chunk above every other-language chunk (the question's language crowds out
relevance), and BM25 is noise when question and text are in different languages. So:

1. Dense leg, per language family (en / zh / other): each family is searched in its own
   candidate pool, and a score is turned into a z-score against the question's similarity to
   generic news text in that language (`rag/data/anchors.jsonl`: the same 128 short texts written
   in English and Chinese). A passage then competes on how far it stands out from generic text in
   its own language, not on the language itself, and not on how many articles of its language (or
   how similar to each other) the corpus happens to hold.
   A chunk is scored by its own vector and by its best sentence's (`rag/retrieve/sentences.py`),
   (chunk z + sentence_weight x sentence z) / (1 + sentence_weight): a question asks about one
   sentence, which the chunk's vector blurs.
2. Keyword leg (BM25 on folded jieba tokens), also per family, scaled by the family's best BM25
   score. For a family in another language than the question, the question's own tokens only count
   for numbers and Latin names, its names are transliterated ("Weining" <-> 威宁, via pinyin), its
   words are translated by dictionary ("social workers" -> 社工), and words from the best dense hits
   of that family are fed back into BM25 (pseudo-relevance feedback).
3. Fusion: dense z + weight x scaled keyword score per chunk; one passage per story (duplicates collapse into
   `also_in`), widened to its paragraph for reading.
4. The best `RERANK_DEPTH` rows are reordered by how much of the question one sentence of theirs holds
   (`_prefer_answering_sentences`): of two paragraphs on the same topic, the one whose sentence repeats the
   question (and, for a number question, holds a figure) wins. Only rows of the question's language are
   compared, and they can only lose ground, so this never lets the question's language crowd out another's.
"""

from __future__ import annotations

import time

import numpy as np

from rag.embed.base import Embedder
from rag.lang.text import detect_language, to_simplified
from rag.query.analyze import Query
from rag.retrieve.corpus import CorpusView, RetrievalParams, RetrievalResult, language_family
from rag.retrieve.dense import DenseLeg, FamilyRanking
from rag.retrieve.fusion import create_fusion
from rag.retrieve.keyword import KeywordLeg
from rag.retrieve.lexical import tokenize
from rag.retrieve.passages import to_passages
from rag.retrieve.rerank import prefer_answering_sentences
from rag.store.base import SearchFilter, VectorStore

MODES = ("hybrid", "dense", "keyword")


class Retriever:
    """The flow of one search: embed, dense leg, keyword leg, fusion, rerank, passages (one module each)."""

    def __init__(self, embedder: Embedder, store: VectorStore, corpus: CorpusView, params: RetrievalParams,
                 anchors: dict[str, np.ndarray]) -> None:
        self.embedder = embedder
        self.corpus = corpus
        self.params = params
        self.dense = DenseLeg(store, corpus, params, anchors)
        self.keyword = KeywordLeg(corpus, params)

    def search(self, query: Query | str, k: int = 10, where: SearchFilter | None = None,
               mode: str = "hybrid") -> RetrievalResult:
        """Ranked passages for `query` (a `Query`, or a question taken as it is)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if isinstance(query, str):
            query = Query(query, detect_language(query))
        timings: dict[str, float] = {}
        clock = _Clock(timings)
        query_family = language_family(query.language)
        candidates = max(self.params.candidates, k)

        qvec: np.ndarray | None = None
        dense: dict[str, FamilyRanking] = {}
        if mode in ("hybrid", "dense"):
            qvec = self.embedder.embed_queries([to_simplified(query.text)])
            clock.lap("embed")
            dense = self.dense.rank(qvec, candidates, where)
            clock.lap("dense")
        keyword = []
        if mode in ("hybrid", "keyword"):
            base_tokens = tokenize(query.text)
            allowed_rows = None if where is None else self.corpus.allowed(where)
            keyword = self.keyword.hits(query.text, base_tokens, query_family, mode == "keyword", candidates,
                                        allowed_rows, dense)
            clock.lap("lexical")
        fused = create_fusion(mode).fuse(dense, keyword)
        if mode == "hybrid" and self.params.sentence_keyword_weight > 0:
            prefer_answering_sentences(fused.scores, self.corpus, query.asked, base_tokens, query_family,
                                       self.params.sentence_keyword_weight)
        passages = to_passages(fused.scores, fused.legs, self.corpus, self.params, k)
        clock.lap("fusion")
        return RetrievalResult(passages=passages, language=query.language, timings=timings,
                               query_vector=None if qvec is None else qvec[0])


class _Clock:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now
