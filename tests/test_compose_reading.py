"""rag.compose.reading: how the reader's spans become an answer (the sentence around each span, quoted with its
citation; the span as short_answer; framing across languages; abstention), with a reader that returns given spans,
then end to end on the seeds with the shipped reader."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pytest

from rag.compose.reading import ReaderComposer, question_parts
from rag.reader import Span
from rag.types import Answer, Passage

WEINING = "威宁县社会工作发展迅速。据统计,目前全县持证社工125人,其中助理社会工作师94人。全县建成社工站35个。"
XIAMEN = "At present, there are 11,265 certified social workers in Xiamen. The city funds 1,262 projects."


def passage(text: str, doc_id: str, lang: str, source: str) -> Passage:
    return Passage(chunk_id=f"{doc_id}:0", doc_id=doc_id, text=text, title=doc_id, source=source, date=None,
                   lang=lang, path=f"{doc_id}.txt", span=(0, len(text)), score=1.0)


PASSAGES = [passage(WEINING, "weining", "zh-hans", "威宁自治县民政局"), passage(XIAMEN, "xiamen", "en", "Xiamen Daily")]


@dataclass
class GivenSpans:
    """Returns the spans named by (text, score), wherever the contexts it is given hold them; records what it read."""

    wanted: list[tuple[str, float]]
    by_question: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # instead of `wanted`

    def __post_init__(self) -> None:
        self.reads: list[list[str]] = []

    def read(self, question: str, contexts: list[str], k: int = 1, floor: float = 0.0,
             translate: bool = True) -> list[Span]:
        self.reads.append(contexts)
        spans = [Span(text, i, c.index(text), c.index(text) + len(text), score)
                 for text, score in self.by_question.get(question, self.wanted) for i, c in enumerate(contexts)
                 if text in c]
        return [s for s in sorted(spans, key=lambda s: -s.score) if s.score >= floor][:k]


class NearestHas:
    """An embedder under which the sentences holding `word` are nearest every question."""

    def __init__(self, word: str) -> None:
        self.word = word

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0]] * len(texts))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] if self.word in t else [0.0, 1.0] for t in texts])


@dataclass
class Fixed:
    """A fallback composer that always gives `answer`."""

    answer: Answer

    def compose(self, question: str, passages: list[Passage], language: str, query_vector=None) -> Answer:  # noqa: ANN001
        return self.answer


def fallback_answer(abstained: bool) -> Fixed:
    return Fixed(Answer(question="q", text="fallback", citations=[], abstained=abstained, language="zh-hans"))


def test_the_sentence_around_the_span_is_quoted_verbatim_and_the_span_is_the_short_answer():
    composer = ReaderComposer(GivenSpans([("125人", 3.0)]))  # type: ignore[arg-type]
    answer = composer.compose("威宁县有多少持证社工？", PASSAGES, "zh-hans")
    assert not answer.abstained and answer.short_answer == "125人"
    assert answer.text == "据统计,目前全县持证社工125人,其中助理社会工作师94人。[1]"
    [citation] = answer.citations
    assert citation.doc_id == "weining" and WEINING[slice(*citation.support_span)].startswith("据统计")


def test_the_sentence_nearest_the_question_is_quoted_second_but_never_the_answer_sentence_twice():
    spans = GivenSpans([("125人", 3.0)])
    answer = ReaderComposer(spans, NearestHas("社工站")).compose(  # type: ignore[arg-type]
        "持证社工多少人？建成多少社工站？", PASSAGES, "zh-hans")
    assert answer.text == "据统计,目前全县持证社工125人,其中助理社会工作师94人。[1]全县建成社工站35个。[1]"
    answer = ReaderComposer(spans, NearestHas("125")).compose(  # type: ignore[arg-type]
        "持证社工多少人？", PASSAGES, "zh-hans")
    assert answer.text.count("125人") == 1 and answer.text.count("[") == 2


def test_an_answer_in_another_language_is_framed_with_the_span():
    composer = ReaderComposer(GivenSpans([("11,265", 2.5)]))  # type: ignore[arg-type]
    answer = composer.compose("厦门有多少持证社工？", PASSAGES, "zh-hans")
    assert answer.short_answer == "11,265" and answer.citations[0].doc_id == "xiamen"
    assert answer.text.startswith("据[1](英文来源, Xiamen Daily):") and answer.text.endswith("答案:11,265。")


def test_across_languages_the_sentences_nearest_the_question_are_quoted_beside_the_readers():
    answer = ReaderComposer(GivenSpans([("11,265", 2.5)]), NearestHas("1,262")).compose(  # type: ignore[arg-type]
        "厦门有多少持证社工？", PASSAGES, "zh-hans")
    assert answer.text.count("[") == 3  # the reader's sentence, then max_sentences (2) nearest the question
    assert answer.text.index("11,265 certified") < answer.text.index("1,262 projects") < answer.text.index("威宁")
    assert answer.short_answer == "11,265"


def test_no_span_is_an_abstention_with_the_nearest_passages():
    answer = ReaderComposer(GivenSpans([])).compose("上海有多少社工？", PASSAGES, "zh-hans")  # type: ignore[arg-type]
    assert answer.abstained and not answer.citations and answer.short_answer == ""
    assert answer.passages == PASSAGES and answer.notes


def test_below_the_threshold_in_the_question_language_the_fallback_answers_with_a_note():
    composer = ReaderComposer(GivenSpans([("125人", -1.0)]), fallback=fallback_answer(False))  # type: ignore[arg-type]
    answer = composer.compose("威宁县有多少持证社工？", PASSAGES, "zh-hans")
    assert answer.text == "fallback" and "reader found no answer" in answer.notes[0]


@pytest.mark.parametrize("fallback_abstains", [False, True])
def test_below_the_threshold_across_languages_the_fallback_decides_and_the_reader_span_is_quoted(
        fallback_abstains: bool):
    composer = ReaderComposer(GivenSpans([("11,265", -1.0)]),  # type: ignore[arg-type]
                              fallback=fallback_answer(fallback_abstains))
    answer = composer.compose("厦门有多少持证社工？", PASSAGES, "zh-hans")
    if fallback_abstains:
        assert answer.abstained and answer.text == "fallback"
    else:
        assert not answer.abstained and answer.short_answer == "11,265" and answer.text.endswith("答案:11,265。")


@pytest.mark.parametrize(("question", "answer"), [
    ("威宁县有多少持证社工？", "125"),
    ("How many certified social workers does Fujian have?", "38,000"),
])
def test_the_shipped_reader_answers_on_the_seeds(seeds_rag, question: str, answer: str):
    from rag.compose import create_composer
    from rag.settings import Settings

    settings = Settings(composer="reader", max_answer_sentences=2, abstain_threshold=0.5, abstain_threshold_cross=0.5,
                        compose_max_passages=5, compose_max_sentences=8, reader_passages=5, reader_min_retrieval=0.0)
    composer = create_composer(settings, seeds_rag.embedder)
    result = seeds_rag.retrieve(question, 5, None, None)
    composed = composer.compose(question, result.passages, "en" if question.isascii() else "zh-hans")
    assert answer in composed.short_answer and answer in composed.text and composed.citations


FUJIAN = "目前,福建省持证社会工作者3.8万人,社工机构近700家。"


def test_the_language_of_the_best_ranked_story_is_read_first():
    """The English story ranks first: its span, though below the reader's threshold (as spans across languages
    are), answers when the fallback finds an answer, before a confident span in a Chinese story ranked lower."""
    spans = GivenSpans([("11,265", -2.0), ("3.8万人", 4.0)])
    passages = [PASSAGES[1], passage(FUJIAN, "fujian", "zh-hans", "东南网")]
    answer = ReaderComposer(spans, fallback=fallback_answer(False)).compose(  # type: ignore[arg-type]
        "持证社工有多少？", passages, "zh-hans")
    assert answer.short_answer == "11,265" and spans.reads == [[XIAMEN]]
    answer = ReaderComposer(spans, fallback=fallback_answer(False)).compose(  # type: ignore[arg-type]
        "持证社工有多少？", passages[::-1], "zh-hans")
    assert answer.short_answer == "3.8万人"


def test_stories_naming_the_place_asked_about_are_read_first():
    """Asked about Xiamen, the reader's confident span in a story on Fujian as a whole does not answer before the
    one in the story that names Xiamen, in whichever language or rank."""
    spans = GivenSpans([("11,265", -2.0), ("3.8万人", 4.0)])
    passages = [passage(FUJIAN, "fujian", "zh-hans", "东南网"), PASSAGES[1]]
    answer = ReaderComposer(spans, fallback=fallback_answer(False)).compose(  # type: ignore[arg-type]
        "厦门有多少持证社工？", passages, "zh-hans")
    assert answer.short_answer == "11,265" and spans.reads[0] == [XIAMEN]
    answer = ReaderComposer(spans, fallback=fallback_answer(True)).compose(  # type: ignore[arg-type]
        "厦门有多少持证社工？", passages, "zh-hans")
    assert answer.short_answer == "3.8万人", "when no story on the place answers, the others are read"


def test_each_part_of_a_two_part_question_is_answered_by_its_own_reading():
    assert question_parts("漯河敲门行动何时开始？走访了多少户？") == ["漯河敲门行动何时开始？", "走访了多少户？"]
    assert question_parts("How many? ") == ["How many?"]
    assert question_parts("厦门有多少持证社工") == ["厦门有多少持证社工"]
    reader = GivenSpans([("125人", 3.0)], by_question={"建成多少社工站？": [("35个", 2.0)]})
    answer = ReaderComposer(reader).compose("持证社工多少人？建成多少社工站？", PASSAGES, "zh-hans")  # type: ignore[arg-type]
    assert answer.text == "据统计,目前全县持证社工125人,其中助理社会工作师94人。[1]全县建成社工站35个。[1]"
    assert answer.short_answer == "125人"
    single = GivenSpans([("125人", 3.0)])
    ReaderComposer(single).compose("持证社工多少人？", PASSAGES, "zh-hans")  # type: ignore[arg-type]
    assert len(single.reads) == 1, "a question of one part is read once"


def test_across_languages_a_span_in_the_best_ranked_story_answers_without_the_fallback():
    """The retriever ranks the English story first and the reader's span lies in it: two judges agree."""
    composer = ReaderComposer(GivenSpans([("11,265", -1.0)]), fallback=fallback_answer(True))  # type: ignore[arg-type]
    answer = composer.compose("厦门有多少持证社工？", PASSAGES[::-1], "zh-hans")
    assert not answer.abstained and answer.short_answer == "11,265"
    ranked_second = composer.compose("厦门有多少持证社工？", PASSAGES, "zh-hans")
    assert ranked_second.abstained, "ranked second, the span needs the fallback"
    off_topic = composer.compose("秘鲁有多少持证社工？", PASSAGES[::-1], "zh-hans")
    assert off_topic.abstained, "the story does not name 秘鲁"


