import pytest

from rag.lang.text import (
    detect_language,
    fold,
    han_numeral_value,
    has_han,
    numbers_in,
    paragraph_spans,
    split_sentences,
)


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


@pytest.mark.parametrize(("numeral", "value"), [
    ("十二", 12), ("二十", 20), ("一百零五", 105), ("三千五百万", 35_000_000), ("一万零五", 10_005),
    ("五亿三千万", 530_000_000), ("一万亿", 10**12), ("两千", 2_000), ("一万二", 12_000), ("三百五", 350),
    ("十万", 100_000), ("一千零五十", 1_050),
])
def test_chinese_numerals_read_as_their_value(numeral: str, value: int) -> None:
    assert han_numeral_value(numeral) == value


@pytest.mark.parametrize("characters", ["万一", "一二", "十十", "百", "一千千", "九百一千", "一万零", "零五"])
def test_runs_of_numeral_characters_that_are_no_number_have_no_value(characters: str) -> None:
    assert han_numeral_value(characters) is None


def test_every_number_below_ten_thousand_written_out_reads_back() -> None:
    digits = "零一二三四五六七八九"

    def written(n: int) -> str:  # the standard form, built independently of the reader under test
        out, gap = "", False
        for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = n // unit % 10
            if d:
                out += ("零" if gap and out else "") + digits[d] + name
                gap = False
            else:
                gap = True
        return out

    assert all(han_numeral_value(written(n)) == n for n in range(1, 10_000))
