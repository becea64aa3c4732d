"""How the dense leg ranks chunks by their own vector and by their best sentence's (rag/retrieve/search.py), the
reordering of the best passages by their best sentence's keywords, and the embedding cache that feeds the dense leg."""

from __future__ import annotations

import numpy as np

from rag.chunk import ChunkTable
from rag.query.analyze import asked_for
from rag.retrieve.corpus import CorpusView, RetrievalParams
from rag.retrieve.lexical import LexicalIndex, tokenize
from rag.retrieve.rerank import _whole_words, prefer_answering_sentences
from rag.retrieve.search import Retriever
from rag.retrieve.sentences import SentenceIndex
from rag.settings import Settings
from rag.types import Chunk, Document


class FixedStore:
    """A store that answers every search with the same (id, score) hits, best first."""

    def __init__(self, hits: list[tuple[int, float]]) -> None:
        self.hits = hits

    def search(self, vectors, k, where=None):
        return [self.hits[:k]]

    def __len__(self) -> int:
        return len(self.hits)


def _retriever(sentence_weight: float) -> Retriever:
    doc = Document(id="d", title="", text="AB", lang="zh-hans")
    chunks = [Chunk(id=f"d:{n}", doc_id="d", text=t, span=(n, n + 1), lang="zh-hans") for n, t in enumerate("AB")]
    # Chunk A is the nearer whole; one sentence of chunk B matches the question far better than any of A's.
    sentences = SentenceIndex(FixedStore([(11, 0.95), (10, 0.5)]), vids=[10, 11], chunk_ids=["d:0", "d:1"], next_id=12)
    corpus = CorpusView(chunks=ChunkTable.of(chunks, [doc]), ids=np.array([0, 1]), documents={"d": doc},
                        lexical=LexicalIndex.build([["a"], ["b"]]), sentences=sentences)
    params = RetrievalParams.from_settings(Settings(sentence_weight=sentence_weight))
    return Retriever(embedder=None, store=FixedStore([(0, 0.9), (1, 0.8)]), corpus=corpus, params=params, anchors={})


def test_a_chunk_is_ranked_by_its_best_sentence_too():
    ranked, _ = _retriever(1.0).dense._dense_ranking(np.ones((1, 2)), 2, None, 0.0, 1.0)
    assert [row for row, _ in ranked] == [1, 0]
    assert np.allclose([z for _, z in ranked], [(0.8 + 0.95) / 2, (0.9 + 0.5) / 2])


def test_sentence_weight_zero_ranks_by_chunk_vectors_only():
    ranked, _ = _retriever(0.0).dense._dense_ranking(np.ones((1, 2)), 2, None, 0.0, 1.0)
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


def test_the_embedding_cache_reports_characters_embedded_of_those_to_embed(tmp_path):
    from rag.embed import CachedEmbedder

    class Fixed:
        name, space, dim, batch_size = "fixed", "fixed", 2, 1

        def embed_passages(self, texts):
            return np.ones((len(texts), 2), dtype=np.float32)

    texts = ["x" * n for n in range(1, 40)]  # more than one batch group
    reports: list[tuple[int, int, float]] = []
    embedder = CachedEmbedder(Fixed(), tmp_path / "cache")
    embedder.embed_passages(texts, progress=lambda done, total, secs: reports.append((done, total, secs)))
    assert len(reports) > 1 and reports[-1][:2] == (sum(map(len, texts)),) * 2
    assert [r[0] for r in reports] == sorted(r[0] for r in reports)
    reports.clear()
    embedder.embed_passages(texts, progress=lambda *report: reports.append(report))
    assert reports == []  # all cached: nothing to embed, nothing to report


def _reordering(texts: list[tuple[str, str]]) -> Retriever:
    documents = [Document(id=f"d{n}", title="", text=t, lang=lang) for n, (t, lang) in enumerate(texts)]
    chunks = [Chunk(id=f"{d.id}:0", doc_id=d.id, text=d.text, span=(0, len(d.text)), lang=d.lang) for d in documents]
    corpus = CorpusView(chunks=ChunkTable.of(chunks, documents), ids=np.arange(len(chunks)),
                        documents={d.id: d for d in documents},
                        lexical=LexicalIndex.build([tokenize(c.text) for c in chunks]))
    return Retriever(embedder=None, store=FixedStore([]), corpus=corpus,
                     params=RetrievalParams.from_settings(Settings()), anchors={})


def _reorder(retriever: Retriever, fused: dict[int, float], question: str, language: str = "zh-hans") -> list[int]:
    family = "zh" if language.startswith("zh") else language
    prefer_answering_sentences(fused, retriever.corpus, asked_for(question, language), tokenize(question), family,
                               retriever.params.sentence_keyword_weight)
    return sorted(fused, key=lambda r: -fused[r])


def test_the_best_passages_are_reordered_by_their_best_sentence_within_the_question_language():
    retriever = _reordering([
        ("厦门市社工队伍不断壮大。持证人员定期参加培训。", "zh-hans"),  # the words asked, in two sentences
        ("目前厦门持证社工达到11265人。", "zh-hans"),  # ... all in one sentence
        ("Xiamen has 11,265 certified social workers.", "en"),
    ] + [(f"其他新闻第{n}条。", "zh-hans") for n in range(4)])
    fused = {0: 5.0, 1: 4.8, 2: 4.9, 3: 4.0, 4: 3.9, 5: 3.8, 6: 3.7}
    before = dict(fused)
    order = _reorder(retriever, fused, "厦门有多少持证社工？")
    assert order.index(1) < order.index(0)
    assert fused[2] >= before[2]  # another language's passage never loses ground
    assert set(order[:5]) == {0, 1, 2, 3, 4} and fused[4] > fused[5]  # the best five stay the best five


def test_a_number_question_prefers_the_sentence_that_holds_a_figure():
    retriever = _reordering([
        ("厦门持证社工队伍不断壮大，持证社工人数居全省前列。", "zh-hans"),  # repeats the question, holds no figure
        ("厦门持证社工达到11265人。", "zh-hans"),
        ("其他新闻。", "zh-hans"),
    ])
    assert _reorder(retriever, {0: 5.0, 1: 4.9, 2: 1.0}, "厦门有多少持证社工？")[0] == 1
    # The same two passages for a question that asks for no figure: the first keeps its place.
    assert _reorder(retriever, {0: 5.0, 1: 4.9, 2: 1.0}, "厦门持证社工队伍怎么样？")[0] == 0


def test_a_long_word_and_its_parts_count_once():
    assert _whole_words(["特斯拉", "特斯", "斯拉", "资助"]) == {"特斯拉", "资助"}
    assert _whole_words(["work", "network", "49"]) == {"work", "network", "49"}  # only Chinese words have parts
