"""rag.evaluation: reader scores as CMRC 2018's and SQuAD's scripts compute them, `rag eval --reader` on a
small dataset written here, and the per-question HTML report of a gold-set evaluation (escaped, misses marked, gold
strings highlighted, one row per question, a "misses only" filter that works in Chromium)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.api import RAG
from rag.cli import main
from rag.evaluation.metrics import exact_match, f1_score
from rag.evaluation.report_html import gold_report_html

GOLD = Path(__file__).resolve().parent.parent / "eval" / "gold.jsonl"
CHROMIUM = Path("/usr/bin/chromium")


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


def _row(qid: str, question: str, gold: list[str], answer: str, hit: bool, abstained: bool = False,
         cited: list[dict[str, str]] | None = None) -> dict[str, object]:
    return {"id": qid, "type": "fact", "lang": "en", "answerable": bool(gold), "question": question, "gold": gold,
            "answer": answer, "answer_hit": hit, "abstained": abstained, "cited": cited or []}


HAND_MADE = [
    _row("q-hit", "How many certified social workers are there in Xiamen?", ["11,265"],
         "There are 11,265 certified social workers [1].", True,
         cited=[{"n": 1, "text": "At present, there are 11,265 certified social workers in Xiamen.",
                 "title": "Social work in <Xiamen>", "source": "Xiamen Daily", "date": "2023-03-20"}]),
    _row("q-miss", "Who won? <script>alert(1)</script>", ["Panthers"], "The Broncos won [1].", False,
         cited=[{"n": 1, "text": "The Broncos & friends won.", "title": "Game", "source": "", "date": ""}]),
    _row("q-none", "How many social workers does Shanghai have?", [], "The articles do not say.", False,
         abstained=True),
]


def test_the_html_report_escapes_marks_misses_and_highlights_gold():
    page = gold_report_html(HAND_MADE, {"overall": {"n": 3, "answer_hit": 0.5}}, "gold <test>")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;Xiamen&gt;" in page and "The Broncos &amp; friends won." in page and "gold &lt;test&gt;" in page
    rows = re.findall(r'<tr class="q (\w+)" id="([^"]+)">(.*?)</tr>', page, re.S)
    assert [(status, qid) for status, qid, _ in rows] == [("hit", "q-hit"), ("miss", "q-miss"), ("hit", "q-none")]
    hit, miss, unanswerable = (cells for _, _, cells in rows)
    assert hit.count("<mark>11,265</mark>") == 2  # in the answer and in the cited passage
    assert "<mark>" not in miss and ">miss<" in miss
    assert "abstained" in unanswerable
    assert "hits <b>2</b>" in page and "misses <b>1</b>" in page and "abstentions <b>1</b>" in page
    assert not re.search(r"(src|href)=", page)  # self-contained: nothing to fetch


def test_a_gold_evaluation_writes_one_html_row_per_question(seeds_rag: RAG, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]):
    lines = GOLD.read_text(encoding="utf-8").splitlines()
    picked = lines[:3] + [next(line for line in lines if json.loads(line)["type"] == "unanswerable")]
    gold = tmp_path / "tiny-gold.jsonl"
    gold.write_text("\n".join(picked) + "\n", encoding="utf-8")
    reports = tmp_path / "reports"
    assert main(["eval", str(gold), "--index-dir", str(seeds_rag.index_dir), "--out", str(reports)]) == 0
    page = (reports / "tiny-gold.html").read_text(encoding="utf-8")
    result = json.loads((reports / "tiny-gold.json").read_text(encoding="utf-8"))
    assert len(re.findall(r'<tr class="q (?:hit|miss)"', page)) == len(picked) == len(result["rows"])
    for line, row in zip(picked, result["rows"], strict=True):
        item = json.loads(line)
        assert row["question"] == item["question"] and row["gold"] == item["answers"]
        assert len(row["cited"]) == row["citations"] and all(c["text"] and c["title"] for c in row["cited"])
        assert f'id="{item["id"]}"' in page
    assert f"per question: {reports / 'tiny-gold.html'}" in capsys.readouterr().out


def test_the_misses_only_filter_hides_hits_in_chromium(tmp_path: Path):
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium: run `make browser` (apt-get install chromium chromium-driver)")
    sync_api = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "report.html"
    path.write_text(gold_report_html(HAND_MADE, {}, "gold"), encoding="utf-8")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox",
                                                                           "--disable-gpu", "--no-first-run"])
        try:
            page = chromium.new_page()
            outside: list[str] = []
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else (outside.append(route.request.url), route.abort()))
            page.goto(path.as_uri())
            assert page.locator("tr.q:visible").count() == 3
            page.get_by_label("misses only").check()
            assert page.locator("tr.q:visible").count() == 1
            assert page.locator("tr.q:visible").first.get_attribute("id") == "q-miss"
            page.get_by_label("misses only").uncheck()
            assert page.locator("tr.q:visible").count() == 3
            assert outside == []
        finally:
            chromium.close()
