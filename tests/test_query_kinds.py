"""rag.query.kinds: which figures, dates, names and places of a sentence answer the question's kind. Real
phrasing from the seed articles."""

from __future__ import annotations

import pytest

from rag.query.analyze import analyze, asked_unit
from rag.query.kinds import kind_spans


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
