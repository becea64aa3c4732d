"""rag.query.analyze: what a question asks (its kind, unit, measure words, terms and their translations, places).
Real phrasing from the seed articles."""

from __future__ import annotations

import pytest

from rag.query.analyze import Query, analyze, asked_for, asked_kind, is_chinese_place, names_en


@pytest.mark.parametrize(("question", "kind"), [
    ("厦门有多少持证社工？", "number"),
    ("陈存根对委员会换届后的工作提出了几点期望？", "number"),
    ("What share of Pingyang County's full-time social workers belong to the team?", "number"),
    ("平阳县“新生代”专职社工队伍是哪一天正式成立的？", "date"),
    ("When was the launching ceremony held?", "date"),
    ("谁是中国社会工作联合会会长？", "person"),
    ("闽省还在哪个行业最早发布了专门的社工政策文件？", None),
    ("What is the name of the campaign that uses TV screens?", None),
])
def test_asked_kind(question, kind):
    assert asked_kind(question) == kind


@pytest.mark.parametrize(("question", "measure"), [
    ("厦门有多少持证社工？", ["持证", "社工"]),
    ("威宁自治县持证社工的平均年龄是多少？", ["平均年龄"]),
    ("庄浪县和威宁县的持证社工分别有多少人？", ["社工"]),  # not the adverb 分别 ("respectively")
    # Not the change (涨: the passage says 同比增长189%) nor the locative 前 of 前一年.
    ("2023年社工资格考试报名的人比前一年涨了多少？", ["报名"]),
    ("How many registered volunteers does Chaozhou have?", ["register", "volunteer"]),
    ("How much did Weining county spend on buying social work services in 2022?", ["spend"]),
])
def test_measure_words(question, measure):
    language = "en" if question[0].isascii() else "zh-hans"
    assert analyze(question, language).measure == measure


def test_province_abbreviation_names_the_province():
    info = analyze("闽省派老师下乡授课，已经给多少位驻点社工做过轮流培训？", "zh-hans")
    assert "福建" in info.entities


def test_question_words_carry_their_dictionary_translations():
    chinese = {t.text: t for t in analyze("厦门有多少持证社会工作者？", "zh-hans").terms}
    assert "social worker" in chinese["社会工作者"].translations and chinese["厦门"].translations == ()  # names: pinyin
    english = analyze("How many social workers does Deqing's county have?", "en")
    assert "Deqing" in english.entities  # not "Deqing's"
    assert "社工" in {t.text: t for t in english.terms}["social"].translations


def test_the_first_question_word_decides_the_kind():
    assert asked_kind("How old was Peyton Manning when he played in Super Bowl 50?") == "number"
    assert asked_kind("When did the campaign start, and how many joined?") == "date"


def test_measure_skips_parentheses_and_relative_clauses_and_keeps_qualifiers():
    assert analyze("德清县有多少个乡镇（街道）社会工作站？", "zh-hans").measure[:1] == ["乡镇"]
    assert "社会" in analyze("德清县有多少个乡镇（街道）社会工作站？", "zh-hans").measure
    assert analyze("这个县打算拥有多少名本地成长起来的专业社工？", "zh-hans").measure == ["专业", "社工"]
    assert analyze("安徽省有多少名高級社會工作師？", "zh-hant").qualifiers == ["高级"]
    assert analyze("厦门持证社工的平均月薪是多少？", "zh-hans").qualifiers == []


def test_places_in_china_are_told_from_foreign_ones():
    assert is_chinese_place("威宁自治县") and is_chinese_place("厦门") and is_chinese_place("潮州市")
    assert not is_chinese_place("瑞士") and not is_chinese_place("威尔士") and not is_chinese_place("南加州")




def test_a_query_is_cleaned_and_its_language_found_once():
    query = Query.of("  廈門有多少持證社工？\x07 ", max_chars=200)
    assert (query.text, query.language) == ("廈門有多少持證社工？", "zh-hant")
    assert query.asked.kind == asked_for(query.text, query.language).kind == "number"
    assert query.asked is query.asked  # found on first use, then kept
    with pytest.raises(ValueError, match="empty"):
        Query.of(" \x00 ", max_chars=200)


def test_a_function_word_capitalised_by_its_place_is_not_a_name():
    assert names_en("As technology advances, what is another higher bit rate?") == []
    assert names_en("To what school of Hindu philosophy is yoga aligned?") == ["Hindu"]
    assert names_en("For how long may a caretaker manage a Premier League team?") == ["Premier League"]
    assert analyze("By using a central government, Ptolemy ran his country.", "en").entities == ["Ptolemy"]
