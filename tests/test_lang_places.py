"""Which places lie inside which (rag/lang/places.py), on cpca's table of China's administrative divisions."""

from __future__ import annotations

from rag.lang import places
from rag.lang.places import division_spans, elsewhere, lookup, parts_named, regions_named
from rag.query.analyze import analyze


def test_a_place_is_found_by_its_name_in_either_script_and_by_its_pinyin():
    for name in ("福建", "福建省", "Fujian", "FUJIAN"):
        assert [d.name for d in lookup(name)] == ["福建省"]
    assert [d.name for d in lookup("廈門市")] == ["厦门市"]
    assert lookup("瑞士") == () and lookup("Switzerland") == ()


def test_the_parts_of_a_province_are_named_in_chinese_and_in_pinyin():
    assert parts_named("福建", "目前厦门持证社工达到11265人,思明区有500人。") == ["厦门", "思明区"]
    assert parts_named("Fujian", "At present, there are 11,265 certified social workers in Xiamen.") == ["厦门"]
    assert parts_named("贵州省", "黔南州和威宁县") == ["黔南", "威宁"]  # 黔南布依族苗族自治州, 威宁彝族回族苗族自治县


def test_the_place_itself_its_parents_and_places_elsewhere_are_not_its_parts():
    assert parts_named("厦门", "福建省有3.8万名持证社工。") == []
    assert parts_named("厦门", "潮州市有32万名志愿者。") == []
    assert parts_named("清华大学", "海淀区") == []  # not a division


def test_a_short_name_that_is_a_common_word_counts_only_in_full():
    assert parts_named("福建", "社工们心态平和。") == []  # 平和 "calm"
    assert parts_named("福建", "平和县有30名社工。") == ["平和县"]


def test_a_headline_names_the_provinces_and_cities_its_article_is_about():
    assert [d.name for d in regions_named("甘肃庄浪: “三个聚焦”建强社工人才队伍")] == ["甘肃省"]
    assert [d.name for d in regions_named("There are 11,265 certified social workers in Xiamen")] == ["厦门市"]
    assert regions_named("中国社会工作联合会妇女与婚姻家庭工作委员会更名换届大会召开") == ()


def test_a_region_is_elsewhere_when_it_neither_holds_nor_lies_in_the_place():
    gansu, xiamen, fujian = (lookup(name)[0] for name in ("甘肃", "厦门", "福建"))
    assert elsewhere("上海", gansu) and elsewhere("Shanghai", xiamen)
    assert not elsewhere("福建", xiamen) and not elsewhere("厦门", fujian) and not elsewhere("Fujian", fujian)
    assert not elsewhere("清华大学", gansu)  # not a division: cannot tell


def test_the_divisions_names_are_found_in_any_text_but_not_words_that_share_them():
    text = "河南漯河市郾城区和甘肃庄浪县、福建省厦门市思明区"
    assert [text[a:b] for a, b in division_spans(text)] == ["河南", "漯河市", "郾城区", "甘肃", "庄浪县", "福建省",
                                                            "厦门市", "思明区"]
    assert division_spans("这项工作最关键的资源是什么？") == []  # 资源县 exists; 资源 is "resources"
    # Places no list of ours names are places of the question.
    assert analyze("彭阳有多少持证社工？", "zh-hans").places == ["彭阳"]  # jieba takes 彭阳 for a person
    assert analyze("宣汉和临夏各有多少社工站？", "zh-hans").places == ["宣汉", "临夏"]


def test_the_division_table_is_cached_and_a_damaged_copy_is_made_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    places._tables.cache_clear()
    try:
        made = places._tables()
        [cached] = (tmp_path / "rag" / "places").glob("divisions-*.json")
        cached.write_text("{not json", encoding="utf-8")
        places._tables.cache_clear()
        assert places._tables() == made
        assert cached.read_text(encoding="utf-8").startswith("{\"divisions\"")
    finally:
        places._tables.cache_clear()  # the next test reads the table from the real cache again


def test_the_division_table_is_cached_by_its_content_so_a_reinstall_reuses_it(tmp_path, monkeypatch):
    import os
    import shutil

    tables = tmp_path / "cpca-resources"
    shutil.copytree(places._table_dir(), tables)
    monkeypatch.setattr(places, "_table_dir", lambda: tables)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "rag" / "places"
    folder.mkdir(parents=True)
    (folder / "divisions-1-154776-1796661149-538-1796661149-0.55.0.json").write_text("{}")  # keyed by install time
    places._tables.cache_clear()
    first = places.divisions()
    [cached] = folder.iterdir()  # the old one pruned
    for name in ("adcodes.csv", "56_nations.csv"):  # installed again: same files, a new time
        os.utime(tables / name, (1_900_000_000, 1_900_000_000))
    places._tables.cache_clear()
    assert places.divisions() == first and list(folder.iterdir()) == [cached]
    places._tables.cache_clear()
