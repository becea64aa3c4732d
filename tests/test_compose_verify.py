"""The citation check on claims against real seed sentences: fabricated numbers and names are
caught, the same figure written another way is not."""

from __future__ import annotations

from rag.compose.verify import Claim, check_claim, number_values, verify_claims

WEINING = ("据统计,目前全县持证社 工 125 人,其中助理社会工作 师 94 人,社会工作师 31 人。下 一步,威宁自治县民政局将继 "
           '续践行 民政为民、民政爱民" 工作理念,')
ANHUI = "2023年,安徽省社会工作专业人才队伍建设加快步伐,全省持证社会工作者达到 3.3万人,社工专业人才总量超 过13万人。"
XIAMEN = ("At present, there are 11,265 certified social workers in Xiamen, and 21.22 certified social workers per "
          "10,000 people, ranking first in the country;")


def test_a_fabricated_number_is_caught():
    reason = check_claim(Claim("威宁县共有持证社工 126 人。", passage=0, verbatim=False), WEINING)
    assert reason is not None and "126" in reason


def test_the_same_number_with_or_without_separators_is_supported():
    assert check_claim(Claim("厦门有11265名持证社工。", passage=0, verbatim=False), XIAMEN) is None
    assert check_claim(Claim("威宁县共有持证社工125人。", passage=0, verbatim=False), WEINING) is None


def test_a_figure_in_wan_matches_its_value_in_thousands():
    assert check_claim(Claim("Anhui had 33,000 certified social workers in 2023.", passage=0, verbatim=False),
                       ANHUI) is None
    assert check_claim(Claim("Anhui had 34,000 certified social workers in 2023.", passage=0, verbatim=False),
                       ANHUI) is not None
    assert number_values("3.3万人") >= {33000}


def test_names_are_checked_across_scripts():
    assert check_claim(Claim("Weining County has 125 certified social workers.", 0, verbatim=False), WEINING) is None
    reason = check_claim(Claim("Beijing has 125 certified social workers.", 0, verbatim=False), WEINING)
    assert reason is not None and "Beijing" in reason
    assert check_claim(Claim("厦门有11,265名持证社工。", 0, verbatim=False), XIAMEN) is None
    assert check_claim(Claim("福州有11,265名持证社工。", 0, verbatim=False), XIAMEN) is not None


def test_a_quote_must_be_in_the_passage_ignoring_spaces_and_script():
    assert check_claim(Claim("目前全县持证社工125人", 0), WEINING) is None
    assert check_claim(Claim("目前全縣持證社工125人", 0), WEINING) is None  # Traditional
    assert check_claim(Claim("目前全县持证社工150人", 0), WEINING) is not None


def test_verify_claims_drops_only_the_failing_claim_and_notes_why():
    good = Claim("there are 11,265 certified social workers in Xiamen", passage=0)
    fabricated = Claim("there are 12,000 certified social workers in Xiamen", passage=0, verbatim=False)
    elsewhere = Claim("全县持证社 工 125 人", passage=3)

    kept, notes = verify_claims([good, fabricated, elsewhere], [XIAMEN, WEINING])

    assert kept == [good]
    assert len(notes) == 2
    assert "12000" in notes[0] or "12,000" in notes[0]
    assert "not given" in notes[1]


def test_figures_in_words_and_with_units_of_scale_are_compared_by_value():
    passage = "At present, there are 11,265 certified social workers in Xiamen. 全省持证社会工作者达到 3.3万人。"
    for claim in ("There are 11,265万 social workers", "厦门有一百万持证社工",
                  "There are twelve thousand social workers", "全省持证社工三千三百人"):
        reason = check_claim(Claim(claim, 0, verbatim=False), passage)
        assert reason and reason.startswith("number(s)"), claim
    for claim in ("There are 11,265 social workers", "全省持证社工三万三千人",
                  "The province has 33,000 certified social workers",
                  "thirty-three thousand social workers in the province"):
        assert check_claim(Claim(claim, 0, verbatim=False), passage) is None, claim
    assert 1_000_000 in number_values("一百万") and 12_000 in number_values("twelve thousand")
    assert not number_values("统一管理，一直以来") and not number_values("one of the workers")


def test_a_claim_in_another_language_needs_a_key_term_of_the_passage():
    chinese = "厦门市社会工作者为独居老人提供上门探访服务。"
    assert check_claim(Claim("The moon is made of green cheese.", 0, verbatim=False), chinese)
    assert check_claim(Claim("The stock market fell sharply on Monday.", 0, verbatim=False), chinese)
    assert check_claim(Claim("Social workers visit elderly people living alone.", 0, verbatim=False), chinese) is None
    english = "Social workers in Xiamen visit elderly people who live alone."
    assert check_claim(Claim("月亮是奶酪做的。", 0, verbatim=False), english)
    assert check_claim(Claim("社会工作者上门探访老人。", 0, verbatim=False), english) is None
