from rag.text import detect_language, fold, has_han, numbers_in, paragraph_spans, split_sentences


def test_detect_language_tells_scripts_apart():
    assert detect_language("厦门有多少持证社工？") == "zh-hans"
    assert detect_language("廈門有多少持證社工？") == "zh-hant"
    assert detect_language("How many certified social workers does Fujian have?") == "en"
    assert detect_language("東京の天気はどうですか") == "other"


def test_fold_meets_traditional_and_full_width():
    assert fold("福建省社會工作專業人才") == fold("福建省社会工作专业人才")
    assert fold("ＡＢＣ１２３") == "abc123"


def test_split_sentences_keeps_decimals_and_titles_whole():
    text = "持证社会工作者3.8万人。Mr. Li said there are 21.22 per 10,000 people. 好！"
    parts = [text[a:b] for a, b in split_sentences(text)]
    assert parts == ["持证社会工作者3.8万人。", "Mr. Li said there are 21.22 per 10,000 people.", "好！"]


def test_numbers_drop_thousands_separators():
    assert numbers_in("11,265人, 3.8万, 21.22, ２０２３") == ["11265", "3.8", "21.22", "2023"]


def test_paragraphs_run_up_to_a_blank_line():
    text = "第一段第一行\n第一段第二行\n\n\nSecond paragraph.\n"
    assert [text[a:b] for a, b in paragraph_spans(text)] == ["第一段第一行\n第一段第二行", "Second paragraph."]
    assert paragraph_spans("") == []


def test_han_characters_of_any_block_are_han():
    assert has_han("Xiamen 厦门") and has_han("\u3400") and not has_han("Xiamen, 11,265")
