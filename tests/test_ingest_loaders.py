"""Each format and encoding, read from small files the tests write, and the bad-input cases."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import docx
import pytest

from rag.ingest import IngestError, load_documents, load_file

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# A Simplified article (seed 003) and a Traditional one (seed 001), each with its source line.
ANHUI = (
    "安徽省社会工作人才队伍建设步入\"快车道\"\n\n"
    "社会工作人才队伍的健全是社会工作发展的重要保障,也是建设和谐社会的基础之一。记者从近日召开的全省民政工作会议上获悉,"
    "2023年,安徽省社会工作专业人才队伍建设加快\n\n步伐,全省持证社会工作者达到 3.3万人,社工专业人才总量超 过13万人。\n\n"
    "(据《安徽日报》)\n"
)
ANHUI_BODY = (
    "社会工作人才队伍的健全是社会工作发展的重要保障,也是建设和谐社会的基础之一。记者从近日召开的全省民政工作会议上获悉,"
    "2023年,安徽省社会工作专业人才队伍建设加快步伐,全省持证社会工作者达到3.3万人,社工专业人才总量超过13万人。\n\n"
    "(据《安徽日报》)"
)
FUJIAN_TRAD = (
    "福建:推動社會工作助力鄉村振興\n\n"
    "近日,由福建省民政廳主辦的全省社會工作助力鄉村振興高級研修班和社會工作督導人才培訓班開班儀式在泉州市惠安縣舉行,"
    "旨在通過系統培訓,提升社會工作專業人才的服務能力和督導水平。\n\n(據東南網)\n"
)


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# --- plain text and encodings ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "text"),
    [("utf-8", ANHUI), ("utf-8-sig", ANHUI), ("gb18030", ANHUI), ("gbk", ANHUI), ("big5", FUJIAN_TRAD),
     ("utf-16", ANHUI)],
)
def test_text_encodings_are_detected_from_the_bytes(tmp_path, encoding, text):
    path = _write(tmp_path, "article.txt", text.encode(encoding))
    [doc] = load_file(path)
    reference = load_file(_write(tmp_path, "reference.txt", text))[0]
    assert (doc.title, doc.text, doc.source, doc.lang) == (
        reference.title, reference.text, reference.source, reference.lang
    )
    assert doc.original == text.strip()


def test_plain_text_article_is_cleaned_and_keeps_its_original(tmp_path):
    [doc] = load_file(_write(tmp_path, "anhui.txt", ANHUI))
    assert doc.id == "anhui#1"
    assert doc.title == "安徽省社会工作人才队伍建设步入\"快车道\""
    assert doc.text == ANHUI_BODY
    assert doc.source == "安徽日报"
    assert doc.lang == "zh-hans"
    assert doc.original == ANHUI.strip()
    assert doc.path == str(tmp_path / "anhui.txt")


def test_seed_files_read_the_same_in_gb18030_and_big5(tmp_path):
    for seed, encoding in (("003_2b286ece2c422390.txt", "gb18030"), ("001_b68a85b33c870ddc.txt", "big5")):
        text = (SEEDS / seed).read_text(encoding="utf-8")
        # Big5 has no code for the pinyin letters of seed 001; those become "?" and stay noise-free.
        data = text.encode(encoding, errors="replace") if encoding == "big5" else text.encode(encoding)
        utf8 = [(d.title, d.source) for d in load_file(SEEDS / seed)]
        other = [(d.title, d.source) for d in load_file(_write(tmp_path, seed, data))]
        assert len(other) == len(utf8)
        if encoding == "gb18030":
            assert other == utf8


# --- Markdown ------------------------------------------------------------------------------


def test_markdown_headings_become_titles_of_separate_articles(tmp_path):
    md = (
        "# 社工周报\n\n本周社工新闻汇总,共两篇。\n\n(据中国社会工作联合会)\n\n"
        "## 甘肃庄浪: “三个聚焦”建强社工人才队伍\n\n近年来,甘肃省平凉市庄浪县民政局坚持以人为本。(据庄浪县民政局)\n"
    )
    docs = load_file(_write(tmp_path, "digest.md", md))
    assert [(d.id, d.title, d.source) for d in docs] == [
        ("digest#1", "社工周报", "中国社会工作联合会"),
        ("digest#2", "甘肃庄浪: “三个聚焦”建强社工人才队伍", "庄浪县民政局"),
    ]


# --- HTML ----------------------------------------------------------------------------------

ARTICLE_PARAGRAPHS = [
    "近日,由福建省民政厅主办的全省社会工作助力乡村振兴高级研修班和社会工作督导人才培训班开班仪式在泉州市惠安县举行,"
    "旨在通过系统培训,提升社会工作专业人才的服务能力和督导水平。",
    "本次培训的对象主要是社会工作实务督导和一线社会工作者。记者了解到,本次培训班也是深化促进“闽宁牵手”和“山海协作”"
    "推动社工交流合作的重要举措。",
    "目前,福建省社会工作专业人才超过 8 万人,持证社会工作者 3.8 万人,社工机构近 700 家。",
    "(据东南网)",
]


def _html(charset: str = "utf-8") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS)
    menu = "".join(f'<li><a href="/p{i}">第{i:02d}版:新闻</a></li>' for i in range(1, 9))
    return (
        f'<html><head><meta charset="{charset}"><title>福建: 推动社会工作助力乡村振兴 - 公益时报</title>'
        '<meta name="date" content="2023-02-28"></head><body>'
        '<nav><ul><li><a href="/">首页</a></li><li><a href="/b">版面导航</a></li>'
        '<li><a href="/t">标题导航</a></li></ul></nav>'
        f'<div class="menu"><ul>{menu}</ul></div>'
        f"<article><h1>福建: 推动社会工作助力乡村振兴</h1>{paragraphs}</article>"
        '<aside><ul><li><a href="/x">2023年社会工作主题宣传活动将于3月下旬举行</a></li></ul></aside>'
        '<footer><a href="/prev">上一期</a> <a href="/next">下一期</a> 版权所有</footer></body></html>'
    )


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_html_keeps_the_article_and_drops_menus(tmp_path, encoding):
    path = _write(tmp_path, "page.html", _html(encoding).encode(encoding))
    [doc] = load_file(path)
    assert doc.title == "福建: 推动社会工作助力乡村振兴"
    assert doc.date == "2023-02-28"
    assert doc.source == "东南网"
    assert doc.text.startswith("近日,由福建省民政厅主办的全省社会工作助力乡村振兴高级研修班")
    assert "持证社会工作者3.8万人" in doc.text
    for noise in ("首页", "版面导航", "第01版", "上一期", "版权所有", "3月下旬举行"):
        assert noise not in doc.text


def test_html_without_article_text_is_refused(tmp_path):
    path = _write(tmp_path, "empty.htm", "<html><head><title>x</title></head><body><nav></nav></body></html>")
    with pytest.raises(IngestError, match="no article text"):
        load_file(path)


# --- PDF -----------------------------------------------------------------------------------


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF with a text layer pypdf can read: one Type0 font (Identity-H) whose
    ToUnicode CMap maps each 2-byte code to the same code point, so CJK needs no font file."""
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def "
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def 1 begincodespacerange <0000> <FFFF> "
        b"endcodespacerange 1 beginbfrange <0000> <FFFF> <0000> endbfrange endcmap "
        b"CMapName currentdict /CMap defineresource pop end end"
    )
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: page tree, filled in at the end

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    cid = add(b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /STSong /CIDSystemInfo "
              b"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>")
    to_unicode = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap))
    font = add(b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong /Encoding /Identity-H "
               b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (cid, to_unicode))
    kids = []
    for lines in pages:
        shown = [b"<%s> Tj T*" % line.encode("utf-16-be").hex().encode() for line in lines]
        content = b"\n".join([b"BT /F1 12 Tf 14 TL 50 780 Td", *shown, b"ET"])
        stream = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
        kids.append(add(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                        b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, stream)))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF_PAGES = [
    [
        "安徽省社会工作人才队伍建设步入\"快车道\"",
        "记者从近日召开的全省民政工作会议上获悉,2023年,安徽省社会工作专业人才队伍建设加快",
        "步伐,全省持证社会工作者达到 3.3万人,社工专业人才总量超 过13万人。",
        "- 1 -",
    ],
    ["按照 安徽省 委人才工作小组工作要点\"部 署,安徽省民政厅联合财政、人 社、教育等 13 家省直部门出台实施意见。",
     "(据《安徽日报》)", "- 2 -"],
]


