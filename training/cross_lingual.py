"""Questions asked across languages, for training: a Chinese question put into English, an English one into Chinese.

In: a question and the paragraph it was written about. Out: the question word by word in the other language, from
the dictionary the package ships (CC-CEDICT, rag/lang/dictionary.py): "谁企图掌握整个帝国？" -> "who attempt grasp whole
empire?"; "What political philosophy did Gaddafi adhere to?" -> "政治哲学 Gaddafi 循什么？".

Why: the reader learnt questions and paragraphs in one language, yet users ask an English question of a Chinese
article (and the other way round), and no question-answering data pairs the two languages without being a test set.
Translated word by word, a question keeps what a reader needs across languages (its content words and its question
word) and teaches the model to match them against the other language's words. Of a word's translations, one the
paragraph itself uses is taken where there is one (as a fluent translator would echo the article's terms), else the
first short English sense, or the commonest Chinese word by jieba's frequencies (CC-CEDICT often lists an archaic one
first); a Chinese word the dictionary lacks is read by its parts, else (mostly a name) spelled in pinyin; an English
one the dictionary lacks is kept as written when capitalised or a number (a name, a figure) and dropped otherwise.
"""

from __future__ import annotations

import re

from rag.lang.dictionary import ENGLISH_WORD, english_senses, english_to_chinese
from rag.lang.question_translation import question_words
from rag.lang.text import has_han, to_simplified, word_list
from rag.lang.words import segmenter

_STOPWORDS = word_list("keyword_stopwords")
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^]]*\]")
_TOKEN = re.compile(r"\d[\d,.]*%?|" + ENGLISH_WORD.pattern)


def to_english(question: str, context: str) -> str:
    """A Chinese question as English words in its own order, its question word first."""
    held = context.lower()
    simplified = to_simplified(question)
    asked = next((en for en, zh in question_words() if zh in simplified), "what")
    asked_words = {zh for en, zh in question_words() if en == asked}
    words: list[str] = []
    for word in segmenter().cut(simplified):
        if not has_han(word):
            words += _TOKEN.findall(word)
        elif word not in _STOPWORDS and word not in asked_words:
            words += _english_for(word, held)
    return " ".join([asked, *dict.fromkeys(w for w in words if w)]) + "?"


def _english_for(word: str, held: str) -> list[str]:
    """English for one Chinese word; a word the dictionary lacks by its parts (视觉效果 -> visual, effect), a name
    (no part known) in pinyin."""
    senses = _senses(word)
    if senses:
        return [next((s for s in senses if all(w in held for w in s.split())), senses[0])]
    parts = [p for p in segmenter().cut_for_search(word) if p != word and len(p) > 1 and _senses(p)]
    if parts:
        return [english for part in parts for english in _english_for(part, held)]
    from pypinyin import lazy_pinyin

    return [" ".join(lazy_pinyin(word)).title().replace(" ", "")]


def _senses(word: str) -> list[str]:
    """The word's senses of at most two words, cleaned: what a translator would write for it in a question."""
    return [s for s in (_clean(sense) for sense in english_senses(word)) if s and len(s.split()) <= 2]


def _clean(sense: str) -> str:
    sense = _PARENTHESES.sub("", sense).split(";")[0].strip()
    return sense.removeprefix("to ").strip()


def _frequency(word: str) -> int:
    """How common a Chinese word is (jieba's dictionary): of a dictionary's translations, the commonest is the one a
    translator would use (the first listed is often archaic: 何为 for "what is")."""
    return segmenter().FREQ.get(word, 0)


def to_chinese(question: str, context: str) -> str:
    """An English question as Chinese words in its own order (names and numbers as written), its question word last."""
    held = to_simplified(context)
    lowered = question.lower()
    asked = next((zh for en, zh in question_words() if re.search(rf"\b{en}\b", lowered)), "什么")
    found = english_to_chinese(question, _STOPWORDS)
    placed: list[tuple[int, str]] = []
    covered: set[str] = set()
    for gloss, translations in found:
        at = lowered.find(gloss.split()[0])
        chosen = next((t for t in translations if t in held), None) or max(translations, key=_frequency)
        placed.append((at if at >= 0 else len(lowered), chosen))
        covered.update(gloss.split())
    for match in _TOKEN.finditer(question):
        token = match.group()
        named = token[0].isupper() or token[0].isdigit()
        if named and token.lower() not in covered and token.lower() not in _STOPWORDS:
            placed.append((match.start(), token))
    return "".join(w if has_han(w) else f" {w} " for _, w in sorted(placed)).strip().replace("  ", " ") + asked + "？"
