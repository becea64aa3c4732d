"""Answer composition: ranked passages in, a short cited answer (or an abstention) out.

- `Composer`: the protocol, `compose(question, passages, language) -> Answer`.
- `create_composer(kind, embedder, ...)`: "extractive" (default: verbatim quotes, no network) or
  "openai" (an OpenAI-compatible chat endpoint, falling back to extractive on any failure).

Both run the citation check in `rag.compose.verify`; `rag.compose.messages` holds the fixed
strings in English, Simplified and Traditional Chinese.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from rag.compose.extractive import ExtractiveComposer, candidate_spans
from rag.compose.generative import OpenAIComposer
from rag.embed.base import Embedder
from rag.types import Answer, Passage

COMPOSERS = ("extractive", "openai")


class Composer(Protocol):
    def compose(self, question: str, passages: list[Passage], language: str,
                query_vector: np.ndarray | None = None) -> Answer:
        """`language` is the question's ("en" | "zh-hans" | "zh-hant" | "other"); passages best first.
        `query_vector` is the question's query embedding when the caller already has it."""
        ...


def create_composer(
    kind: str = "extractive", *, embedder: Embedder, max_sentences: int = 2, abstain_threshold: float = 0.5,
    abstain_threshold_cross: float | None = None, llm_base_url: str = "", llm_model: str = "",
    llm_api_key_env: str = "OPENAI_API_KEY", llm_timeout_s: float = 30.0, max_passages: int = 5,
    max_candidates: int = 8,
) -> Composer:
    """A composer by name. `max_candidates` caps the sentences embedded per question (the cost)."""
    extractive = ExtractiveComposer(embedder, max_sentences=max_sentences, abstain_threshold=abstain_threshold,
                                    abstain_threshold_cross=abstain_threshold_cross,
                                    max_passages=max_passages, max_candidates=max_candidates)
    if kind == "extractive":
        return extractive
    if kind == "openai":
        return OpenAIComposer(extractive, llm_base_url, llm_model, llm_api_key_env, llm_timeout_s)
    raise ValueError(f"Unknown composer {kind!r}; choose one of {', '.join(COMPOSERS)} (setting 'composer')")


__all__ = ["COMPOSERS", "Composer", "ExtractiveComposer", "OpenAIComposer", "candidate_spans", "create_composer"]