def test_pdf_text_is_read_and_its_line_breaks_repaired(tmp_path):
    [doc] = load_file(_write(tmp_path, "anhui.pdf", make_pdf(PDF_PAGES)))
    assert doc.title == "安徽省社会工作人才队伍建设步入\"快车道\""
    assert doc.text.split("\n\n") == [
        "记者从近日召开的全省民政工作会议上获悉,2023年,安徽省社会工作专业人才队伍建设加快步伐,"
        "全省持证社会工作者达到3.3万人,社工专业人才总量超过13万人。",
        "按照安徽省委人才工作小组工作要点\"部署,安徽省民政厅联合财政、人社、教育等13家省直部门出台实施意见。",
        "(据《安徽日报》)",
    ]
    assert doc.source == "安徽日报"


def test_truncated_pdf_is_reported_with_the_reason(tmp_path):
    data = make_pdf(PDF_PAGES)
    path = _write(tmp_path, "broken.pdf", data[: len(data) // 3])
    with pytest.raises(IngestError) as info:
        load_file(path)
    assert info.value.path == str(path)
    assert "PDF" in info.value.reason


def test_pdf_without_a_text_layer_is_reported(tmp_path):
    with pytest.raises(IngestError, match="no text layer"):
        load_file(_write(tmp_path, "scan.pdf", make_pdf([[]])))


# --- DOCX ----------------------------------------------------------------------------------


def test_docx_headings_paragraphs_and_tables_are_read_in_order(tmp_path):
    document = docx.Document()
    document.add_heading("福建: 推动社会工作助力乡村振兴", level=1)
    document.add_paragraph(ARTICLE_PARAGRAPHS[0])
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("指标", "数量"), ("持证社会工作者", "3.8万人")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("(据东南网)")
    path = tmp_path / "fujian.docx"
    document.save(path)
    [doc] = load_file(path)
    assert doc.title == "福建: 推动社会工作助力乡村振兴"
    assert doc.text.split("\n\n") == [
        ARTICLE_PARAGRAPHS[0], "| 指标 | 数量 |", "| 持证社会工作者 | 3.8万人 |", "(据东南网)"
    ]
    assert doc.source == "东南网"


def test_file_that_is_not_a_word_document_is_reported(tmp_path):
    with pytest.raises(IngestError, match="cannot read .docx"):
        load_file(_write(tmp_path, "fake.docx", b"PK\x03\x04 this is not a zip archive at all"))


# --- JSONL ---------------------------------------------------------------------------------


def test_jsonl_lines_become_documents_and_bad_lines_are_reported_and_skipped(tmp_path, caplog):
    lines = [
        json.dumps({"id": "a1", "title": "福建: 推动社会工作助力乡村振兴", "text": ARTICLE_PARAGRAPHS[0],
                    "date": "2023/2/28", "source": "东南网", "url": "https://example.org/a1"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "a3", "title": "no text"}),
        "",
        json.dumps({"title": "Xiamen", "text": "There are 11,265 certified social workers in Xiamen."}),
    ]
    path = _write(tmp_path, "corpus.jsonl", "\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING, logger="rag.ingest"):
        docs = load_file(path)
    assert [(d.id, d.title, d.date, d.source, d.lang, d.url) for d in docs] == [
        ("a1", "福建: 推动社会工作助力乡村振兴", "2023-02-28", "东南网", "zh-hans", "https://example.org/a1"),
        ("corpus#5", "Xiamen", None, None, "en", None),
    ]
    text = path.read_text(encoding="utf-8")
    assert all(json.loads(text[d.span[0] : d.span[1]])["text"] == d.original for d in docs)
    assert "corpus.jsonl:2" in caplog.text and "corpus.jsonl:3" in caplog.text

    result = load_documents([path])
    assert [e.path for e in result.errors] == [f"{path}:2", f"{path}:3"]
    assert "text" in result.errors[1].reason
    assert len(result.documents) == 2


def test_jsonl_is_streamed_and_utf8_bom_is_accepted(tmp_path, monkeypatch):
    line = json.dumps({"id": "x", "title": "t", "text": ANHUI_BODY}, ensure_ascii=False)
    path = _write(tmp_path, "bom.jsonl", b"\xef\xbb\xbf" + (line + "\n").encode("utf-8") * 3)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("a .jsonl file was read whole"))
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: pytest.fail("a .jsonl file was read whole"))
    docs = load_file(path)
    assert [d.id for d in docs] == ["x", "x", "x"]
    assert docs[0].text == ANHUI_BODY


# --- bad input -----------------------------------------------------------------------------


def test_binary_file_is_reported_by_name(tmp_path):
    path = _write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(IngestError) as info:
        load_file(path)
    assert str(info.value) == f"{path}: binary file (NUL bytes), not text"


def test_unknown_encoding_is_reported(tmp_path):
    rng = random.Random(1)
    path = _write(tmp_path, "noise.txt", bytes(rng.randrange(1, 256) for _ in range(3000)))
    with pytest.raises(IngestError, match="encoding"):
        load_file(path)


def test_empty_and_blank_files_are_reported(tmp_path):
    with pytest.raises(IngestError, match="empty file"):
        load_file(_write(tmp_path, "empty.md", b""))
    with pytest.raises(IngestError, match="no text"):
        load_file(_write(tmp_path, "blank.txt", "  \n\n \n"))


@pytest.mark.parametrize("name", ["huge.txt", "huge.jsonl", "huge.pdf"])
def test_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch, name):
    path = tmp_path / name
    with path.open("wb") as fh:
        fh.truncate(3 * 1024 * 1024)  # sparse: 3 MB on paper, nothing written
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("an over-limit file was read"))
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: pytest.fail("an over-limit file was opened"))
    with pytest.raises(IngestError) as info:
        load_file(path, max_file_mb=2)
    reason = info.value.reason
    assert "3.0 MB" in reason and "2 MB limit" in reason
    assert "max_file_mb" in reason and "RAG_MAX_FILE_MB" in reason


