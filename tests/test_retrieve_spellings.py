from rag.retrieve.lexical import LexicalIndex, tokenize
from rag.retrieve.spellings import NameSpellings


def test_saved_spellings_are_read_not_made_again_and_an_update_spells_its_new_terms_alone(tmp_path, monkeypatch):
    first, second = ["漯河市民政局社工敲门行动"], ["威宁自治县民政局"]
    question = "How many social workers in Luohe and Weining?"
    LexicalIndex.build(map(tokenize, first)).save(tmp_path / "gen-1")
    assert (tmp_path / "gen-1" / "lexical" / "spellings.json").is_file()
    spelled = []
    extended = NameSpellings.extended
    monkeypatch.setattr(NameSpellings, "extended", lambda self, terms: spelled.append(terms[self.spelled:])
                        or extended(self, terms))
    loaded = LexicalIndex.load(tmp_path / "gen-1")
    before = loaded.transliterations(question)
    assert "漯河市" in before and spelled == []  # read, not spelled
    grown = loaded.appended(map(tokenize, second))
    grown.save(tmp_path / "gen-2")
    assert len(spelled) == 1 and "威宁" in spelled[0] and "漯河市" not in spelled[0]  # only the new terms
    fresh = LexicalIndex.build(map(tokenize, first + second))
    assert LexicalIndex.load(tmp_path / "gen-2").transliterations(question) == fresh.transliterations(question)
    assert "威宁" in fresh.transliterations(question)
    assert loaded.transliterations(question) == before  # the index it grew from is unchanged


def test_unreadable_or_foreign_spellings_are_made_again(tmp_path, monkeypatch):
    from rag.retrieve import spellings

    LexicalIndex.build([tokenize("威宁自治县民政局")]).save(tmp_path / "a")
    saved = tmp_path / "a" / "lexical" / "spellings.json"
    saved.write_text("{not json", encoding="utf-8")
    assert LexicalIndex.load(tmp_path / "a").transliterations("Weining?") == ["威宁"]
    LexicalIndex.build([tokenize("威宁自治县民政局")]).save(tmp_path / "b")
    monkeypatch.setattr(spellings, "readings_version", lambda: "another pypinyin")
    assert NameSpellings.load(tmp_path / "b" / "lexical") is None
    assert LexicalIndex.load(tmp_path / "b").transliterations("Weining?") == ["威宁"]


def test_a_place_is_spelled_with_and_without_its_suffix_and_extending_leaves_the_original_alone():
    first = NameSpellings().extended(["漯河市", "social", "社"])
    assert first.get("luohe") == ["漯河市"] and first.get("luoheshi") == ["漯河市"]
    assert first.spelled == 3 and first.get("she") == []  # one character: not a name
    grown = first.extended(["漯河市", "social", "社", "罗河"])  # 罗河 is spelled "luohe" too
    assert grown.get("luohe") == ["漯河市", "罗河"] and first.get("luohe") == ["漯河市"]
