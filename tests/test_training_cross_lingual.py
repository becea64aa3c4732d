"""training.cross_lingual: questions put word by word into the other language keep their content words (those the
paragraph uses first), their question word and their names; nothing of the source language's grammar is left."""

from __future__ import annotations

from rag.lang.text import has_han
from training.cross_lingual import to_chinese, to_english

WEINING = "据统计,目前全县持证社工125人,其中助理社会工作师94人,社会工作师31人。"
XIAMEN = "At present, there are 11,265 certified social workers in Xiamen, ranking first in the province."


def test_a_chinese_question_becomes_english_words_with_its_question_word_first():
    english = to_english("全县有多少社会工作者？", XIAMEN)
    assert english.startswith("how many ") and english.endswith("?")
    assert not has_han(english)
    assert "social worker" in english  # the dictionary's sense the paragraph itself uses


def test_a_name_the_dictionary_lacks_is_spelled_in_pinyin():
    assert "ZhangSanFeng" in to_english("张三丰在哪里出生？", XIAMEN)


def test_an_english_question_becomes_chinese_words_with_its_names_and_numbers():
    chinese = to_chinese("How many certified social workers did Xiamen have in 2023?", WEINING)
    assert chinese.endswith("多少？")
    assert "2023" in chinese and "Xiamen" in chinese
    assert "社会工作" in chinese or "社工" in chinese
    assert not any(word in chinese.split() for word in ("did", "in", "have"))


def test_a_translation_the_paragraph_uses_is_preferred():
    assert "社工" in to_chinese("How many social workers are there?", WEINING)
