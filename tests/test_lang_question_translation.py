"""rag.lang.question_translation: a question rebuilt in the language of the passage beside it, from the dictionary
translations that passage holds (and only those)."""

from __future__ import annotations

from rag.lang.question_translation import in_chinese, in_english, question_words

WEINING = "据统计,目前全县持证社工125人,其中助理社会工作师94人,社会工作师31人。"
XIAMEN = "At present, there are 11,265 certified social workers in Xiamen, ranking first in the province."


def test_an_english_question_becomes_the_passages_chinese_words_and_a_question_word():
    rebuilt = in_chinese("How many social workers are there in the county?", WEINING)
    assert rebuilt is not None and rebuilt.endswith("多少？") and "社工" in rebuilt
    assert set(rebuilt.removesuffix("多少？")) <= set(WEINING)


def test_only_translations_the_passage_holds_are_kept():
    rebuilt = in_chinese("When did the volunteers visit the elderly?", WEINING)
    assert rebuilt is None  # none of its words has a translation in this passage
    assert in_chinese("Who trained the social workers?", WEINING) == "社工谁？"


def test_a_chinese_question_becomes_a_question_word_and_the_passages_english_words():
    rebuilt = in_english("全县有多少持证社工？", XIAMEN)
    assert rebuilt is not None and rebuilt.startswith("how many ")
    assert all(word in XIAMEN.lower() for word in rebuilt.removeprefix("how many ").rstrip("?").split())
    assert in_english("天气怎么样？", XIAMEN) is None


def test_question_words_pair_both_languages_most_specific_first():
    pairs = question_words()
    english = [en for en, _ in pairs]
    assert english.index("how many") < english.index("how") and english.index("what year") < english.index("what")
    assert all(en.isascii() and not zh.isascii() for en, zh in pairs)
