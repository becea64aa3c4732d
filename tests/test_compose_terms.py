"""Question analysis for the composer: asked-for kind, measure words, figures that can answer a
count, and names matched across scripts. Real phrasing from the seed articles."""

from __future__ import annotations

import pytest

from rag.compose.terms import (
    Haystack,
    analyze,
    asked_kind,
    asked_unit,
    entity_in,
    haystack,
    is_chinese_place,
    kind_spans,
)


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


def figures(text: str, question: str) -> list[str]:
    info = analyze(question, "zh-hans")
    return [text[s:e] for s, e in kind_spans("number", text, info)]


def test_years_dates_and_ordinals_do_not_answer_how_many():
    question = "有多少名会议代表参加了更名换届大会？"
    assert figures("2 月 24 日,中国社会工作联合会妇女与婚姻家庭工作委员会更名换届大会召开。", question) == []
    assert figures("以第17个国际社工日为契机,2023年开展社工系列活动", question) == []
    assert figures("中国社会工作联合会会长陈存根出席会议并讲话,150 余名会议代表参加会议。", question) == ["150 余"]
    assert figures("以第17个国际社工日为契机", "威宁以第几个国际社工日为契机？") == ["17"]


def test_found_figures_are_shared_but_each_question_filters_its_own():
    # The figures of a sentence are found once for all questions; what the question names is left out per question.
    text = "据统计,目前全县持证社工125人,其中助理社会工作师94人"
    assert figures(text, "全县持证社工125人中有多少名助理社会工作师？") == ["94"]
    assert figures(text, "全县有多少持证社工？") == ["125", "94"]
    assert figures("以第17个国际社工日为契机", "以第几个国际社工日为契机？") == ["17"]
    assert figures("以第17个国际社工日为契机", "有多少个社工日？") == []


def test_figures_keep_their_written_form():
    text = "全省持证社会工作者达到 3.3万人,对2300余名驻站社工开展轮训,其中“新生代”专职社工占比6%"
    assert figures(text, "安徽的数字是多少？") == ["3.3万", "2300余", "6%"]


@pytest.mark.parametrize(("question", "unit"), [
    ("厦门有多少持证社工？", "count"),
    ("How many assistant social workers does Weining county have?", "count"),
    ("What share of Pingyang County's full-time social workers belong to the team?", "share"),
    ("“新生代”专职社工占比多少？", "share"),
    ("How much funding did Weining secure from higher levels of government?", "money"),
    ("威宁争取了多少万元上级资金？", "money"),
    ("威宁自治县持证社工的平均年龄是多少？", "age"),
    ("持证人员每人每年要学习多少学时？", "time"),
    ("2023年报名人数比前一年涨了多少？", None),  # a change: a count or a percentage
    ("厦门每万人拥有多少持证社工？", "rate"),
    ("How many certified social workers does Xiamen have per 10,000 people?", "rate"),
    ("What is the ratio of licensed caseworkers to inhabitants in Xiamen?", "rate"),
])
def test_what_a_number_question_asks_the_figure_to_measure(question, unit):
    assert asked_unit(question) == unit


def test_a_figure_answers_only_a_question_about_what_it_measures():
    # Seed text (Weining): hours of training, people, money, a share, an age.
    text = ("确保持证人员每人年均学习时长达到90学时以上,全县持证社工125人,其中“新生代”专职社工占比6%,"
            "积极争取上级资金支持66万元,平均年龄不超过30岁,invested 362 million yuan")
    assert figures(text, "全县有多少持证社工？") == ["125"]
    assert figures(text, "“新生代”专职社工占比多少？") == ["6%"]
    assert figures(text, "争取了多少上级资金？") == ["125", "66万", "362"]  # a sum may be written without 元
    assert figures(text, "持证社工的平均年龄是多少？") == ["125", "30"]
    assert figures(text, "每人每年学习多少学时？") == ["90", "125"]
    assert figures(text, "人数是多少？") == ["90", "125", "6%", "66万", "30", "362"]
    assert figures("超过三分之一的社工、过半的社区", "社工占比多少？") == ["三分之一", "过半"]
    assert figures("超过三分之一的社工、过半的社区", "有多少社工？") == []


