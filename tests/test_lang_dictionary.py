"""The dictionary translation of question words (rag/lang/dictionary.py) and its use by the keyword leg."""


from rag.lang import dictionary as bilingual
from rag.lang.dictionary import chinese_to_english, english_to_chinese, english_word_forms
from rag.lang.text import has_han
from rag.retrieve.lexical import STOPWORDS, LexicalIndex, tokenize


def test_english_phrases_translate_longest_first():
    found = dict(english_to_chinese("How many certified social workers are there?", STOPWORDS))
    assert "social worker" in found and {"社工", "社会工作者"} <= set(found["social worker"])
    assert "social" not in found and "worker" not in found  # the phrase used both words
    ministry = dict(english_to_chinese("the Ministry of Civil Affairs", STOPWORDS))
    assert ministry["ministry of civil affairs"] == ("民政部",)


def test_chinese_words_translate_to_their_first_glosses():
    glosses = dict(chinese_to_english(["社工", "不在词典里的词"]))
    assert set(glosses) == {"社工"} and "social worker" in glosses["社工"]


def test_glosses_hold_no_chinese_and_pointers_to_other_words_are_not_translations():
    # CC-CEDICT writes "united kingdom 聯合王國|联合王国" and "same as 租金": the English translates, the rest points.
    lexicon = bilingual.lexicon()
    assert not any(has_han(s) for senses in lexicon.chinese_to_english.values() for s in senses)
    assert not any(has_han(gloss) for gloss in lexicon.english_to_chinese)
    assert bilingual.english_senses("英国")[0] == "united kingdom"
    assert bilingual.english_senses("租钱") == ("rent",)
    assert "英国" in dict(english_to_chinese("When did the United Kingdom sign it?", STOPWORDS))["united kingdom"]


def test_a_word_takes_the_translations_of_the_glosses_that_share_its_stem():
    # The dictionary glosses 资金 as "funds" and 分 as "point"; it has no "funding", and "points" is only 点数.
    funding = dict(english_to_chinese("How much funding did Weining secure?", STOPWORDS))
    assert {"基金", "资金", "经费"} <= set(funding["fund"])
    points = dict(english_to_chinese("How many points did the Panthers score?", STOPWORDS))
    assert "分" in points["points"]  # the gloss "points" alone is 点数


def test_word_forms_fold_plurals_and_participles():
    assert "worker" in english_word_forms("workers") and "ceremony" in english_word_forms("ceremonies")
    assert english_word_forms("Xiamen") == ["Xiamen"]


def test_translations_keep_only_what_the_corpus_holds():
    index = LexicalIndex.build([tokenize("厦门有持证社工11265人"),
                                tokenize("There are 11,265 certified social workers")])
    to_chinese = index.translations("How many social workers are there?", "zh")
    assert "社工" in to_chinese and all(index.idf(t) < index.idf("never-seen") for t in to_chinese)
    to_english = index.translations("厦门有多少社工？", "en")
    assert "workers" in to_english and "social" in to_english  # the plural the corpus uses, not the gloss's
    assert index.translations("厦门有多少社工？", "other") == []


def test_the_parsed_dictionary_is_cached_and_a_broken_copy_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    bilingual._load.cache_clear()
    try:
        first = bilingual._load()
        [cached] = bilingual.cache_dir().glob("cc-cedict-*.pickle")

        def no_parsing(source: bytes):
            raise AssertionError("parsed although a cached copy exists")

        with monkeypatch.context() as patch:
            patch.setattr(bilingual, "_parse", no_parsing)
            bilingual._load.cache_clear()
            assert bilingual._load() == first
        cached.write_bytes(b"not a pickle")
        bilingual._load.cache_clear()
        assert bilingual._load() == first and cached.stat().st_size > 1_000_000  # parsed and written again
    finally:
        bilingual._load.cache_clear()
