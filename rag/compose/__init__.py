"""Answer composition: ranked passages in, a short cited answer (or an abstention) out.

- `Composer`: the protocol, `compose(question, passages, language) -> Answer`.
- `create_composer(kind, embedder, ...)`: "reader" (the trained reader of rag.reader picks the answer span and
  the sentence holding it is quoted), "extractive" (sentences scored by rules and the embedder, quoted) or "openai"
  (an OpenAI-compatible chat endpoint, falling back to extractive on any failure).

All run the citation check in `rag.compose.verify`; `rag.compose.messages` holds the fixed
strings in English, Simplified and Traditional Chinese.
"""

from __future__ import annotations

from rag.compose.base import Composer
from rag.compose.extractive import ExtractiveComposer, candidate_spans
from rag.compose.generative import OpenAIComposer
from rag.compose.reading import ReaderComposer
from rag.embed.base import Embedder

COMPOSERS = ("reader", "extractive", "openai")


def create_composer(
    kind: str = "extractive", *, embedder: Embedder, max_sentences: int = 2, abstain_threshold: float = 0.5,
    abstain_threshold_cross: float | None = None, llm_base_url: str = "", llm_model: str = "",
    llm_api_key_env: str = "OPENAI_API_KEY", llm_timeout_s: float = 30.0, max_passages: int = 5,
    max_candidates: int = 8, reader_passages: int = 5, reader_model: str = "", reader_min_retrieval: float = 0.0,
) -> Composer:
    """A composer by name. `max_candidates` caps the sentences embedded per question (the cost); `reader_passages`
    the stories the reader reads."""
    extractive = ExtractiveComposer(embedder, max_sentences=max_sentences, abstain_threshold=abstain_threshold,
                                    abstain_threshold_cross=abstain_threshold_cross,
                                    max_passages=max_passages, max_candidates=max_candidates)
    if kind == "extractive":
        return extractive
    if kind == "reader":
        from rag.reader import Reader

        return ReaderComposer(Reader.load(reader_model or None), embedder, fallback=extractive,
                              max_sentences=max_sentences, max_passages=reader_passages,
                              min_retrieval=reader_min_retrieval)
    if kind == "openai":
        return OpenAIComposer(extractive, llm_base_url, llm_model, llm_api_key_env, llm_timeout_s)
    raise ValueError(f"Unknown composer {kind!r}; choose one of {', '.join(COMPOSERS)} (setting 'composer')")


__all__ = ["COMPOSERS", "Composer", "ExtractiveComposer", "OpenAIComposer", "ReaderComposer", "candidate_spans",
           "create_composer"]
