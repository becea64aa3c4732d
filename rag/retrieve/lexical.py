"""The keyword leg: BM25 (rag/retrieve/bm25.py) over jieba tokens of script-folded text.

In: chunk texts (any script, any language). Out: the best chunk rows by BM25 for a query, within allowed rows; the
query expansions that need the corpus vocabulary (names transliterated, words translated, feedback terms).
Matching happens on `fold()`ed text (NFKC, Traditional -> Simplified, lower case), so a
Traditional question meets a Simplified article; citations keep showing the original text.
Numbers survive as single tokens (`11,265` -> `11265`, `3.8万` -> `3.8万` and `3.8`).
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from rag.lang.dictionary import chinese_to_english, english_to_chinese, english_word_forms
from rag.lang.pinyin import pinyin_keys
from rag.lang.text import DIGIT_RUN, HAN, all_han, fold, word_list
from rag.lang.words import segmenter
from rag.paths import read_jsonl
from rag.retrieve.bm25 import BM25Index
from rag.retrieve.spellings import NameSpellings

log = logging.getLogger(__name__)

_TOKEN = re.compile(
    rf"(?P<num>{DIGIT_RUN}%?(?P<unit>[万亿千百]?))"
    r"|(?P<latin>[a-z][a-z0-9'\-]*[a-z0-9]|[a-z])"
    rf"|(?P<han>[{HAN}]+)"
)

STOPWORDS = word_list("keyword_stopwords")


def tokenize(text: str) -> list[str]:
    """Fold `text` and split it into BM25 tokens: numbers, Latin words, jieba words (search mode)."""
    tokens: list[str] = []
    for m in _TOKEN.finditer(fold(text)):
        if m.group("num"):
            number = m.group("num").replace(",", "")
            tokens.append(number)
            if m.group("unit"):
                tokens.append(number[: -len(m.group("unit"))])
        elif m.group("latin"):
            tokens.append(m.group("latin"))
        else:
            tokens.extend(w for w in segmenter().cut_for_search(m.group("han")))
    return [t for t in tokens if t not in STOPWORDS]


# Below this many texts, starting worker processes (imports + jieba's dictionary, ~1 s each) costs more than it saves.
PARALLEL_MIN_TEXTS = 4000


def tokenize_all(texts: Sequence[str], workers: int = 0) -> list[list[str]]:
    """`tokenize` of each text; many texts are spread over `workers` processes (0: one per core).

    jieba runs at ~0.3 M characters/s on one core: the slowest stage of a build where embedding
    runs on a GPU."""
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(texts) < PARALLEL_MIN_TEXTS:
        return [tokenize(t) for t in texts]
    # spawn, not fork: the parent may hold OpenMP or CUDA threads, which a forked child must not inherit.
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(tokenize, texts, chunksize=max(64, len(texts) // (workers * 8))))


_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")


LEXICAL_FOLDER = "lexical"
LEGACY_TOKENS_FILE = "tokens.jsonl"  # index formats <= 4: each chunk's tokens, re-indexed at every open


class LexicalIndex:
    """The keyword index of a corpus: row i is chunk row i. Immutable: `appended` and `kept` return the next one."""

    def __init__(self, bm25: BM25Index, saved_spellings: Path | None = None) -> None:
        self.bm25 = bm25
        self._spellings: NameSpellings | None = None  # made, read from `saved_spellings` or extended on first use
        self._saved_spellings = saved_spellings  # a lexical/ folder whose spellings.json may hold them

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]]) -> LexicalIndex:
        return cls(BM25Index.build(token_lists))

    def appended(self, token_lists: Iterable[Sequence[str]]) -> LexicalIndex:
        return self._carrying_spellings(LexicalIndex(self.bm25.appended(token_lists)))  # its new terms spelled alone

    def kept(self, keep: np.ndarray) -> LexicalIndex:
        # The vocabulary stays (a term no row holds any more finds no row), and so do its spellings.
        return self._carrying_spellings(LexicalIndex(self.bm25.kept(keep)))

    def _carrying_spellings(self, successor: LexicalIndex) -> LexicalIndex:
        successor._spellings, successor._saved_spellings = self._spellings, self._saved_spellings
        return successor

    def __len__(self) -> int:
        return len(self.bm25)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every row for the query tokens (zeros when nothing matches)."""
        return self.bm25.scores(query_tokens)

    def top(self, query_tokens: Sequence[str], k: int, allowed: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, BM25 scores) of the best `k` rows that match, best first; `allowed`: a boolean mask of rows."""
        return self.bm25.top(query_tokens, k, allowed)

    def transliterations(self, question: str) -> list[str]:
        """Vocabulary tokens that spell the question's names in the other script: "Weining" -> 威宁, 厦门 -> xiamen.

        Chinese place and person names appear in English news as pinyin, so this is what lets the keyword leg
        help across languages."""
        found: list[str] = []
        for word in _CAPITALISED.findall(question):
            found.extend(self.name_spellings().get(word.lower()))
        for token in tokenize(question):
            if all_han(token) and len(token) >= 2:
                found.extend(k for k in pinyin_keys(token) if k.isascii() and k.isalpha() and self.bm25.df(k))
        return list(dict.fromkeys(found))

    def translations(self, question: str, family: str, per_phrase: int = 3) -> list[str]:
        """Vocabulary tokens that translate the question's words into `family`'s language ("zh" or "en").

        English -> Chinese: of a phrase's dictionary translations, the `per_phrase` the corpus uses most
        (the dictionary lists rare senses beside common ones; the corpus tells which it speaks). Chinese ->
        English: the words of each Chinese word's first glosses, in whatever plural or singular form the
        corpus holds."""
        tokens: list[str] = []
        if family == "zh":
            for _, words in english_to_chinese(question, STOPWORDS):
                held = [(min(self.bm25.df(t) for t in parts), parts) for parts in map(tokenize, words) if parts]
                held = [(df, parts) for df, parts in held if df > 0]
                for _, parts in sorted(held, key=lambda pair: -pair[0])[:per_phrase]:
                    tokens += parts
        elif family == "en":
            for _, glosses in chinese_to_english(tokenize(question)):
                for word in (w for gloss in glosses for w in tokenize(gloss)):
                    forms = [word, word + "s", word + "es", *english_word_forms(word)]
                    tokens += next(([f] for f in forms if self.bm25.df(f)), [])
        return list(dict.fromkeys(tokens))

    def warm_up(self) -> None:
        """Read or make the name spellings now (`transliterations` of an English name would)."""
        self.name_spellings()

    def name_spellings(self) -> NameSpellings:
        """The vocabulary's Han terms by pinyin spelling (rag/retrieve/spellings.py): read from the saved index when
        an English name first asks for them (not for Chinese questions), the terms added since spelled alone."""
        if self._spellings is None and self._saved_spellings is not None:
            self._spellings = NameSpellings.load(self._saved_spellings)
        if self._spellings is None or self._spellings.spelled < self.bm25.n_terms:
            self._spellings = (self._spellings or NameSpellings()).extended(self.bm25.terms)
        return self._spellings

    def idf(self, token: str) -> float:
        return self.bm25.idf(token)

    def salient_terms(self, rows: Sequence[int], limit: int) -> list[str]:
        """The `limit` tokens of the given rows with the highest tf-idf: pseudo-relevance feedback terms."""
        weights: Counter[str] = Counter()
        for row in rows:
            for token, tf in self.bm25.row_terms(row).items():
                if len(token) > 1:
                    weights[token] += (1 + np.log(tf)) * self.idf(token)
        return [t for t, _ in weights.most_common(limit)]

    def save(self, directory: Path) -> None:
        """Into `directory/lexical/`: the postings and the name spellings."""
        self.bm25.save(directory / LEXICAL_FOLDER)
        self.name_spellings().save(directory / LEXICAL_FOLDER)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """What `save` wrote into `directory`, memory-mapped; or, for an index of format <= 4, its token lists
        indexed again."""
        if (directory / LEXICAL_FOLDER).is_dir():
            return cls(BM25Index.load(directory / LEXICAL_FOLDER), saved_spellings=directory / LEXICAL_FOLDER)
        return cls.build(read_jsonl(directory / LEGACY_TOKENS_FILE))
