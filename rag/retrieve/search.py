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
from dataclasses import dataclass, field, fields, replace
from functools import cached_property, lru_cache

import numpy as np

from rag.chunk import widen
from rag.embed.base import Embedder
from rag.lang.text import detect_language, has_han, split_sentences, to_simplified
from rag.query.analyze import Query, QuestionInfo
from rag.query.kinds import kind_spans
from rag.retrieve.lexical import LexicalIndex, tokenize
from rag.retrieve.sentences import SentenceIndex
from rag.settings import Settings
from rag.store.base import SearchFilter, VectorMeta, VectorStore
from rag.store.rows import Rows
from rag.types import Chunk, Document, Passage, StoryCopy

MODES = ("hybrid", "dense", "keyword")
SENTENCE_SEARCH_DEPTH = 8
RERANK_DEPTH = 5  # rows reordered by their best sentence: the top 5 stay the top 5 (Recall@5 cannot change)


def language_family(lang: str) -> str:
    if lang.startswith("zh"):
        return "zh"
    return "en" if lang == "en" else "other"


@dataclass
class RetrievalParams:
    """The retrieval tunables; their defaults and meaning live in `Settings` (same names)."""

    candidates: int
    sentence_weight: float
    lexical_weight: float
    lexical_cross_lingual_weight: float
    prf_terms: int
    prf_docs: int
    prf_weight: float
    translation_weight: float
    sentence_keyword_weight: float
    passage_max_chars: int
    passages_per_doc: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrievalParams:
        """The fields of `Settings` that share these names."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


@dataclass
class CorpusView:
    """Everything retrieval reads, row-aligned: `chunks[i]` has vector id `ids[i]` and lexical row i."""

    chunks: list[Chunk]
    ids: np.ndarray  # int64 vector ids, one per chunk
    documents: dict[str, Document]
    lexical: LexicalIndex
    sentences: SentenceIndex | None = None  # None: the index has no sentence vectors (`embed_sentences` off)
    row_of_id: dict[int, int] = field(init=False)
    row_of_sentence: dict[int, int] = field(init=False)  # sentence vector id -> row of the chunk holding it
    family_rows: dict[str, np.ndarray] = field(init=False)  # language family -> a boolean mask of its rows
    family_langs: dict[str, tuple[str, ...]] = field(init=False)  # language family -> the languages of its rows
    story_documents: dict[str, list[str]] = field(init=False)  # story id -> its documents (the first and its copies)

    def __post_init__(self) -> None:
        self.row_of_id = {int(v): i for i, v in enumerate(self.ids)}
        row_of_chunk = {c.id: i for i, c in enumerate(self.chunks)}
        self.row_of_sentence = {} if self.sentences is None else {
            v: row_of_chunk[c] for v, c in zip(self.sentences.vids, self.sentences.chunk_ids, strict=True)
            if c in row_of_chunk
        }
        langs = np.array([c.lang for c in self.chunks])
        families = np.array([language_family(lang) for lang in langs])
        self.family_rows = {f: families == f for f in sorted(set(families.tolist()))}
        self.family_langs = {f: tuple(sorted(set(langs[rows].tolist()))) for f, rows in self.family_rows.items()}
        self.story_documents = {}
        for doc in self.documents.values():
            self.story_documents.setdefault(doc.duplicate_of or doc.id, []).append(doc.id)

    @cached_property
    def _metadata(self) -> Rows:
        """Each row's filterable metadata as columns, made on the first filtered search."""
        rows = Rows()
        rows.append(self.ids, [vector_meta(c, self.documents[c.doc_id]) for c in self.chunks])
        return rows

    def allowed(self, where: SearchFilter) -> np.ndarray:
        """A boolean mask of the rows `where` lets through."""
        return self._metadata.matching(where)


@dataclass
class RetrievalResult:
    passages: list[Passage]
    language: str
    timings: dict[str, float]
    query_vector: np.ndarray | None = None  # reused by the composer


