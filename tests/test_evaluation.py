"""rag.evaluation: reader scores as CMRC 2018's and SQuAD's scripts compute them, and `rag eval --reader` on a
small dataset written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli import main
from rag.evaluation.metrics import exact_match, f1_score


@pytest.mark.parametrize(("prediction", "answers", "chinese", "f1"), [
    ("11,265人", ["11,265人"], True, 1.0),
    ("约11,265人", ["11,265人"], True, 2 * 6 / (7 + 6)),  # by characters, punctuation dropped
    ("the Panthers", ["Panthers"], False, 1.0),  # articles dropped
    ("Carolina Panthers defense", ["Panthers", "the Carolina Panthers"], False, 0.8),  # best over the answers
    ("", ["125"], True, 0.0),
])
def test_f1_by_characters_or_tokens(prediction, answers, chinese, f1):
    assert f1_score(prediction, answers, chinese) == pytest.approx(f1)


def test_exact_match_ignores_case_punctuation_and_articles():
    assert exact_match("The Panthers.", ["panthers"], False) == 1.0
    assert exact_match("125 人", ["125人"], True) == 1.0 and exact_match("125", ["125人"], True) == 0.0


def test_rag_eval_reader_scores_the_gold_paragraphs(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    dataset = tmp_path / "tiny"
    dataset.mkdir()
    corpus = [{"id": "p1", "title": "", "text": "At present, there are 11,265 certified social workers in Xiamen."},
              {"id": "p2", "title": "", "text": "据统计,目前全县持证社工125人,其中助理社会工作师94人。"}]
    queries = [{"id": "q1", "question": "How many certified social workers are there in Xiamen?",
                "answers": ["11,265"], "gold_ids": ["p1"]},
               {"id": "q2", "question": "全县持证社工有多少人？", "answers": ["125人", "125"], "gold_ids": ["p2"]}]
    for name, rows in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        (dataset / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert main(["eval", str(dataset), "--reader", "--out", str(tmp_path / "reports")]) == 0
    report = json.loads((tmp_path / "reports" / "tiny-reader.json").read_text(encoding="utf-8"))
    assert report["summary"]["overall"]["n"] == 2
    assert [r["prediction"] for r in report["rows"]] == ["11,265", report["rows"][1]["prediction"]]
    assert "125" in report["rows"][1]["prediction"] and report["summary"]["overall"]["F1"] > 50
    assert "| overall |" in capsys.readouterr().out
