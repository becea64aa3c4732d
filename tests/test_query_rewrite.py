"""Follow-up questions become standalone by carrying over the previous question's frame."""

from __future__ import annotations

import pytest

from rag.query.rewrite import rewrite_followup


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


# An English follow-up that names only a place or a time gives back the previous question word for word, with
# the old place's (or time's) span holding the new one: "are there in Fujian" -> "are there in Anhui".
@pytest.mark.parametrize(("previous", "followup", "standalone"), [
    ("How many certified social workers does Xiamen have?", "What about Anhui?",
     "How many certified social workers does Anhui have?"),
    ("How many social work institutions does Fujian have?", "What about Anhui?",
     "How many social work institutions does Anhui have?"),
    ("How many social work institutions are there in Fujian?", "What about Anhui?",
     "How many social work institutions are there in Anhui?"),
    ("How many social work institutions are there in Fujian?", "And Anhui?",
     "How many social work institutions are there in Anhui?"),
    ("How many social work institutions are there in Fujian?", "Same for Anhui?",
     "How many social work institutions are there in Anhui?"),
    ("What did Fujian do to train social workers in 2023?", "What about Anhui?",
     "What did Anhui do to train social workers in 2023?"),
    ("What did Fujian do to train social workers in 2023?", "What about in 2022?",
     "What did Fujian do to train social workers in 2022?"),
    ("When did the campaign in Xiamen start?", "What about Anhui?", "When did the campaign in Anhui start?"),
    ("When did the campaign in Xiamen start?", "What about in 2022?", "When did the campaign in Xiamen start in 2022?"),
    # a place with its division word, in the follow-up or in the previous question
    ("How many social work institutions does Fujian have?", "How about Zhejiang province?",
     "How many social work institutions does Zhejiang province have?"),
    ("What did Fujian do to train social workers in 2023?", "How about Zhejiang province?",
     "What did Zhejiang province do to train social workers in 2023?"),
    ("How many social work institutions are there in Fujian?", "What about the Anhui province?",
     "How many social work institutions are there in Anhui province?"),
    ("How many certified social workers does Xiamen have in 2023?", "How about the city of Hefei?",
     "How many certified social workers does the city of Hefei have in 2023?"),
    ("How many social work institutions were there in Fujian province in 2023?", "What about Anhui Province?",
     "How many social work institutions were there in Anhui Province in 2023?"),
    ("How many social work institutions are there in Guangxi Zhuang Autonomous Region?", "What about Anhui?",
     "How many social work institutions are there in Anhui?"),
    # a possessive, and names that stand together, are the old place too
    ("How many social work institutions does Fujian's civil affairs department register?", "What about Anhui?",
     "How many social work institutions does Anhui's civil affairs department register?"),
    ("How many social work institutions are there in Shenzhen, Guangdong?", "What about Anhui?",
     "How many social work institutions are there in Anhui?"),
    ("How many social work institutions are there in Fujian and Zhejiang?", "What about Anhui?",
     "How many social work institutions are there in Anhui?"),
    # "last year" takes no "in"; a year does
    ("How many certified social workers does Xiamen have in 2023?", "What about last year?",
     "How many certified social workers does Xiamen have last year?"),
    ("How many social workers did Xiamen have last year?", "And in 2022?",
     "How many social workers did Xiamen have in 2022?"),
    ("How many social work institutions did Fujian have at the end of 2023?", "What about 2022?",
     "How many social work institutions did Fujian have at the end of 2022?"),
])
def test_english_followups_swap_the_place_or_time_in_place(previous, followup, standalone):
    assert rewrite_followup(followup, turns(previous)) == standalone


def test_an_english_chain_of_followups_keeps_the_wording():
    history = turns("How many social work institutions are there in Fujian?", "What about Anhui?")
    standalone = "How many social work institutions are there in Anhui in 2022?"
    assert rewrite_followup("What about in 2022?", history) == standalone


def test_a_chinese_list_of_places_is_replaced_whole():
    assert rewrite_followup("那安徽呢？", turns("福建和广东有多少社工？")) == "安徽有多少社工？"
    assert rewrite_followup("那安徽呢？", turns("福建省、浙江省的社工机构有多少家？")) == "安徽的社工机构有多少家？"


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
