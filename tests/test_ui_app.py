"""The pure functions behind the web UI: answer/card HTML, upload names and limits, filters, tables."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest

from rag.store.base import SearchFilter
from rag.types import Answer, Citation, Document, Passage, StoryCopy
from rag.ui.inputs import (
    MAX_NAME_CHARS,
    UploadRejected,
    build_filter,
    check_upload,
    describe_filter,
    sanitize_filename,
    stage_uploads,
)
from rag.ui.render import (
    anchor_id,
    answer_html,
    citation_card,
    document_rows,
    evidence_html,
    highlight,
    labels_for,
    link_markers,
)

# Real passages from the seeds (000: Southeast Net, 2023-03-22; 004: 福建 article).
XIAMEN = ("Lin Hong, deputy director of the Provincial Department of Civil Affairs, pointed out that "
          "\u201cone child and one old\u201d are the focus of social attention. At present, there are 11,265 "
          "certified social workers in Xiamen, and 21.22 certified social workers per 10,000 people, "
          "ranking first in the country.")
XIAMEN_SUPPORT = "At present, there are 11,265 certified social workers in Xiamen"
FUJIAN_ZH = "目前,福建省社会工作专业人才超过 8 万人,持证社会工作者 3.8 万人,社工机构近 700 家。"


def _citation(n: int = 1, text: str = XIAMEN, support: str = XIAMEN_SUPPORT, **kw: object) -> Citation:
    start = text.index(support)
    fields: dict = dict(
        n=n, text=text, doc_id="a28a2c41f418ff44-0", title="There are 11,265 certified social workers in Xiamen",
        source="Southeast Net", date="2023-03-22", path="/work/main/seeds/000_a28a2c41f418ff44.txt",
        span=(100, 100 + len(text)), score=0.8312, lang="en", support_span=(start, start + len(support)),
    )
    fields.update(kw)
    return Citation(**fields)


def _passage(text: str = FUJIAN_ZH, **kw: object) -> Passage:
    fields: dict = dict(
        chunk_id="97ebb4bc4085e2f5-0:3", doc_id="97ebb4bc4085e2f5-0", text=text, title="福建：推动社会工作助力乡村振兴",
        source="中国社会报", date="2023-03-21", lang="zh-hans", path="seeds/004_97ebb4bc4085e2f5.txt",
        span=(0, len(text)), score=0.41,
    )
    fields.update(kw)
    return Passage(**fields)


# ---- answer and card HTML ---------------------------------------------------------------------


def test_card_marks_exactly_the_supporting_sentence() -> None:
    card = citation_card(_citation(), turn=1, labels=labels_for("en"))
    assert f"<mark>{XIAMEN_SUPPORT}</mark>" in card
    assert card.count("<mark>") == 1
    assert 'id="cite-1-1"' in card
    for shown in ("There are 11,265 certified social workers in Xiamen", "Southeast Net", "2023-03-22",
                  "000_a28a2c41f418ff44.txt", "loose match", 'title="0.83"'):
        assert shown in card
    assert "/work/main/seeds" not in card  # the file name, not the server's directory layout
    assert re.search(r"<details[^>]*><summary>file</summary>000_a28a2c41f418ff44\.txt</details>", card)
    assert "a28a2c41f418ff44-0" not in card  # no document id


def test_card_names_the_other_copies_of_a_story_by_outlet_date_and_title_not_id() -> None:
    copy = StoryCopy(doc_id="001_b68a85b33c870ddc#1", title="福建:推動社會工作助力鄉村振興", source="東南網",
                     date="2023-02-28", lang="zh-hant", date_inferred="")
    undated = StoryCopy(doc_id="004_97ebb4bc4085e2f5#2", title="福建: 推动社会工作助力乡村振兴", source=None,
                        date="2023-02-28", lang="zh-hans", date_inferred="copy")
    card = citation_card(_citation(also_in=[copy.doc_id, undated.doc_id], copies=[copy, undated]), turn=1,
                         labels=labels_for("en"))
    assert "same story also in: 東南網, 2023-02-28, \u201c福建:推動社會工作助力鄉村振興\u201d" in card
    assert "unknown outlet, 2023-02-28 (inferred from a copy of the story)" in card
    assert "#1" not in card and "#2" not in card and "()" not in card


def test_copy_button_holds_the_quote_with_its_reference_in_the_question_language() -> None:
    card = citation_card(_citation(date_inferred="lead"), turn=1, labels=labels_for("zh-hant"))
    lines = re.search(r'<span class="copy-text">(.*?)</span></button>', card).group(1)
    copied = "\n".join(html.unescape(line) for line in re.findall(r'<span class="copy-line">(.*?)</span>', lines))
    assert copied == (f"\u201c{XIAMEN_SUPPORT}\u201d（Southeast Net，2023-03-22（據導語推斷），"
                      "《There are 11,265 certified social workers in Xiamen》）")
    assert "複製引文" in card


def test_card_escapes_article_text_and_metadata() -> None:
    text = 'Before <script>alert("x")</script> & after. The <b>support</b> sentence.'
    citation = _citation(text=text, support="The <b>support</b> sentence.", title="<img src=x onerror=alert(1)>",
                         source='"><svg onload=alert(1)>')
    card = citation_card(citation, turn=2, labels=labels_for("en"))
    assert "<script>" not in card and "<img" not in card and "<svg" not in card and "<b>" not in card
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; after." in card
    assert "<mark>The &lt;b&gt;support&lt;/b&gt; sentence.</mark>" in card


def test_highlight_ignores_empty_or_out_of_range_spans() -> None:
    assert highlight("a<b", (0, 0)) == "a&lt;b"
    assert highlight("abc", (2, 99)) == "ab<mark>c</mark>"
    assert highlight("abc", (5, 9)) == "abc"


def test_answer_markers_link_to_their_cards() -> None:
    first = _citation(1)
    second = _citation(2, text=FUJIAN_ZH, support="持证社会工作者 3.8 万人", title="福建", lang="zh-hans")
    answer = Answer(question="How many certified social workers does Xiamen have?",
                    text="There are 11,265 certified social workers in Xiamen [1]; Fujian has 38,000 [2]. See [7].",
                    citations=[first, second], abstained=False, language="en")
    page = answer_html(answer, turn=3)
    targets = re.findall(r'<a class="cite-marker" href="#([^"]+)"', page)
    assert targets == [anchor_id(3, 1), anchor_id(3, 2)]
    for target in targets:
        assert f'id="{target}"' in page
    assert "See [7]." in page  # a marker without a citation stays plain text
    assert "\n" not in page  # one raw-HTML block: Markdown must not reinterpret article text


def test_link_markers_escapes_answer_text() -> None:
    assert link_markers("a <i>b</i> [1]", 1, [1]) == (
        'a &lt;i&gt;b&lt;/i&gt; <a class="cite-marker" href="#cite-1-1" title="[1]">[1]</a>'
    )


def test_abstention_shows_message_and_nearest_passages_without_support_marks() -> None:
    answer = Answer(question="厦门有多少只熊猫？", text="索引中没有足够的证据回答这个问题。", citations=[],
                    abstained=True, language="zh-hans",
                    passages=[_passage(), _passage(text="第二段 <x>", title="第二篇")])
    page = answer_html(answer, turn=1)
    assert "索引中没有足够的证据回答这个问题。" in page
    assert "最相近的段落" in page
    assert page.count('class="cite-card passage-card"') == 2
    assert "<mark>" not in page and "cite-marker" not in page
    assert "第二段 &lt;x&gt;" in page
    assert "中国社会报" in page


def test_evidence_panel_shows_the_rewritten_query_only_when_there_is_one() -> None:
    answer = Answer(question="那福建呢？", text="福建省持证社会工作者3.8万人[1]。", citations=[_citation()],
                    abstained=False, language="zh-hans", rewritten_question="福建有多少持证社会工作者？",
                    passages=[_passage()], timings={"retrieve": 0.12, "total": 0.2}, notes=["<note>"])
    panel = evidence_html(answer, mode="hybrid", k=5, filter_summary="languages: zh-hans")
    assert "福建有多少持证社会工作者？" in panel and "独立问题" in panel
    assert "retrieve 0.12 s" in panel and "hybrid" in panel and "languages: zh-hans" in panel
    assert "&lt;note&gt;" in panel and "<note>" not in panel
    details = panel[panel.index("<details"):]  # developer numbers behind the toggle, passages before it
    assert "retrieve 0.12 s" in details and "中国社会报" not in details and "中国社会报" in panel
    answer.rewritten_question = None
    assert "独立问题" not in evidence_html(answer, mode="dense", k=5, filter_summary="")
    answer.language = "en"
    assert "Nearest passages" in evidence_html(answer, mode="dense", k=5, filter_summary="")


def test_labels_follow_the_question_language_in_both_scripts() -> None:
    assert labels_for("zh-hans").sources == "来源" and labels_for("zh-hant").sources == "來源"
    assert labels_for("en").sources == "Sources"
    assert labels_for("zh-hant").strength == ("高度相關", "部分相關", "弱相關")


def test_document_rows_name_the_original_of_a_duplicate() -> None:
    original = Document(id="b68a85b33c870ddc-1", title="福建:推動社會工作助力鄉村振興", text="…", date="2023-03-21",
                        source="公益時報", lang="zh-hant", path="seeds/001_b68a85b33c870ddc.txt")
    copy = Document(id="97ebb4bc4085e2f5-0", title="福建:推动社会工作助力乡村振兴", text="…", lang="zh-hans",
                    path="seeds/004_97ebb4bc4085e2f5.txt", duplicate_of=original.id)
    rows = document_rows([original, copy])
    assert rows[0] == ["b68a85b33c870ddc-1", "福建:推動社會工作助力鄉村振興", "2023-03-21", "公益時報", "繁體中文",
                       "001_b68a85b33c870ddc.txt", ""]
    assert rows[1][-1] == "福建:推動社會工作助力鄉村振興 (b68a85b33c870ddc-1)"
    assert rows[1][2:5] == ["", "", "简体中文"]


# ---- upload names and limits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("/abs/path/厦门 社工.txt", "厦门 社工.txt"),
        ("C:report.pdf", "C_report.pdf"),
        (".bashrc", "bashrc"),
        ("..", "upload"),
        ("", "upload"),
        ("<script>alert(1)</script>.html", "script_.html"),  # everything before the "/" reads as a folder
        ("a\x00b\nc.md", "abc.md"),
        ("ｆｕｌｌ　ｗｉｄｔｈ．ｔｘｔ", "full width.txt"),
        ("$(rm -rf ~);x.jsonl", "_rm -rf _x.jsonl"),
    ],
)
def test_sanitize_filename(raw: str, safe: str) -> None:
    assert sanitize_filename(raw) == safe


def test_sanitize_filename_bounds_length_and_keeps_the_extension() -> None:
    name = sanitize_filename("社" * 500 + ".docx")
    assert len(name) <= MAX_NAME_CHARS and name.endswith(".docx") and name.startswith("社")


def test_upload_over_the_limit_or_of_another_type_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    with pytest.raises(UploadRejected, match="over the 1 MB upload limit"):
        check_upload(big, max_mb=1)
    check_upload(big, max_mb=2.5)
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(UploadRejected, match="unsupported file type '.exe'"):
        check_upload(exe, max_mb=10)


def test_stage_uploads_copies_good_files_under_safe_unique_names_and_reports_the_rest(tmp_path: Path) -> None:
    src_a, src_b = tmp_path / "a", tmp_path / "b"
    src_a.mkdir()
    src_b.mkdir()
    (src_a / "厦门社工.txt").write_text(XIAMEN, encoding="utf-8")
    (src_b / "厦门社工.txt").write_text(FUJIAN_ZH, encoding="utf-8")
    (src_a / "huge.md").write_bytes(b"#" * (3 * 1024 * 1024))
    (src_a / "notes.exe").write_bytes(b"MZ")
    dest = tmp_path / "staged"
    dest.mkdir()
    uploads = [src_a / "厦门社工.txt", src_b / "厦门社工.txt", src_a / "huge.md", src_a / "notes.exe",
               src_a / "gone.txt"]
    staged = stage_uploads(uploads, dest, max_mb=1)
    assert [p.name for p in staged.files] == ["厦门社工.txt", "厦门社工 (2).txt"]
    assert all(p.parent == dest for p in staged.files)
    assert sorted(os.listdir(dest)) == sorted(p.name for p in staged.files)
    assert staged.files[1].read_text(encoding="utf-8") == FUJIAN_ZH
    assert [r.split(":")[0] for r in staged.rejected] == ["huge.md", "notes.exe", "gone.txt"]
    assert "upload limit" in staged.rejected[0] and "not a readable file" in staged.rejected[2]


# ---- filters ----------------------------------------------------------------------------------


def test_empty_settings_mean_no_filter() -> None:
    assert build_filter([], [], "", "  ") is None
    assert build_filter(None, ["en", "zh-hans", "zh-hant"], None, None) is None  # every language ticked


def test_filter_from_settings_panel() -> None:
    f = build_filter(["Southeast Net", ""], ["zh-hans", "zh-hant"], " 2023 ", "2023-03")
    assert f == SearchFilter(langs=("zh-hans", "zh-hant"), sources=("Southeast Net",), date_from="2023",
                             date_to="2023-03")
    assert describe_filter(f) == "outlets: Southeast Net; languages: zh-hans, zh-hant; dates: 2023 .. 2023-03"
    assert describe_filter(None) == ""


@pytest.mark.parametrize(("date_from", "date_to", "message"), [
    ("22/03/2023", "", "From date '22/03/2023' is not understood"),
    ("", "2023-3-1", "To date '2023-3-1' is not understood"),
    ("2024-01-01", "2023", "is empty"),
])
def test_bad_dates_are_refused_with_what_to_type(date_from: str, date_to: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_filter([], [], date_from, date_to)
