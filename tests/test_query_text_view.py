"""rag.query.text_view: terms, numbers and names found in a text, across scripts (pinyin, then the dictionary)."""

from __future__ import annotations

from rag.query.text_view import TextView, entity_in, text_view


def test_names_match_across_scripts_through_pinyin():
    weining = TextView("下一步,威宁自治县民政局将继续践行民政为民、民政爱民工作理念")
    xiamen = TextView("At present, there are 11,265 certified social workers in Xiamen")
    assert entity_in("Weining", weining) is True
    assert entity_in("Beijing", weining) is False
    assert entity_in("厦门", xiamen) is True
    assert entity_in("廈門", xiamen) is True
    assert entity_in("福州", xiamen) is False
    assert entity_in("Southeast Net", weining) is None  # not a pinyin name: cannot tell

    # A place in China is matched by its own characters, not by any characters that read like it: 伤害 (harm) is
    # read "shanghai" too.
    harm, firm = TextView("在社会救助、养老服务、儿童关爱保护等领域防止伤害"), TextView("邀请上海东方社会工作事务所")
    assert entity_in("Shanghai", harm) is False and entity_in("Shanghai", firm) is True


def test_names_pinyin_cannot_spell_are_matched_through_the_dictionary():
    assert entity_in("Hong Kong", TextView("香港社会福利机构的300多名社工")) is True  # not pinyin: xianggang
    assert entity_in("香港", TextView("Hong Kong social workers visited Chaozhou")) is True
    funds = TextView("积极争取上级资金支持66万元")
    assert entity_in("Peru", funds) is False  # 秘鲁 is absent: the passage is not about Peru
    assert entity_in("Qwzx", funds) is None  # neither pinyin nor the dictionary can tell


def test_a_gloss_that_says_where_a_name_is_still_matches_the_name():
    # CC-CEDICT glosses 洛杉矶 as "Los Angeles, California" and 丹佛 as "Denver, Colorado".
    assert entity_in("洛杉矶", TextView("The Greater Los Angeles Area is home to 18 million people.")) is True
    assert entity_in("丹佛", TextView("Denver took a 24-10 lead.")) is True
    assert entity_in("丹佛", TextView("Carolina took a 24-10 lead.")) is False
    # ... and 英国 as "United Kingdom 聯合王國|联合王国": the Chinese it names in passing is not part of the name.
    assert entity_in("英国", TextView("The United Kingdom signed the Social Policy Agreement.")) is True


def test_ten_thousand_is_found_as_wan():
    assert text_view("每万人拥有持证社工13.7人").has("10000")
    assert not text_view("持证社工13.7人").has("10000")


def test_a_chinese_name_is_found_in_english_text_by_any_reading_of_its_characters():
    assert entity_in("重庆市", TextView("Social workers in Chongqing visit elderly residents.")) is True  # 重: chong
    assert entity_in("漯河", TextView("In Luohe, social workers knocked on doors.")) is True  # 漯: luo, not ta
    assert entity_in("厦门", TextView("Xiamen has 11,265 certified social workers.")) is True
    assert entity_in("潮州", TextView("Social workers in Xiamen visit elderly residents.")) is not True
