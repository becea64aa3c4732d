import pytest

from rag.chunk import ChunkTable, chunk_document, embedding_text, widen
from rag.types import Chunk, Document

SEED_PARAGRAPH = (
    "据统计,目前全县持证社工125人,其中助理社会工作师94人,社会工作师31人。下一步,威宁自治县民政局将继续践行"
    "民政为民、民政爱民\"工作理念,聚焦服务对象需要,凝聚专业社工力量,增强基层服务能力,努力建设一支规范化、"
    "专业化、职业化的社会工作人才队伍助力赋能乡村振兴,用社工声音讲好威宁故事。"
)


def _doc(text: str, lang: str = "zh-hans") -> Document:
    return Document(id="d#1", title="贵州威宁", text=text, lang=lang)


def test_chunks_cover_the_text_with_exact_spans():
    text = "\n\n".join([SEED_PARAGRAPH] * 4)
    chunks = chunk_document(_doc(text), size=200, overlap=40, min_chars=60)
    assert len(chunks) > 2
    for c in chunks:
        assert text[c.span[0]:c.span[1]] == c.text
        assert len(c.text) <= 200 + 60
    assert chunks[0].span[0] == 0 and chunks[-1].span[1] == len(text)


def test_short_tail_is_merged_into_its_neighbour():
    text = SEED_PARAGRAPH + "\n\n(据威宁自治县民政局)"
    chunks = chunk_document(_doc(text), size=len(SEED_PARAGRAPH) + 5, overlap=0, min_chars=40)
    assert len(chunks) == 1
    assert chunks[0].text.endswith("(据威宁自治县民政局)")


def test_numbers_and_latin_words_are_never_cut():
    text = "At present, there are 11,265 certified social workers in Xiamen, and 21.22 per 10,000 people. " * 8
    chunks = chunk_document(_doc(text, "en"), size=120, overlap=20, min_chars=30)
    for c in chunks:
        assert not c.text[0].isalnum() or text[c.span[0] - 1] in " \n" or c.span[0] == 0
        end = c.span[1]
        assert end == len(text) or not (text[end - 1].isalnum() and text[end].isalnum())


def test_embedding_text_folds_traditional_and_adds_title():
    doc = Document(id="d#1", title="福建:推動社會工作", text="持證社會工作者3.8萬人", lang="zh-hant")
    chunk = chunk_document(doc, 300, 50, 10)[0]
    assert embedding_text(chunk, with_title=True) == "福建:推动社会工作\n持证社会工作者3.8万人"


def test_widen_returns_the_paragraph_around_a_hit():
    text = "第一段。\n\n" + SEED_PARAGRAPH + "\n\n最后一段。"
    start = text.index("全县持证社工")
    a, b = widen(text, (start, start + 10), max_chars=600)
    assert text[a:b] == SEED_PARAGRAPH


def test_widen_keeps_to_whole_sentences_when_the_paragraph_is_long():
    text = SEED_PARAGRAPH * 5
    start = text.index("社会工作师31人", 300)
    a, b = widen(text, (start, start + 8), max_chars=150)
    assert b - a <= 150 + 8 and a <= start and b >= start + 8
    assert text[a:b].endswith(("。", "人"))


def test_a_run_without_separators_is_still_bounded():
    for text, lang in (("社工" * 3000, "zh-hans"), (" ".join(["worker"] * 1500), "en")):
        chunks = chunk_document(_doc(text, lang), size=360, overlap=60, min_chars=120)
        assert len(chunks) > 10 and max(len(c.text) for c in chunks) <= 360
        assert "".join(text[a:b] for a, b in (c.span for c in chunks)) == text  # nothing lost, in order
        if lang == "en":
            assert all(c.text.endswith(" ") or c.span[1] == len(text) for c in chunks)  # never inside a word


def test_a_chunk_table_gives_back_the_chunks_it_was_made_of():
    docs = [_doc("第一句话讲社区服务站。" * 40), _doc("An English sentence about volunteers. " * 30, "en")]
    docs[1].id = "b#1"
    chunks = [c for d in docs for c in chunk_document(d, 120, 10, 20)]
    table = ChunkTable.of(chunks, docs)
    assert len(table) == len(chunks) > 4
    assert list(table) == chunks and table[1] == chunks[1] and table[-1] == chunks[-1] and table[2:4] == chunks[2:4]
    assert table.chunk_ids() == [c.id for c in chunks]
    assert [table.documents[row].lang for row in table.doc_rows] == [c.lang for c in chunks]


def test_a_chunk_table_refuses_chunks_not_cut_from_their_document():
    doc = _doc("正文。" * 10)
    stray = Chunk(id="other:0", doc_id=doc.id, text="正文。", span=(0, 3), lang="zh-hans")
    with pytest.raises(ValueError, match="chunk_document"):
        ChunkTable.of([stray], [doc])
