"""How the dense leg ranks chunks by their own vector and by their best sentence's (rag/retrieve.py), and the
embedding cache that feeds both."""

from __future__ import annotations

import numpy as np

from rag.lexical import LexicalIndex
from rag.retrieve import CorpusView, RetrievalParams, Retriever
from rag.sentences import SentenceIndex
from rag.settings import Settings
from rag.types import Chunk


class FixedStore:
    """A store that answers every search with the same (id, score) hits, best first."""

    def __init__(self, hits: list[tuple[int, float]]) -> None:
        self.hits = hits

    def search(self, vectors, k, where=None):
        return [self.hits[:k]]

    def __len__(self) -> int:
        return len(self.hits)


def _retriever(sentence_weight: float) -> Retriever:
    chunks = [Chunk(id=f"d#{n}", doc_id="d", text=t, span=(0, 1), lang="zh-hans") for n, t in enumerate("AB")]
    # Chunk A is the nearer whole; one sentence of chunk B matches the question far better than any of A's.
    sentences = SentenceIndex(FixedStore([(11, 0.95), (10, 0.5)]), vids=[10, 11], chunk_ids=["d#0", "d#1"], next_id=12)
    corpus = CorpusView(chunks=chunks, ids=np.array([0, 1]), documents={}, lexical=LexicalIndex([["a"], ["b"]]),
                        sentences=sentences)
    params = RetrievalParams.from_settings(Settings(sentence_weight=sentence_weight))
    return Retriever(embedder=None, store=FixedStore([(0, 0.9), (1, 0.8)]), corpus=corpus, params=params, anchors={})


def test_a_chunk_is_ranked_by_its_best_sentence_too():
    ranked, _ = _retriever(1.0)._dense_ranking(np.ones((1, 2)), 2, None, 0.0, 1.0)
    assert [row for row, _ in ranked] == [1, 0]
    assert np.allclose([z for _, z in ranked], [(0.8 + 0.95) / 2, (0.9 + 0.5) / 2])


def test_sentence_weight_zero_ranks_by_chunk_vectors_only():
    ranked, _ = _retriever(0.0)._dense_ranking(np.ones((1, 2)), 2, None, 0.0, 1.0)
    assert ranked == [(0, 0.9), (1, 0.8)]


def test_the_embedding_cache_embeds_a_repeated_text_once(tmp_path):
    from rag.embed import CachedEmbedder

    class Counting:
        name, space, dim, batch_size = "counting", "counting", 2, 32

        def __init__(self) -> None:
            self.seen: list[str] = []

        def embed_passages(self, texts):
            self.seen.extend(texts)
            return np.array([[1.0, 0.0] if t == "a" else [0.0, 1.0] for t in texts], dtype=np.float32)

    inner = Counting()
    vectors = CachedEmbedder(inner, tmp_path / "cache").embed_passages(["a", "b", "a"])
    assert sorted(inner.seen) == ["a", "b"]
    assert vectors.tolist() == [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
