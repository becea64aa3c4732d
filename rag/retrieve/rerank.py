"""The rerank: the best few rows, in the question's language, reordered by how much of the question one sentence of
theirs holds.

In: the fused scores by row, the question's tokens and what it asks for. Out: the same scores, the best
`RERANK_DEPTH` rows of the question's language lowered by how far their best sentence falls short (in place).
"""

from __future__ import annotations

from functools import lru_cache

from rag.lang.text import has_han, split_sentences
from rag.query.analyze import QuestionInfo
from rag.query.kinds import kind_spans
from rag.retrieve.corpus import CorpusView, language_family
from rag.retrieve.lexical import tokenize

RERANK_DEPTH = 5  # rows reordered by their best sentence: the top 5 stay the top 5 (Recall@5 cannot change)


def prefer_answering_sentences(fused: dict[int, float], corpus: CorpusView, asked: QuestionInfo,
                               question_tokens: list[str], family: str, weight: float) -> None:
    """Lower each of the best `RERANK_DEPTH` rows in the question's language family by `weight`
    (sentence_keyword_weight) x how far its best sentence's share of the question's words (idf-weighted) falls short
    of the best such share among them; then lift those rows together, if need be, to stay above the next row.
    A word counts once (jieba's search mode also yields the parts of a long word: 特斯拉, 特斯, 斯拉), and for a
    number question a sentence holding no figure of the asked unit counts half: it repeats the question without
    answering it (half, not nothing: the finder can miss a figure written in words). Dates and names are not
    checked: a dateline puts a date in every article, and jieba's name tags are too noisy.
    Measured (Recall@1, sentence_keyword_weight 0 -> 2): xquad-zh2zh 0.955 -> 0.961, its Traditional-question
    and Traditional-corpus copies 0.955 -> 0.961 and 0.959 -> 0.962, xquad-en2en 0.971 -> 0.974, xquad-mixed
    0.884 -> 0.887 (cross-lingual 0.819 -> 0.822), cmrc-trial 0.991 -> 0.989, en2zh and zh2en unchanged."""
    head = sorted(fused, key=lambda r: -fused[r])[: RERANK_DEPTH + 1]
    head, next_row = head[:RERANK_DEPTH], (head[RERANK_DEPTH] if len(head) > RERANK_DEPTH else None)
    same = [r for r in head if language_family(corpus.chunks[r].lang) == family]
    if len(same) < 2:
        return
    idf = {t: corpus.lexical.idf(t) for t in _whole_words(question_tokens)}
    total = sum(idf.values())
    if total <= 0:
        return
    needs_figure = asked.kind == "number"

    def best_sentence_share(row: int) -> float:
        text = corpus.chunks[row].text
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
        fused[row] -= weight * (best - share[row])
    if next_row is not None and (low := min(fused[r] for r in head)) <= fused[next_row]:
        for row in head:
            fused[row] += fused[next_row] - low + 1e-6


def _whole_words(tokens: list[str]) -> set[str]:
    """The tokens, less Chinese ones that are part of a longer one among them."""
    unique = set(tokens)
    return {t for t in unique if not (has_han(t) and any(t != other and t in other for other in unique))}



@lru_cache(maxsize=65536)
def _sentence_tokens(text: str) -> tuple[tuple[int, int, frozenset[str]], ...]:
    """(start, end, BM25 tokens) of each sentence of a chunk's text. Shared: the same chunks come back question after
    question."""
    return tuple((a, b, frozenset(tokenize(text[a:b]))) for a, b in split_sentences(text))