def test_across_languages_the_best_ranked_story_naming_what_was_asked_answers_wherever_the_readers_best_span_lay():
    """Across languages the reader's scores do not rank stories: its best span lies in the second story, but the
    first names the county asked about, so the first story's own best span answers."""
    elsewhere = passage("全市建成社工站35个,持证社工800人。", "elsewhere", "zh-hans", "某市日报")
    spans = GivenSpans([("800人", -0.5), ("125人", -3.0)])
    composer = ReaderComposer(spans, fallback=fallback_answer(True))  # type: ignore[arg-type]
    answer = composer.compose("How many certified social workers does Weining have?", [PASSAGES[0], elsewhere], "en")
    assert not answer.abstained and answer.short_answer == "125人" and spans.reads[-1] == [WEINING]
    unnamed = composer.compose("How many certified social workers does Peru have?", [PASSAGES[0], elsewhere], "en")
    assert unnamed.abstained, "the first story does not name Peru: the fallback decides"


def test_an_answer_in_the_question_language_needs_a_passage_that_stands_out_from_generic_text():
    weak = [replace(p, score=3.0) for p in PASSAGES]
    composer = ReaderComposer(GivenSpans([("125人", 3.0)]), min_retrieval=6.5)  # type: ignore[arg-type]
    answer = composer.compose("威宁县有多少持证社工？", weak, "zh-hans")
    assert answer.abstained and answer.passages == weak and "weak match" in answer.notes[0]
    strong = [replace(weak[0], score=6.5), weak[1]]
    assert not composer.compose("威宁县有多少持证社工？", strong, "zh-hans").abstained


def test_an_answer_across_languages_is_not_judged_by_retrieval_strength():
    weak = [replace(p, score=3.0) for p in PASSAGES]
    composer = ReaderComposer(GivenSpans([("11,265", 3.0)]), min_retrieval=6.5)  # type: ignore[arg-type]
    assert not composer.compose("厦门有多少持证社工？", weak[::-1], "zh-hans").abstained


def test_warming_up_loads_the_reader_and_the_fallback_before_the_first_question():
    loaded: list[str] = []

    @dataclass
    class Loads:
        name: str

        def warm_up(self) -> None:
            loaded.append(self.name)

    ReaderComposer(Loads("reader"), fallback=Loads("fallback")).warm_up()  # type: ignore[arg-type]
    assert loaded == ["reader", "fallback"]
