"""Each cleaning rule on real snippets from the seeds, plus property tests on arbitrary text."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.ingest.clean import (
    clean_text,
    clean_title,
    fix_displaced_trailers,
    join_broken_lines,
    normalize_unicode,
    remove_cjk_spaces,
    remove_navigation_lines,
    strip_markdown_marks,
    strip_page_chrome,
    strip_pinyin_annotations,
)

# --- pinyin annotations (seed 001) -------------------------------------------------------------


def test_pinyin_glued_to_traditional_characters_is_removed():
    assert strip_pinyin_annotations("首頁 | 版面導(dǎo)航 | 標(biāo)題導(dǎo)航") == "首頁 | 版面導航 | 標題導航"
    assert strip_pinyin_annotations("福建:推動社會工作助力鄉(xiāng)村振興") == "福建:推動社會工作助力鄉村振興"
    assert strip_pinyin_annotations("    (據(jù)東南網(wǎng))") == "    (據東南網)"


def test_real_parentheses_after_pinyin_survive():
    assert strip_pinyin_annotations("加強(qiáng)鄉(xiāng)鎮(zhèn)(街道)社工站") == "加強鄉鎮(街道)社工站"
    for kept in ("乡镇(街道)社工站", "社工站(室)", "人工智能(AI)", "应用(app)", "在 (dǎo) 中", "年份(2023)"):
        assert strip_pinyin_annotations(kept) == kept


# --- Unicode normalisation ----------------------------------------------------------------------


def test_full_width_digits_letters_and_spaces_become_half_width():
    assert normalize_unicode("２０２３年３月　ＬＥＤ显示屏") == "2023年3月 LED显示屏"
    assert normalize_unicode("活动主题为（推进），时间：３月") == "活动主题为(推进),时间:3月"


def test_seed_half_width_punctuation_and_chinese_marks_are_untouched():
    seed = "同時,為貫徹落實民政部辦公廳印發《關于在援藏援疆工作中加強鄉鎮(街道)社工站建設的通知》要求。"
    assert normalize_unicode(seed) == seed
    assert normalize_unicode("面條……——陣忙碌後,“牽手計劃”、「一小一老」") == "面條……——陣忙碌後,“牽手計劃”、「一小一老」"


def test_zero_width_characters_and_crlf_are_removed():
    assert normalize_unicode("\ufeff社会\u200b工作\r\n服务") == "社会工作\n服务"


# --- page chrome and navigation (seed 001) -------------------------------------------------------

SEED_001_HEAD = """首頁 | 版面導航 | 標題導航
   第01版:頭版
   第16版:尋找慈善傳統
2023年社會工作主題宣傳活動將于3月下旬舉行
福建:推動社會工作助力鄉村振興

版面目錄

第01版
頭版

新聞內容
2023年02月28日 星期二上一期下一期
福建:推動社會工作助力鄉村振興

    近日,由福建省民政廳主辦的全省社會工作助力鄉村振興高級研修班和社會工作督導人才培訓班開班儀式在泉州市惠安縣舉行,旨在通過系統培訓。