class Retriever:
    def __init__(self, embedder: Embedder, store: VectorStore, corpus: CorpusView, params: RetrievalParams,
                 anchors: dict[str, np.ndarray]) -> None:
        self.embedder = embedder
        self.store = store
        self.corpus = corpus
        self.params = params
        self.anchors = anchors

    def search(self, query: Query | str, k: int = 10, where: SearchFilter | None = None,
               mode: str = "hybrid") -> RetrievalResult:
        """Ranked passages for `query` (a `Query`, or a question taken as it is)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if isinstance(query, str):
            query = Query(query, detect_language(query))
        question, language = query.text, query.language
        timings: dict[str, float] = {}
        clock = _Clock(timings)
        query_family = language_family(language)
        candidates = max(self.params.candidates, k)
        allowed_rows = None if where is None else self.corpus.allowed(where)

        qvec: np.ndarray | None = None
        fused: dict[int, float] = {}
        legs: dict[int, dict[str, float]] = {}
        dense_by_family: dict[str, list[tuple[int, float]]] = {}
        dense_floor: dict[str, float] = {}  # rows found only by BM25 count as "no better than the last dense hit"

        if mode in ("hybrid", "dense"):
            qvec = self.embedder.embed_queries([to_simplified(question)])
            clock.lap("embed")
            for family in self.corpus.family_rows:
                family_filter = _with_langs(where, self.corpus.family_langs[family])
                mu, sd = self._background(family, qvec[0])
                ranked, floor = self._dense_ranking(qvec, candidates, family_filter, mu, sd)
                clock.lap("dense")
                dense_by_family[family] = ranked
                dense_floor[family] = floor
                for row, z in ranked:
                    fused[row] = z
                    legs.setdefault(row, {})["dense"] = z
            clock.lap("dense")

        if mode in ("hybrid", "keyword"):
            base_tokens = tokenize(question)
            for family, in_family in self.corpus.family_rows.items():
                allowed = in_family if allowed_rows is None else in_family & allowed_rows
                if not allowed.any():
                    continue
                same = family == query_family or mode == "keyword"
                floor = dense_floor.get(family, 0.0)
                for leg, tokens, weight in self._keyword_queries(question, base_tokens, same, family,
                                                                 dense_by_family):
                    rows, scores = self.corpus.lexical.top(tokens, candidates, allowed)
                    if not len(rows):
                        continue
                    # Relative to this family's best match: BM25's scale means nothing across queries or families.
                    scaled = scores / scores[0]
                    for row, score, share in zip(rows.tolist(), scores.tolist(), scaled.tolist(), strict=True):
                        legs.setdefault(row, {})[leg] = share
                        if mode == "keyword":
                            fused[row] = fused.get(row, 0.0) + score
                        else:
                            fused[row] = fused.get(row, floor) + weight * share
            clock.lap("lexical")
        if mode == "hybrid" and self.params.sentence_keyword_weight > 0:
            self._prefer_answering_sentences(fused, query.asked, base_tokens, query_family)

        passages = self._passages(fused, legs, k)
        clock.lap("fusion")
        return RetrievalResult(passages=passages, language=language, timings=timings,
                               query_vector=None if qvec is None else qvec[0])

    @staticmethod
    def _dense_hits(store: VectorStore, row_of: dict[int, int], qvec: np.ndarray, k: int, where: SearchFilter,
                    mu: float, sd: float) -> tuple[dict[int, float], float]:
        """{chunk row: best z-score} of the `k` nearest vectors in `store`, and the z-score of a row not found
        (the last hit's when `k` came back, else a cosine of 0)."""
        hits = store.search(qvec, k, where)[0]
        best: dict[int, float] = {}
        for vid, score in hits:
            row = row_of.get(vid)
            if row is not None and row not in best:  # hits come best first
                best[row] = (score - mu) / sd
        floor = (hits[-1][1] - mu) / sd if len(hits) >= k else (0.0 - mu) / sd
        return best, floor

    def _dense_ranking(self, qvec: np.ndarray, k: int, where: SearchFilter, mu: float,
                       sd: float) -> tuple[list[tuple[int, float]], float]:
        """The best `k` chunk rows by (chunk z + w * best sentence z) / (1 + w), and the z of a row not among them.
        Without sentence vectors (or w = 0), by the chunk's own vector."""
        sentences, w = self.corpus.sentences, self.params.sentence_weight
        if sentences is None or not len(sentences) or w <= 0:
            chunk_z, floor = self._dense_hits(self.store, self.corpus.row_of_id, qvec, k, where, mu, sd)
            return sorted(chunk_z.items(), key=lambda item: -item[1]), floor
        # Both searches go deeper than k, so that most rows of either list have a real score in the other one; a
        # missing score counts as that list's floor. (A chunk holds several sentences.)
        depth = k * SENTENCE_SEARCH_DEPTH
        chunk_z, chunk_floor = self._dense_hits(self.store, self.corpus.row_of_id, qvec, depth, where, mu, sd)
        sentence_z, sentence_floor = self._dense_hits(sentences.store, self.corpus.row_of_sentence, qvec, depth,
                                                      where, mu, sd)
        combined = {
            row: (chunk_z.get(row, chunk_floor) + w * sentence_z.get(row, sentence_floor)) / (1 + w)
            for row in chunk_z.keys() | sentence_z.keys()
        }
        ranked = sorted(combined.items(), key=lambda item: -item[1])[:k]
        floor = ranked[-1][1] if len(ranked) >= k else (chunk_floor + w * sentence_floor) / (1 + w)
        return ranked, floor

    def _keyword_queries(self, question: str, base_tokens: list[str], same: bool, family: str,
                         dense_by_family: dict[str, list[tuple[int, float]]]) -> list[tuple[str, list[str], float]]:
        """(leg name, BM25 query tokens, weight) for one language family.

        Same language: the question's tokens. Another language, each weighted on its own: its numbers and
        Latin tokens plus its names transliterated into this family's script; its words translated by
        dictionary (CC-CEDICT), as much weight as the question's own words get in their language; and
        salient words of this family's best dense hits (pseudo-relevance feedback), at half that.
        Measured on xquad (Recall@1 / @5): the translated leg took en2zh 0.708/0.935 -> 0.808/0.966,
        zh2en 0.695/0.881 -> 0.786/0.942, and xquad-mixed's cross-lingual questions 0.695/0.918 ->
        0.787/0.960 with its same-language ones at 0.935/0.997 (0.937/0.997 before)."""
        if same:
            return [("lexical", base_tokens, self.params.lexical_weight)]
        lexical = self.corpus.lexical
        names = [t for t in base_tokens if not has_han(t)] + lexical.transliterations(question)
        top = [row for row, _ in dense_by_family.get(family, [])[: self.params.prf_docs]]
        return [("names", names, self.params.lexical_cross_lingual_weight),
                ("translated", lexical.translations(question, family), self.params.translation_weight),
                ("feedback", lexical.salient_terms(top, self.params.prf_terms), self.params.prf_weight)]

    def _prefer_answering_sentences(self, fused: dict[int, float], asked: QuestionInfo, question_tokens: list[str],
                                    family: str) -> None:
        """Lower each of the best `RERANK_DEPTH` rows in the question's language family by sentence_keyword_weight x
        how far its best sentence's share of the question's words (idf-weighted) falls short of the best such
        share among them; then lift those rows together, if need be, to stay above the next row.
        A word counts once (jieba's search mode also yields the parts of a long word: 特斯拉, 特斯, 斯拉), and for a
        number question a sentence holding no figure of the asked unit counts half: it repeats the question without
        answering it (half, not nothing: the finder can miss a figure written in words). Dates and names are not
        checked: a dateline puts a date in every article, and jieba's name tags are too noisy.
        Measured (Recall@1, sentence_keyword_weight 0 -> 2): xquad-zh2zh 0.955 -> 0.961, its Traditional-question
        and Traditional-corpus copies 0.955 -> 0.961 and 0.959 -> 0.962, xquad-en2en 0.971 -> 0.974, xquad-mixed
        0.884 -> 0.887 (cross-lingual 0.819 -> 0.822), cmrc-trial 0.991 -> 0.989, en2zh and zh2en unchanged."""
        head = sorted(fused, key=lambda r: -fused[r])[: RERANK_DEPTH + 1]
        head, next_row = head[:RERANK_DEPTH], (head[RERANK_DEPTH] if len(head) > RERANK_DEPTH else None)
        same = [r for r in head if language_family(self.corpus.chunks[r].lang) == family]
        if len(same) < 2:
            return
        idf = {t: self.corpus.lexical.idf(t) for t in _whole_words(question_tokens)}
        total = sum(idf.values())
        if total <= 0:
            return
        needs_figure = asked.kind == "number"

        def best_sentence_share(row: int) -> float:
            text = self.corpus.chunks[row].text
            best = 0.0
            for start, end, tokens in _sentence_tokens(text):
                share = sum(idf[t] for t in idf.keys() & tokens)
                if needs_figure and share > best and not kind_spans("number", text[start:end], asked):
                    share /= 2
                best = max(best, share)
            return best / total

        share = {row: best_sentence_share(row) for row in same}
        best = max(share.values())
        for row in same:
            fused[row] -= self.params.sentence_keyword_weight * (best - share[row])
        if next_row is not None and (low := min(fused[r] for r in head)) <= fused[next_row]:
            for row in head:
                fused[row] += fused[next_row] - low + 1e-6

    def _background(self, family: str, qvec: np.ndarray) -> tuple[float, float]:
        """Mean and spread of the question's similarity to generic text in `family`'s language."""
        sample = self.anchors.get(family)
        if sample is None:  # a language without anchors: compare against all of them
            sample = np.concatenate(list(self.anchors.values()))
        sims = sample @ qvec
        return float(sims.mean()), float(sims.std() + 1e-6)

    def _passages(self, fused: dict[int, float], legs: dict[int, dict[str, float]], k: int) -> list[Passage]:
        """Best chunks first, widened to paragraphs; one story's copies collapse into the first one shown,
        and one document yields at most `passages_per_doc` non-overlapping passages."""
        docs = self.corpus.documents
        passages: list[Passage] = []
        shown: dict[str, list[Passage]] = {}  # story id -> passages of it
        for row in sorted(fused, key=lambda r: -fused[r]):
            chunk = self.corpus.chunks[row]
            doc = docs[chunk.doc_id]
            story = doc.duplicate_of or doc.id
            earlier = shown.get(story, [])
            if earlier and (doc.id != earlier[0].doc_id or len(earlier) >= self.params.passages_per_doc):
                continue
            start, end = widen(doc.text, chunk.span, self.params.passage_max_chars)
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
            for doc_id in self.corpus.story_documents.get(story, ()):
                for passage in story_passages:
                    if doc_id != passage.doc_id and doc_id not in passage.also_in:
                        passage.also_in.append(doc_id)
        for passage in passages:
            passage.copies = [StoryCopy.of(docs[d]) for d in passage.also_in]
        return passages


def _whole_words(tokens: list[str]) -> set[str]:
    """The tokens, less Chinese ones that are part of a longer one among them."""
    unique = set(tokens)
    return {t for t in unique if not (has_han(t) and any(t != other and t in other for other in unique))}


@lru_cache(maxsize=65536)
def _sentence_tokens(text: str) -> tuple[tuple[int, int, frozenset[str]], ...]:
    """(start, end, BM25 tokens) of each sentence of a chunk's text. Shared: the same chunks come back question after
    question."""
    return tuple((a, b, frozenset(tokenize(text[a:b]))) for a, b in split_sentences(text))


def vector_meta(chunk: Chunk, doc: Document) -> VectorMeta:
    return VectorMeta(doc_id=doc.id, lang=chunk.lang, source=doc.source, date=doc.date, path=doc.path)


def _with_langs(where: SearchFilter | None, langs: tuple[str, ...]) -> SearchFilter:
    if where is None:
        return SearchFilter(langs=langs)
    wanted = langs if where.langs is None else tuple(x for x in langs if x in where.langs)
    return replace(where, langs=wanted)


class _Clock:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now

