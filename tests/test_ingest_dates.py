"""Dates for undated articles: from their lead, a dated copy of the story, or a dated page listing their headline;
a stated date always wins, and every inferred date says where it came from."""

from __future__ import annotations

from pathlib import Path

from rag.ingest import load_documents, mark_stories
from rag.ingest.dates import infer_dates, lead_date
from rag.types import Document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
STORY = ("近日,由福建省民政厅主办的全省社会工作助力乡村振兴高级研修班和社会工作督导人才培训班"
         "开班仪式在泉州市惠安县举行,旨在通过系统培训,提升社会工作专业人才的服务能力和督导水平,进一步发挥社会工作力量的专业作用。"
         "本次培训的对象主要是社会工作实务督导和一线社会工作者。")
OTHER = ("社会工作人才队伍的健全是社会工作发展的重要保障,也是建设和谐社会的基础之一。"
         "记者从近日召开的全省民政工作会议上获悉,全省持证社会工作者达到3.3万人,社工专业人才总量超过13万人。")


def test_a_full_date_at_the_start_of_the_lead_dates_the_article() -> None:
    assert lead_date("2024年5月16日，市民政局召开会议。\n\n第二段 2020年1月1日。") == "2024-05-16"
    assert lead_date("BEIJING, May 16, 2024 (Xinhua) -- The ministry said...") == "2024-05-16"
    assert lead_date("本报讯 5月16日，市民政局召开会议。") is None  # no year: no date
    assert lead_date("市民政局召开会议。\n\n2024年5月16日，第二段。") is None  # only the first paragraph
    assert lead_date("会" * 200 + "2024年5月16日") is None  # a date deep in the lead is an event's


def test_an_upload_whose_lead_states_a_date_gets_it_marked_inferred(tmp_path: Path) -> None:
    (tmp_path / "upload.txt").write_text("社区服务站启用\n\n2024年5月16日,某市社区服务站正式启用,社工驻站服务。\n",
                                         encoding="utf-8")
    [doc] = load_documents([tmp_path]).documents
    assert (doc.date, doc.date_inferred) == ("2024-05-16", "lead")


def test_a_stated_date_wins_over_the_lead() -> None:
    doc = Document(id="a", title="t", text="2024年5月16日,会议召开。", date="2024-05-20")
    infer_dates([doc])
    assert (doc.date, doc.date_inferred) == ("2024-05-20", "")


def test_a_copy_of_a_dated_story_gets_its_date_until_the_dated_copy_is_gone() -> None:
    dated = Document(id="trad#1", title="福建", text=STORY, date="2023-02-28", lang="zh-hant")
    copy = Document(id="simp#1", title="福建", text=STORY.replace("。", "。\n\n"))
    other = Document(id="other#1", title="安徽", text=OTHER)
    mark_stories([dated, copy, other])
    assert copy.duplicate_of == "trad#1" and (copy.date, copy.date_inferred) == ("2023-02-28", "copy")
    assert other.date is None
    mark_stories([copy, other])  # the dated copy was removed
    assert copy.date is None and copy.date_inferred == ""


def test_a_dated_page_listing_a_headline_dates_that_article_elsewhere() -> None:
    page = Document(id="page#1", title="头版", text="正文。", date="2023-02-28", path="page.html",
                    page_headlines=["安徽省社会工作人才队伍建设步入快车道", "新闻"])
    listed = Document(id="pdf#1", title="“聚焦”——安徽省社会工作人才队伍建设步入“快车道”", text=OTHER, path="p.pdf")
    unlisted = Document(id="pdf#2", title="新闻", text=STORY, path="p.pdf")  # a section name is no headline
    infer_dates([page, listed, unlisted])
    assert (listed.date, listed.date_inferred) == ("2023-02-28", "listing")
    assert unlisted.date is None


def test_two_pages_of_different_days_listing_one_title_leave_it_undated() -> None:
    pages = [Document(id=f"p{n}", title="页", text="正文。", date=day, path=f"p{n}.html",
                      page_headlines=["安徽省社会工作人才队伍建设步入快车道"])
             for n, day in enumerate(("2023-02-28", "2023-03-07"))]
    article = Document(id="a", title="安徽省社会工作人才队伍建设步入快车道", text=OTHER, path="a.pdf")
    infer_dates([*pages, article])
    assert article.date is None


def test_seed_articles_dated_by_the_text_their_copies_and_listings() -> None:
    docs = load_documents([SEEDS]).documents
    by_id = {d.id: d for d in docs}
    stated = [d for d in docs if d.date and not d.date_inferred]
    assert len(stated) == 2
    for doc in docs:  # every copy of a story with a stated date carries that date
        original = by_id.get(doc.duplicate_of or "")
        if original is not None and original.date and not original.date_inferred:
            assert doc.date == original.date and doc.date_inferred == "copy"
    listing_dates = {d.date for d in stated if d.page_headlines}
    for doc in docs:  # a date from a listing is the listing page's
        if doc.date_inferred == "listing":
            assert doc.date in listing_dates
    assert sum(d.date is not None for d in docs) >= 4


class _Watched(Document):
    """Records every change of its date or story mark."""

    changes: list[tuple[str, str, object]] = []

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("date", "duplicate_of") and getattr(self, name, value) != value:
            _Watched.changes.append((self.id, name, value))
        super().__setattr__(name, value)


def test_an_update_never_shows_a_dated_copy_undated_on_the_way() -> None:
    dated = _Watched(id="trad#1", title="福建", text=STORY, date="2023-02-28", lang="zh-hant")
    copy = _Watched(id="simp#1", title="福建", text=STORY.replace("。", "。\n\n"))
    other = _Watched(id="other#1", title="安徽", text=OTHER)
    judged = mark_stories([dated, copy, other])
    assert (copy.duplicate_of, copy.date, copy.date_inferred) == ("trad#1", "2023-02-28", "copy")
    _Watched.changes.clear()
    mark_stories([dated, copy, other, _Watched(id="new#1", title="新", text=OTHER + "另一段。")], judged=judged)
    assert [c for c in _Watched.changes if c[0] != "new#1"] == []  # searches reading them meanwhile saw no change