"""


def test_page_chrome_before_the_article_goes_including_the_page_headline_list():
    kept = strip_page_chrome(SEED_001_HEAD).strip().split("\n")
    assert kept[0] == "福建:推動社會工作助力鄉村振興"
    assert kept[-1].strip().startswith("近日,由福建省民政廳主辦")
    assert "2023年社會工作主題宣傳活動將于3月下旬舉行" not in kept


def test_navigation_lines_are_removed_and_prose_is_not():
    text = (
        "首頁 | 版面導航 | 標題導航\n   第01版:頭版\n版面目錄\n"
        "2023年02月28日 星期二上一期下一期\n他说上一期节目很好。"
    )
    assert remove_navigation_lines(text) == "他说上一期节目很好。"


def test_page_without_navigation_is_left_whole():
    text = (
        "安徽省社会工作人才队伍建设步入\"快车道\"\n\n"
        "社会工作人才队伍的健全是社会工作发展的重要保障,也是建设和谐社会的基础之一。"
    )
    assert strip_page_chrome(text) == text


# --- PDF damage (seeds 003, 004) --------------------------------------------------------------


def test_line_break_inside_a_sentence_is_joined():
    text = "2023年,安徽省社会工作专业人才队伍建设加快\n\n步伐,全省持证社会工作者达到 3.3万人,总量超 过13万人。"
    out = remove_cjk_spaces(join_broken_lines(text))
    assert out == "2023年,安徽省社会工作专业人才队伍建设加快步伐,全省持证社会工作者达到3.3万人,总量超过13万人。"


def test_line_break_inside_a_word_with_a_clause_comma_is_joined():
    assert join_broken_lines("庄宋太指出,潮州历史悠\n\n久,人文深厚。") == "庄宋太指出,潮州历史悠久,人文深厚。"
    assert join_broken_lines("强化信息登记,助力人才\n\n管理。持续完善健全社工终身 学习机制。") == (
        "强化信息登记,助力人才管理。持续完善健全社工终身 学习机制。"
    )


def test_paragraph_ends_and_headings_are_not_glued():
    text = "据了解,主要包括以下三方面:\n\n普及社会工作专业知识。\n\n广泛宣传社会工作基本知识。"
    assert join_broken_lines(text) == text
    english = (
        "and support social workers.\n\nAwarded a batch of provincial social worker talent bases\n\n"
        "At the launching ceremony, relevant leaders"
    )
    assert join_broken_lines(english) == english


def test_caption_interrupting_a_sentence_moves_after_the_paragraph():
    text = (
        "前端是敲需求,后续是链资源。源汇区干河陈街道特殊困难\n\n\n\n"
        "在漯河市源汇区大刘镇的一处儿童之家,民政社工带领村里的留守儿童开展交通安全教育等活动(王向前/摄)\n\n"
        "老人王大爷向社工反映,自己身体不舒服。"
    )
    assert join_broken_lines(text).split("\n\n") == [
        "前端是敲需求,后续是链资源。源汇区干河陈街道特殊困难老人王大爷向社工反映,自己身体不舒服。",
        "在漯河市源汇区大刘镇的一处儿童之家,民政社工带领村里的留守儿童开展交通安全教育等活动(王向前/摄)",
    ]


def test_caption_after_the_source_line_stays_its_own_paragraph():
    text = (
        "共同发展。\n\n(据《潮州日报》、中国社会工作联合会)\n\n\n\n"
        "“香港万千社工看祖国——‘心连心’交流团”启动礼(图片来源:中国社会工作联合会)"
    )
    assert join_broken_lines(text).split("\n\n") == [
        "共同发展。",
        "(据《潮州日报》、中国社会工作联合会)",
        "“香港万千社工看祖国——‘心连心’交流团”启动礼(图片来源:中国社会工作联合会)",
    ]


def test_hyphenated_english_line_break_is_joined():
    assert join_broken_lines("the general public know so-\ncial workers and sup-\nport them.") == (
        "the general public know social workers and support them."
    )
    assert join_broken_lines("more than 80,000 social work\nprofessionals.") == (
        "more than 80,000 social work professionals."
    )


def test_displaced_source_trailer_moves_to_the_end_of_its_paragraph():
    text = "成为湖州市唯 一获评全省智慧社区试点优秀的 (据《湖州日报》) 县区)。"
    assert fix_displaced_trailers(text) == "成为湖州市唯 一获评全省智慧社区试点优秀的 县区)。(据《湖州日报》)"
    in_place = "有力促进了社工人才发展。(据庄浪县民政局)"
    assert fix_displaced_trailers(in_place) == in_place


def test_spaces_between_chinese_characters_go():
    assert remove_cjk_spaces("按照 安徽省 委人才工作小组工作要点\"部 署,安徽省民政厅联合财政、人 社、教育等 13 家") == (
        "按照安徽省委人才工作小组工作要点\"部署,安徽省民政厅联合财政、人社、教育等13家"
    )
    assert remove_cjk_spaces("培养本土化、专业型、复合型 社会工作实务人才,累计招收学 员3372人。") == (
        "培养本土化、专业型、复合型社会工作实务人才,累计招收学员3372人。"
    )


def test_digits_and_latin_words_keep_their_own_spaces():
    assert remove_cjk_spaces("活动时间为 2023 年 3 月 21 日至 31 日") == "活动时间为2023年3月21日至31日"
    assert remove_cjk_spaces("公共场所 LED 显示屏、楼宇显示屏") == "公共场所 LED 显示屏、楼宇显示屏"
    english = "At present, there are 11,265 certified social workers in Xiamen, and 21.22 per 10,000 people"
    assert remove_cjk_spaces(english) == english


# --- Markdown headings, captions, titles -------------------------------------------------------


def test_markdown_heading_marks_go_and_the_heading_stays_a_paragraph():
    text = "## 甘肃庄浪: “三个聚焦”建强社工人才队伍\n\n近年来,甘肃省平凉市庄浪县民政局坚持。"
    assert join_broken_lines(text) == text
    assert strip_markdown_marks(text) == "甘肃庄浪: “三个聚焦”建强社工人才队伍\n\n近年来,甘肃省平凉市庄浪县民政局坚持。"


def test_title_joins_place_line_and_headline_keeping_phrase_spaces():
    assert clean_title(["河南漯河:", "困难群体咋过冬 社工敲门在行动"]) == "河南漯河: 困难群体咋过冬 社工敲门在行动"
    assert clean_title(["“推进‘五社联动’ 关爱‘一小一老’”", "2023 年社会工作主题宣传活动将于 3 月下旬举行"]) == (
        "“推进‘五社联动’ 关爱‘一小一老’”——2023年社会工作主题宣传活动将于3月下旬举行"
    )
    assert clean_title(["## 四川广元朝天区: 汇聚社工力量 托起幸福“夕阳红”"]) == (
        "四川广元朝天区: 汇聚社工力量 托起幸福“夕阳红”"
    )
    assert clean_title(["福建:推動社會工作助力鄉(xiāng)村振興"]) == "福建:推動社會工作助力鄉村振興"


def test_clean_text_runs_every_rule():
    raw = (
        "首頁 | 版面導(dǎo)航 | 標(biāo)題導(dǎo)航\n第01版:頭版\n新聞內(nèi)容\n2023年02月28日 星期二上一期下一期\n"
        "    近日,由福建省民政廳主辦的全省社會工作助力鄉(xiāng)村振興高級研修班在泉州市惠安縣\n\n"
        "舉行,旨在通過系統培訓。\n\n    (據(jù)東南網(wǎng))"
    )
    assert clean_text(raw) == (
        "近日,由福建省民政廳主辦的全省社會工作助力鄉村振興高級研修班在泉州市惠安縣舉行,旨在通過系統培訓。\n\n(據東南網)"
    )


# --- properties -----------------------------------------------------------------------------

_HAN_OR_DIGIT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9]")
RULES = [
    strip_pinyin_annotations,
    normalize_unicode,
    strip_page_chrome,
    remove_navigation_lines,
    fix_displaced_trailers,
    join_broken_lines,
    strip_markdown_marks,
    remove_cjk_spaces,
    clean_text,
]
# Prose-like text from seed characters: no navigation or annotation can be formed from it.
PROSE = st.text(
    alphabet=st.sampled_from("社会工作人才队伍建设福建厦门民政服务0123456789,。、:“”() \n#LEDab-"), max_size=300
)


def _kept(text: str) -> Counter[str]:
    return Counter(_HAN_OR_DIGIT.findall(unicodedata.normalize("NFKC", text)))


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=300))
def test_no_rule_raises_on_arbitrary_unicode(text):
    for rule in RULES:
        assert isinstance(rule(text), str)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_rules_that_remove_no_noise_keep_every_cjk_character_and_digit(text):
    for rule in (strip_pinyin_annotations, normalize_unicode, fix_displaced_trailers, join_broken_lines,
                 strip_markdown_marks, remove_cjk_spaces):
        assert _kept(rule(text)) == _kept(text), rule.__name__


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_clean_text_only_ever_removes_cjk_characters_and_digits(text):
    assert not _kept(clean_text(text)) - _kept(text)


@settings(max_examples=150, deadline=None)
@given(PROSE)
def test_clean_text_keeps_every_cjk_character_and_digit_of_prose(text):
    assert _kept(clean_text(text)) == _kept(text)
