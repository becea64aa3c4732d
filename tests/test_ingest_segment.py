"""Segmentation of the seed corpus into its 13 articles, and the rules behind it on small texts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.ingest import load_documents
from rag.ingest.segment import segment

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# id, title, date stated in the file, source, lang
EXPECTED = [
    ("000_a28a2c41f418ff44#1",
     "There are 11,265 certified social workers in Xiamen — "
     "Fujian Province’s 2023 social work theme publicity campaign launched in Xiamen",
     "2023-03-22", "Southeast Net", "en"),
    ("001_b68a85b33c870ddc#1", "福建:推動社會工作助力鄉村振興", "2023-02-28", "東南網", "zh-hant"),
    ("002_d62f986f0cf1fb0a#1", "香港“万千社工看祖国”内地考察交流首站活动在潮州启动", None,
     "潮州日报、中国社会工作联合会", "zh-hans"),
    ("002_d62f986f0cf1fb0a#2", "甘肃庄浪: “三个聚焦”建强社工人才队伍", None, "庄浪县民政局", "zh-hans"),
    ("002_d62f986f0cf1fb0a#3", "平均年龄不超过30岁 浙江平阳成立“新生代”专职社工队伍", None, "人民网", "zh-hans"),
    ("002_d62f986f0cf1fb0a#4", "四川广元朝天区: 汇聚社工力量 托起幸福“夕阳红”", None, "金台资讯", "zh-hans"),
    ("003_2b286ece2c422390#1", "安徽省社会工作人才队伍建设步入\"快车道\"", None, "安徽日报", "zh-hans"),
    ("003_2b286ece2c422390#2", "河南漯河: 困难群体咋过冬 社工敲门在行动", None, "河南日报", "zh-hans"),
    ("003_2b286ece2c422390#3", "浙江德清: 五社联动打造现代社区", None, "湖州日报", "zh-hans"),
    ("003_2b286ece2c422390#4", "贵州威宁: \"四个强化\"助力社会工作发展 和社工人才培养", None, "威宁自治县民政局",
     "zh-hans"),
    ("004_97ebb4bc4085e2f5#1", "“推进‘五社联动’ 关爱‘一小一老’”——2023年社会工作主题宣传活动将于3月下旬举行",
     None, None, "zh-hans"),
    ("004_97ebb4bc4085e2f5#2", "福建: 推动社会工作助力乡村振兴", None, "东南网", "zh-hans"),
    ("004_97ebb4bc4085e2f5#3",
     "中国社会工作联合会妇女与婚姻家庭工作委员会更名换届大会暨“凝聚社会力量建设幸福家庭”主题交流会召开",
     None, "中国社会工作联合会", "zh-hans"),
]


@pytest.fixture(scope="module")
def seed_docs():
    result = load_documents([SEEDS])
    assert result.errors == []
    return result.documents


def test_seeds_give_thirteen_articles_with_titles_dates_sources_and_languages(seed_docs):
    stated = [None if d.date_inferred else d.date for d in seed_docs]  # inferred dates: tests/test_ingest_dates.py
    got = [(d.id, d.title, date, d.source, d.lang) for d, date in zip(seed_docs, stated, strict=True)]
    assert got == EXPECTED


def test_fujian_article_in_simplified_is_marked_a_duplicate_of_the_traditional_one(seed_docs):
    marked = {d.id: d.duplicate_of for d in seed_docs if d.duplicate_of}
    assert marked == {"004_97ebb4bc4085e2f5#2": "001_b68a85b33c870ddc#1"}


def test_original_is_the_span_of_the_decoded_file_and_starts_with_the_title_line(seed_docs):
    for doc in seed_docs:
        text = Path(doc.path).read_text(encoding="utf-8")
        start, end = doc.span
        assert doc.original == text[start:end]
        assert doc.original == doc.original.strip()
        first_line = doc.original.split("\n", 1)[0]
        assert first_line.lstrip("# ").startswith(doc.title[:2]) or first_line.lstrip().startswith("date")


def test_spans_of_one_file_do_not_overlap(seed_docs):
    by_path: dict[str, list[tuple[int, int]]] = {}
    for doc in seed_docs:
        by_path.setdefault(doc.path, []).append(doc.span)
    for spans in by_path.values():
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_fujian_body_starts_at_the_article_and_keeps_its_source_line(seed_docs):
    doc = next(d for d in seed_docs if d.id == "001_b68a85b33c870ddc#1")
    assert doc.text.startswith("近日,由福建省民政廳主辦的全省社會工作助力鄉村振興高級研修班")
    assert doc.text.endswith("(據東南網)")


def test_no_annotation_navigation_line_or_space_between_chinese_characters_survives(seed_docs):
    han = "\u3400-\u4dbf\u4e00-\u9fff"
    for doc in seed_docs:
        assert not re.search(r"\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)", doc.text), doc.id
        assert not re.search(rf"[{han}][ \t\u3000\u00a0]+[{han}]", doc.text), doc.id
        for line in doc.text.split("\n"):
            assert not re.search(r"版面[導导]航|版面目[錄录]|上一期|下一期|^第\d+版|首[頁页] \|", line), (doc.id, line)


def test_captions_are_kept_as_their_own_paragraph(seed_docs):
    paragraphs = {p for d in seed_docs for p in d.text.split("\n\n")}
    assert "“香港万千社工看祖国——‘心连心’交流团”启动礼(图片来源:中国社会工作联合会)" in paragraphs
    assert "在漯河市源汇区大刘镇的一处儿童之家,民政社工带领村里的留守儿童开展交通安全教育等活动(王向前/摄)" in (
        paragraphs
    )


def test_sentence_broken_around_a_caption_is_rejoined(seed_docs):
    doc = next(d for d in seed_docs if d.id == "003_2b286ece2c422390#2")
    assert "源汇区干河陈街道特殊困难老人王大爷向社工反映" in doc.text


def test_digits_of_dates_and_counts_are_kept_exactly(seed_docs):
    doc = next(d for d in seed_docs if d.id == "004_97ebb4bc4085e2f5#1")
    assert "活动时间为2023年3月21日至31日" in doc.text
    assert "公共场所 LED 显示屏" in doc.text
    assert "11,265 certified social workers" in seed_docs[0].text


# --- the rules, on texts that are not the seeds --------------------------------------------------


def test_source_trailer_then_short_line_opens_a_new_article():
    text = (
        "民政局召开会议\n\n会议指出,要加强社会工作人才队伍建设,提升专业服务水平。\n\n(据《人民日报》)\n\n"
        "社工站建设全覆盖\n\n全省社工站实现全覆盖,服务群众超过十万人次。"
    )
    articles = segment(text)
    assert [(a.title, a.source) for a in articles] == [("民政局召开会议", "人民日报"), ("社工站建设全覆盖", None)]
    assert text[articles[1].span[0] : articles[1].span[1]].startswith("社工站建设全覆盖")


def test_place_headline_after_a_finished_sentence_opens_a_new_article_without_a_trailer():
    text = (
        "会议部署全年工作\n\n会议强调,要强化组织领导,统筹部署社会工作宣传与服务实践。\n\n"
        "广东: 社工站覆盖所有乡镇\n\n广东省实现乡镇社工站全覆盖,服务困难群众。"
    )
    assert [a.title for a in segment(text)] == ["会议部署全年工作", "广东: 社工站覆盖所有乡镇"]


def test_short_subheading_without_trailer_stays_in_the_article():
    text = (
        "Xiamen launches campaign\n\nThe campaign started yesterday in Xiamen, officials said.\n\n"
        "Awarded a batch of talent bases\n\nAt the ceremony, leaders awarded the third batch."
    )
    articles = segment(text)
    assert len(articles) == 1
    assert "Awarded a batch of talent bases" in articles[0].body


def test_markdown_subsections_stay_in_their_article_and_sibling_headings_split():
    nested = "# 社工周报\n\n本周社工新闻汇总。\n\n## 厦门\n\n厦门持证社工一万余人。\n\n## 福州\n\n福州新建社工站。"
    assert [a.title for a in segment(nested)] == ["社工周报"]
    siblings = "## 厦门社工\n\n厦门持证社工一万余人。\n\n## 福州社工\n\n福州新建社工站。"
    assert [a.title for a in segment(siblings)] == ["厦门社工", "福州社工"]


def test_page_header_date_dates_the_articles_and_page_chrome_is_no_article():
    header = "首页 | 版面导航\n第01版:头版\n2023年02月28日 星期二上一期下一期\n社工站建设全覆盖\n\n"
    text = header + "全省社工站实现全覆盖,服务群众超过十万人次。" * 3
    articles = segment(text)
    assert [(a.title, a.date) for a in articles] == [("社工站建设全覆盖", "2023-02-28")]


def test_text_without_a_title_line_has_no_title_and_keeps_its_body():
    text = "全省社工站实现全覆盖,服务群众超过十万人次。目前持证社工三万人。"
    articles = segment(text)
    assert len(articles) == 1 and articles[0].title == "" and articles[0].body == text


LINES = st.sampled_from([
    "", "# 社工周报", "## 厦门社工", "福建: 推动社会工作助力乡村振兴", "河南漯河:", "(据《河南日报》)",
    "首頁 | 版面導航 | 標題導航", "第01版:頭版", "2023年02月28日 星期二上一期下一期",
    " date 2023-03-22 Xiamen social workers", "■ 本报记者 皮磊", "全省社工站实现全覆盖,服务群众超过十万人次。",
    "社会工作专业人才队伍建设加快", "(王向前/摄)", "步伐,全省持证社工3.3万人。",
])


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(max_size=200), st.lists(LINES, max_size=25).map("\n".join)))
def test_segment_never_raises_and_spans_are_ordered_slices_of_the_text(text):
    end = 0
    for article in segment(text):
        start, stop = article.span
        assert end <= start < stop <= len(text)
        assert text[start:stop].strip() == text[start:stop]
        assert article.body in text[start:stop]
        end = stop
