"""The gold question set (eval/gold.jsonl) passes its validator, and the validator catches bad lines.

The first test runs the whole validation against the seeds as rag.ingest cleans them (no embedding).
The others feed the checks small documents made of real seed snippets.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from rag.types import Document

ROOT = Path(__file__).resolve().parent.parent


def _load_validator():
    path = ROOT / "eval" / "validate_gold.py"
    spec = importlib.util.spec_from_file_location("validate_gold", path)
    assert spec and spec.loader, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


vg = _load_validator()

XIAMEN = Document(
    id="000_a28a2c41f418ff44#1",
    title="There are 11,265 certified social workers in Xiamen",
    text="At present, there are 11,265 certified social workers in Xiamen, and 21.22 certified social "
    "workers per 10,000 people, ranking first in the country.",
    lang="en",
)
WEINING = Document(
    id="003_2b286ece2c422390#4",
    title='贵州威宁: "四个强化"助力社会工作发展',
    text="据统计,目前全县持证社 工 125 人,其中助理社会工作 师 94 人,社会工作师 31 人。",
    lang="zh-hans",
)
FUJIAN_HANT = Document(
    id="001_b68a85b33c870ddc#1",
    title="福建:推動社會工作助力鄉村振興",
    text="目前,福建省社會工作專業人才超過8萬人,持證社會工作者3.8萬人,社工機構近700家。",
    lang="zh-hant",
)
FUJIAN_HANS = Document(
    id="004_97ebb4bc4085e2f5#2",
    title="福建: 推动社会工作助力乡村振兴",
    text="目前,福建省社会工作专业人才超过 8 万人,持证社会工作者 3.8 万人,社工机构近 700 家。",
    lang="zh-hans",
    duplicate_of="001_b68a85b33c870ddc#1",
)
DOCS = {d.id: d for d in (XIAMEN, WEINING, FUJIAN_HANT, FUJIAN_HANS)}


def item(**fields) -> vg.GoldItem:
    base = {
        "id": "g001",
        "question": "How many certified social workers are there in Xiamen?",
        "lang": "en",
        "answers": ["11,265"],
        "doc_ids": [XIAMEN.id],
        "type": "number",
    }
    return vg.GoldItem(**(base | fields))


def problems(*items: vg.GoldItem) -> str:
    return "\n".join(vg.check_items(list(items), DOCS))


def test_gold_file_passes_every_check_against_ingested_seeds():
    report = vg.validate()
    assert report.ok, "gold set fails validation:\n" + "\n".join(report.failures)
    assert len(report.items) >= 100


def test_normalise_ignores_stray_spaces_script_and_digit_grouping():
    assert vg.normalise("125人") in vg.normalise(WEINING.text)
    assert vg.normalise("3.8万人") in vg.normalise(FUJIAN_HANT.text)
    assert vg.normalise("11265") in vg.normalise(XIAMEN.text)
    assert vg.normalise("21.22") in vg.normalise(XIAMEN.text)
    assert vg.normalise("1122") not in vg.normalise(XIAMEN.text)


def test_well_formed_items_pass():
    assert (
        problems(
            item(),
            item(
                id="g002",
                question="厦门每万人拥有多少持证社工？",
                lang="zh-hans",
                answers=["21.22"],
                type="cross-lingual",
            ),
            item(
                id="g003",
                question="威寧自治縣持證社工中，社會工作師有多少人？",
                lang="zh-hant",
                answers=["31人"],
                doc_ids=[WEINING.id],
                type="traditional",
            ),
        )
        == ""
    )


def test_answer_missing_from_its_article_is_reported():
    assert "answer '11,266' occurs in none of" in problems(item(answers=["11,266"]))


def test_listed_article_without_any_answer_is_reported():
    assert f"{WEINING.id} is listed but holds none of the answers" in problems(item(doc_ids=[XIAMEN.id, WEINING.id]))


def test_unknown_doc_id_and_repeated_id_are_reported():
    found = problems(
        item(doc_ids=["003_2b286ece2c422390#9"]), item(question="Xiamen: how many certified social workers?")
    )
    assert "unknown doc_ids ['003_2b286ece2c422390#9']" in found
    assert "id 'g001' is used 2 times" in found


def test_question_in_the_wrong_language_label_is_reported():
    found = problems(item(question="威宁县有多少持证社工？", lang="zh-hant", answers=["125人"], doc_ids=[WEINING.id]))
    assert "reads as 'zh-hans'" in found


def test_cross_lingual_question_answered_in_its_own_language_is_reported():
    found = problems(
        item(
            question="威宁县有多少持证社工？",
            lang="zh-hans",
            answers=["125人"],
            doc_ids=[WEINING.id],
            type="cross-lingual",
        )
    )
    assert "cross-lingual" in found


def test_paraphrase_that_copies_the_source_is_reported():
    found = problems(
        item(
            question="福建省持证社会工作者有多少？",
            lang="zh-hans",
            answers=["3.8万"],
            doc_ids=[FUJIAN_HANS.id],
            type="paraphrase",
        )
    )
    assert "repeats 7 source words in a row: '持证社会工作者'" in found


def test_question_that_contains_its_answer_is_reported():
    found = problems(item(question="Are there 11,265 certified social workers in Xiamen?"))
    assert "contains its own answer '11,265'" in found


def test_multi_article_within_one_duplicated_story_is_reported():
    found = problems(
        item(
            question="福建省持证社会工作者和社工机构各有多少？",
            lang="zh-hans",
            answers=["3.8万", "700家"],
            doc_ids=[FUJIAN_HANT.id, FUJIAN_HANS.id],
            type="multi-article",
        )
    )
    assert "two different stories" in found


def test_unanswerable_with_answers_or_without_note_is_reported():
    found = problems(item(question="How many social workers does Shanghai have?", type="unanswerable"))
    assert "must have empty answers and doc_ids" in found
    assert "needs a note" in found


def test_schema_errors_are_reported_per_line():
    lines = [
        "{not json",
        json.dumps({"id": "g001", "question": "q", "lang": "en", "answers": "125", "doc_ids": [], "type": "number"}),
        json.dumps({"id": "q2", "question": "q", "lang": "fr", "answers": [], "doc_ids": [], "type": "trivia"}),
    ]
    items, failures = vg.parse_gold(lines)
    found = "\n".join(failures)
    assert items == []
    assert "line 1: not valid JSON" in found
    assert "g001: field 'answers' must be a list" in found
    assert "id 'q2' must look like g001" in found
    assert "lang 'fr'" in found and "type 'trivia'" in found


@pytest.mark.parametrize(
    "expected",
    [
        "2 questions, need at least 100",
        f"{WEINING.id} has 0 questions, need 4",
        "0 unanswerable questions, need at least 15",
        "0 Chinese number questions, need 5",
        "0 cross-lingual English -> Chinese questions, need 5",
    ],
)
def test_coverage_shortfalls_are_reported(expected):
    assert expected in "\n".join(vg.check_coverage([item(), item(id="g002")], DOCS))
