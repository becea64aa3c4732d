import numpy as np

from rag.retrieve.lexical import LexicalIndex, tokenize
from rag.retrieve.spellings import NameSpellings


def test_numbers_survive_tokenisation():
    tokens = tokenize("目前厦门有持证社工11,265人，每万人21.22名，持证社会工作者3.8万人")
    assert {"11265", "21.22", "3.8万", "3.8"} <= set(tokens)


def test_traditional_question_matches_simplified_text():
    index = LexicalIndex.build([tokenize("全县持证社工125人"), tokenize("福建省社会工作专业人才超过8万人")])
    scores = index.scores(tokenize("全縣持證社工多少人"))
    assert scores[0] > 0 and scores[0] > scores[1]


def test_english_words_and_stopwords():
    tokens = tokenize("How many certified social workers are there in Xiamen?")
    assert tokens == ["certified", "social", "workers", "xiamen"]


def test_salient_terms_come_from_the_given_rows():
    index = LexicalIndex.build([tokenize("漯河市民政局社工敲门行动"), tokenize("德清县五社联动现代社区")])
    terms = index.salient_terms([0], 3)
    assert terms and all(t in tokenize("漯河市民政局社工敲门行动") for t in terms)


def test_names_are_transliterated_across_scripts():
    index = LexicalIndex.build([tokenize("漯河市民政局社工敲门行动"), tokenize("威宁自治县民政局"),
                                tokenize("There are 11,265 certified social workers in Xiamen")])
    assert {"漯河市", "威宁"} <= set(index.transliterations("How many social workers in Luohe and Weining?"))
    assert index.transliterations("厦门有多少持证社工？") == ["xiamen"]
    assert index.transliterations("how many social workers?") == []


def test_an_updated_index_spells_its_new_names_as_a_fresh_one():
    first, second = ["漯河市民政局社工敲门行动", "Luohe volunteers"], ["威宁自治县民政局", "Weining county"]
    index = LexicalIndex.build(map(tokenize, first))
    question = "How many social workers in Luohe and Weining?"
    before = index.transliterations(question)  # the spelling table is made here, then carried forward
    assert "漯河市" in before and "威宁" not in before
    grown = index.appended(map(tokenize, second))
    fresh = LexicalIndex.build(map(tokenize, first + second))
    assert grown.transliterations(question) == fresh.transliterations(question) == [*before, "威宁"]
    assert grown.transliterations("威宁在哪里") == fresh.transliterations("威宁在哪里") == ["weining"]
    assert grown.kept(np.array([False, True, True, True])).transliterations(question) == [*before, "威宁"]


def test_tokenize_all_in_worker_processes_matches_one_process(monkeypatch) -> None:
    import rag.retrieve.lexical as lexical

    texts = ["厦门有11,265名持证社工", "International Social Work Day 2023", "導航 漯河市 威宁", ""] * 3
    monkeypatch.setattr(lexical, "PARALLEL_MIN_TEXTS", 4)
    assert lexical.tokenize_all(texts, workers=2) == [lexical.tokenize(t) for t in texts]


def test_a_warmed_up_index_spells_english_names_without_making_its_table_again(monkeypatch):
    index = LexicalIndex.build([tokenize("漯河市民政局社工敲门行动"), tokenize("威宁自治县民政局")])
    index.warm_up()

    def made_again(*args, **kwargs):
        raise AssertionError("the pinyin table was made at the question")

    monkeypatch.setattr(NameSpellings, "extended", made_again)
    assert {"漯河市", "威宁"} <= set(index.transliterations("How many social workers in Luohe and Weining?"))
    assert index.transliterations("厦门有多少持证社工？") == []  # a Chinese question needs no table

