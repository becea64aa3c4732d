"""A question rebuilt in the language of the passage it is read beside, from dictionary translations the passage holds.

In: a question and a passage in the other language (English / Chinese). Out: the question as a reader that learnt
same-language pairs can read it: the translations (CC-CEDICT, rag/lang/dictionary.py) of the question's words that
the passage itself uses, with the passage language's question word (rag/data/words/question_words.txt); None when
the passage holds none of them.

Why: the reader was trained on Chinese questions over Chinese paragraphs and English ones over English; asked across
languages it found little (`score_answers.py reader`, 300 questions, F1: xquad-en2zh 16.3, xquad-zh2en 8.8). Rebuilt
this way: 32.6 and 29.5. Only translations the passage holds are kept, so the rare senses a dictionary lists beside
the common ones never enter, and a word the passage does not use adds nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from rag.lang.dictionary import ENGLISH_WORD, chinese_to_english, english_to_chinese
from rag.lang.text import fold, has_han, to_simplified, word_list
from rag.lang.words import segmenter

_STOPWORDS = word_list("keyword_stopwords")


@lru_cache(maxsize=1)
def question_words() -> tuple[tuple[str, str], ...]:
    """(English phrase, Chinese word) pairs, in the file's order."""
    text = (resources.files("rag.data") / "words" / "question_words.txt").read_text(encoding="utf-8")
    pairs = (line.split("|") for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return tuple((english.strip(), chinese.strip()) for english, chinese in pairs)


def in_chinese(question: str, passage: str) -> str | None:
    """An English question as Chinese words of `passage` and a Chinese question word: "How many social workers are
    there in the county?" beside "据统计,目前全县持证社工125人" -> "社工多少？"."""
    held_text = to_simplified(passage)
    held: list[str] = []
    for _, translations in english_to_chinese(question, _STOPWORDS):
        found = sorted((w for w in translations if len(w) >= 2 and w in held_text), key=len, reverse=True)
        if found:
            held.append(found[0])
    if not held:
        return None
    lowered = question.lower()
    asked = next((zh for en, zh in question_words() if re.search(rf"\b{en}\b", lowered)), "什么")
    return "".join(dict.fromkeys(held)) + asked + "？"


def in_english(question: str, passage: str) -> str | None:
    """A Chinese question as an English question word and the English words of `passage` that translate its words:
    "厦门有多少持证社工？" beside "there are 11,265 certified social workers in Xiamen" -> "how many social work?"."""
    held_text = passage.lower()
    held: list[str] = []
    words = [w for w in segmenter().cut_for_search(fold(question)) if has_han(w) and w not in _STOPWORDS]
    for _, senses in chinese_to_english(words):
        for sense in senses:
            sense_words = [w for w in ENGLISH_WORD.findall(sense.lower()) if len(w) > 2]
            if sense_words and all(w in held_text for w in sense_words):
                held.append(" ".join(sense_words))
                break
    if not held:
        return None
    simplified = to_simplified(question)
    asked = next((en for en, zh in question_words() if zh in simplified), "what")
    return f"{asked} {' '.join(dict.fromkeys(held))}?"