def test_windows_line_ends_read_like_unix_ones(tmp_path):
    [crlf] = load_file(_write(tmp_path, "crlf.txt", ANHUI.replace("\n", "\r\n")))
    [lf] = load_file(_write(tmp_path, "lf.txt", ANHUI))
    assert (crlf.title, crlf.text, crlf.source) == (lf.title, lf.text, lf.source)


def test_a_small_docx_that_unpacks_to_too_much_text_is_refused(tmp_path):
    from rag.ingest import load_file

    document = docx.Document()
    for _ in range(1000):
        document.add_paragraph("社会工作服务站为居民提供专业服务。" * 20)  # 340k characters in a ~40 KB file
    path = tmp_path / "bomb.docx"
    document.save(path)
    size_mb = path.stat().st_size / 1024 / 1024
    with pytest.raises(IngestError, match="unpacks to"):
        load_file(path, max_file_mb=size_mb * 2)  # the file itself is within the limit
    assert load_file(path, max_file_mb=5)


@pytest.mark.parametrize("menu", [
    "<nav><ul><li><a href=/>首页</a></li><li><a href=/news>新闻中心</a></li></ul></nav>",
    '<div role="navigation">首页 | 新闻中心</div>',
])
def test_a_menu_is_neither_text_nor_title(tmp_path, menu):
    from rag.ingest import load_file

    page = (f"<html><body>{menu}<article><p>厦门市现有持证社工11265人，居全国首位。全市社工站实现全覆盖。</p>"
            "</article></body></html>")
    [doc] = load_file(_write(tmp_path, "page.html", page))
    assert "首页" not in doc.title and "首页" not in doc.text
    assert doc.text.startswith("厦门市现有持证社工11265人")