def test_a_figure_per_head_of_population_is_a_rate_not_a_count():
    english = "there are 11,265 certified social workers in Xiamen, and 21.22 social workers per 10,000 people"
    assert figures(english, "How many certified social workers does Xiamen have?") == ["11,265"]
    assert figures(english, "How many certified social workers does Xiamen have per 10,000 people?") == ["21.22"]
    chinese = "全市持证社工11265人,每万人持证社工21.22人,人均服务经费32元"
    assert figures(chinese, "厦门有多少持证社工？") == ["11265"]
    assert figures(chinese, "厦门每万人拥有多少持证社工？") == ["21.22", "32"]


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


def test_names_match_across_scripts_through_pinyin():
    weining = Haystack("下一步,威宁自治县民政局将继续践行民政为民、民政爱民工作理念")
    xiamen = Haystack("At present, there are 11,265 certified social workers in Xiamen")
    assert entity_in("Weining", weining) is True
    assert entity_in("Beijing", weining) is False
    assert entity_in("厦门", xiamen) is True
    assert entity_in("廈門", xiamen) is True
    assert entity_in("福州", xiamen) is False
    assert entity_in("Southeast Net", weining) is None  # not a pinyin name: cannot tell

    # A place in China is matched by its own characters, not by any characters that read like it: 伤害 (harm) is
    # read "shanghai" too.
    harm, firm = Haystack("在社会救助、养老服务、儿童关爱保护等领域防止伤害"), Haystack("邀请上海东方社会工作事务所")
    assert entity_in("Shanghai", harm) is False and entity_in("Shanghai", firm) is True


def test_province_abbreviation_names_the_province():
    info = analyze("闽省派老师下乡授课，已经给多少位驻点社工做过轮流培训？", "zh-hans")
    assert "福建" in info.entities


def test_question_words_carry_their_dictionary_translations():
    chinese = {t.text: t for t in analyze("厦门有多少持证社会工作者？", "zh-hans").terms}
    assert "social worker" in chinese["社会工作者"].translations and chinese["厦门"].translations == ()  # names: pinyin
    english = analyze("How many social workers does Deqing's county have?", "en")
    assert "Deqing" in english.entities  # not "Deqing's"
    assert "社工" in {t.text: t for t in english.terms}["social"].translations


def test_names_pinyin_cannot_spell_are_matched_through_the_dictionary():
    assert entity_in("Hong Kong", Haystack("香港社会福利机构的300多名社工")) is True  # not pinyin: xianggang
    assert entity_in("香港", Haystack("Hong Kong social workers visited Chaozhou")) is True
    funds = Haystack("积极争取上级资金支持66万元")
    assert entity_in("Peru", funds) is False  # 秘鲁 is absent: the passage is not about Peru
    assert entity_in("Qwzx", funds) is None  # neither pinyin nor the dictionary can tell


def test_a_gloss_that_says_where_a_name_is_still_matches_the_name():
    # CC-CEDICT glosses 洛杉矶 as "Los Angeles, California" and 丹佛 as "Denver, Colorado".
    assert entity_in("洛杉矶", Haystack("The Greater Los Angeles Area is home to 18 million people.")) is True
    assert entity_in("丹佛", Haystack("Denver took a 24-10 lead.")) is True
    assert entity_in("丹佛", Haystack("Carolina took a 24-10 lead.")) is False


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


def test_ten_thousand_is_found_as_wan():
    assert haystack("每万人拥有持证社工13.7人").has("10000")
    assert not haystack("持证社工13.7人").has("10000")


def test_a_chinese_name_is_found_in_english_text_by_any_reading_of_its_characters():
    from rag.compose.terms import Haystack, entity_in

    assert entity_in("重庆市", Haystack("Social workers in Chongqing visit elderly residents.")) is True  # 重: chong
    assert entity_in("漯河", Haystack("In Luohe, social workers knocked on doors.")) is True  # 漯: luo, not ta
    assert entity_in("厦门", Haystack("Xiamen has 11,265 certified social workers.")) is True
    assert entity_in("潮州", Haystack("Social workers in Xiamen visit elderly residents.")) is not True
