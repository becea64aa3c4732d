"""Follow-up questions become standalone by carrying over the previous question's frame."""

from __future__ import annotations

import pytest

from rag.rewrite import rewrite_followup


def turns(*questions: str) -> list[tuple[str, str]]:
    return [(q, "…") for q in questions]


@pytest.mark.parametrize(("previous", "followup", "standalone"), [
    ("厦门有多少持证社工？", "那福建呢？", "福建有多少持证社工？"),
    ("厦门有多少持证社工？", "那福建有多少？", "福建有多少持证社工？"),
    ("福建省有多少持证社会工作者？", "那威宁自治县呢？", "威宁自治县有多少持证社会工作者？"),
    ("威宁县持证社工有多少人？", "漯河呢", "漯河持证社工有多少人？"),
    ("2023年安徽省持证社会工作者达到多少人？", "那2022年呢？", "2022年安徽省持证社会工作者达到多少人？"),
    ("厦门有多少持证社工？", "那2022年呢？", "2022年厦门有多少持证社工？"),
    ("福建有多少持证社工？", "那社工机构有多少家？", "福建社工机构有多少家？"),
])
def test_chinese_followups(previous, followup, standalone):
    assert rewrite_followup(followup, turns(previous)) == standalone


@pytest.mark.parametrize(("previous", "followup", "standalone"), [
    ("How many certified social workers does Xiamen have?", "And in Fujian?",
     "How many certified social workers does Fujian have?"),
    ("How many certified social workers does Fujian have?", "What about Xiamen?",
     "How many certified social workers does Xiamen have?"),
    ("How many certified social workers does Xiamen have?", "What about Hong Kong?",
     "How many certified social workers does Hong Kong have?"),
    ("How many certified social workers does Xiamen have?", "And in 2022?",
     "How many certified social workers does Xiamen have in 2022?"),
    ("How many certified social workers are there in Xiamen in 2023?", "What about Weining County?",
     "How many certified social workers are there in Weining County in 2023?"),
    ("How many certified social workers does Fujian have?", "And how many social work institutions?",
     "How many social work institutions in Fujian?"),
])
def test_english_followups(previous, followup, standalone):
    assert rewrite_followup(followup, turns(previous)) == standalone


def test_traditional_followup_keeps_the_previous_question_as_written():
    assert rewrite_followup("那福建呢？", turns("廈門有多少持證社工？")) == "福建有多少持證社工？"


def test_a_chain_of_followups_keeps_place_and_time():
    history = turns("廈門有多少持證社工？", "那2022年呢？")
    assert rewrite_followup("那福建呢？", history) == "2022年福建有多少持證社工？"


@pytest.mark.parametrize(("previous", "question"), [
    ("威宁县持证社工有多少人？", "厦门有多少持证社工？"),
    ("威宁县持证社工有多少人？", "那漯河市民政社工走访了多少户？"),
    ("那福建呢？", "How many certified social workers does Xiamen have?"),
    ("厦门有多少持证社工？", "谢谢"),
])
def test_a_standalone_question_is_unchanged(previous, question):
    assert rewrite_followup(question, turns(previous)) == question


def test_without_history_the_question_is_unchanged():
    assert rewrite_followup("那福建呢？", []) == "那福建呢？"
