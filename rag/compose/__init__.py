"""Answer composition: ranked passages in, a short cited answer (or an abstention) out.

- `Composer`: the protocol, `compose(question, passages, language) -> Answer`.
- `create_composer(settings, embedder)`: by `settings.composer`, with the settings' values (stated once, in
  rag.settings): "reader" (the trained reader of rag.reader picks the answer span and
  the sentence holding it is quoted), "extractive" (sentences scored by rules and the embedder, quoted) or "openai"
  (an OpenAI-compatible chat endpoint, falling back to extractive on any failure).

All run the citation check in `rag.compose.verify`; `rag.compose.messages` holds the fixed
strings in English, Simplified and Traditional Chinese.
"""

from __future__ import annotations

from rag.compose.base import Composer
from rag.compose.extractive import ExtractiveComposer
from rag.compose.generative import OpenAIComposer
from rag.compose.reading import ReaderComposer
from rag.embed.base import Embedder
from rag.settings import Settings

COMPOSERS = ("reader", "extractive", "openai")


def create_composer(settings: Settings, embedder: Embedder) -> Composer:
    """The composer `settings.composer` names, configured by `settings` (`compose_max_sentences` caps the sentences
    embedded per question, the cost; `reader_passages` the stories the reader reads)."""
    s = settings
    extractive = ExtractiveComposer(embedder, max_sentences=s.max_answer_sentences,
                                    abstain_threshold=s.abstain_threshold,
                                    abstain_threshold_cross=s.abstain_threshold_cross,
                                    max_passages=s.compose_max_passages, max_candidates=s.compose_max_sentences)
    if s.composer == "extractive":
        return extractive
    if s.composer == "reader":
        from rag.reader import Reader

        return ReaderComposer(Reader.load(s.reader_model or None), embedder, fallback=extractive,
                              max_sentences=s.max_answer_sentences, max_passages=s.reader_passages,
                              min_retrieval=s.reader_min_retrieval)
    if s.composer == "openai":
        return OpenAIComposer(extractive, s.llm_base_url, s.llm_model, s.llm_api_key_env, s.llm_timeout_s)
    raise ValueError(f"Unknown composer {s.composer!r}; choose one of {', '.join(COMPOSERS)} (setting 'composer')")


__all__ = ["COMPOSERS", "Composer", "ExtractiveComposer", "OpenAIComposer", "ReaderComposer",
           "create_composer"]
