"""How a source is named to a reader: outlet, date (inferred or not), title, in the question's language and script."""

from __future__ import annotations

from rag.references import date_text, outlet_text, quotation, reference
from rag.types import StoryCopy


def _copy(**kw: object) -> StoryCopy:
    fields: dict = dict(doc_id="x#1", title="福建:推動社會工作助力鄉村振興", source="東南網", date="2023-02-28",
                        lang="zh-hant", date_inferred="")
    fields.update(kw)
    return StoryCopy(**fields)


def test_a_stated_date_is_shown_as_is_and_an_inferred_one_says_from_where() -> None:
    assert date_text(_copy(), "en") == "2023-02-28"
    assert date_text(_copy(date_inferred="copy"), "en") == "2023-02-28 (inferred from a copy of the story)"
    assert date_text(_copy(date_inferred="lead"), "zh-hans") == "2023-02-28（据导语推断）"
    assert date_text(_copy(date_inferred="listing"), "zh-hant") == "2023-02-28（據刊載該文的版面目錄推斷）"
    assert date_text(_copy(date=None), "en") == "" and date_text(_copy(date=None), "en", undated=True) == "undated"


def test_a_reference_names_outlet_date_and_title_in_the_question_language() -> None:
    assert reference(_copy(), "en") == "東南網, 2023-02-28, \u201c福建:推動社會工作助力鄉村振興\u201d"
    unknown = reference(_copy(source=None, date=None), "zh-hans")
    assert unknown == "来源不详，日期不详，《福建:推動社會工作助力鄉村振興》"
    assert outlet_text(_copy(source=None), "zh-hant") == "來源不詳"


def test_a_quotation_is_one_line_with_its_reference() -> None:
    assert quotation("第一行\n第二行 ", _copy(), "zh-hant") == (
        "\u201c第一行 第二行\u201d（東南網，2023-02-28，《福建:推動社會工作助力鄉村振興》）")
    english = quotation("It said so.", _copy(), "en")
    assert english == "\u201cIt said so.\u201d (東南網, 2023-02-28, \u201c福建:推動社會工作助力鄉村振興\u201d)"
