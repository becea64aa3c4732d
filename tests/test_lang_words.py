"""rag/lang/words.py: jieba over memory-mapped tables segments and tags exactly as plain jieba does."""

from __future__ import annotations

from pathlib import Path

import jieba
import jieba.posseg
import pytest

from rag.lang import words
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    text = (SEEDS / "001_b68a85b33c870ddc.txt").read_text(encoding="utf-8") + "\n"
    text += (SEEDS / "003_2b286ece2c422390.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()][:80]


def test_segmentation_is_plain_jiebas(seed_lines: list[str]):
    plain = jieba.Tokenizer()
    for line in seed_lines:
        assert list(words.segmenter().cut_for_search(line)) == list(plain.cut_for_search(line))
        assert words.segmenter().lcut(line) == plain.lcut(line)


def test_tags_are_plain_jiebas(seed_lines: list[str]):
    plain = jieba.posseg.POSTokenizer(jieba.Tokenizer())
    for line in seed_lines[:30]:
        assert [(p.word, p.flag) for p in words.tagger().cut(line)] == [(p.word, p.flag) for p in plain.cut(line)]
    assert words.word_tags().get("厦门") == "ns" and words.word_tags().get("不是一个词") is None
    assert words.frequencies().get("社会") > 0 and "社会" in words.frequencies()


def test_the_tables_are_built_once_and_a_broken_copy_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    words._tables.cache_clear()
    try:
        freq, total, _ = words._tables()
        files = sorted((tmp_path / "rag" / "words").glob("jieba-*"))
        assert [f.suffix for f in files] == [".freq", ".tags", ".total"]
        assert not list((tmp_path / "rag" / "words").glob(".*.part"))
        words._tables.cache_clear()
        files[2].write_text("not a number", encoding="utf-8")
        again, total_again, _ = words._tables()
        assert total_again == total and again.get("社会") == freq.get("社会")
    finally:
        words._tables.cache_clear()
