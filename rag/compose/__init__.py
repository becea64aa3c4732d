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

from collections.abc import Callable

from rag.compose.base import Composer
from rag.compose.extractive import ExtractiveComposer
from rag.compose.generative import OpenAIComposer
from rag.compose.reading import ReaderComposer
from rag.embed.base import Embedder
from rag.settings import Settings


def _extractive(s: Settings, embedder: Embedder) -> ExtractiveComposer:
    return ExtractiveComposer(embedder, max_sentences=s.max_answer_sentences, abstain_threshold=s.abstain_threshold,
                              abstain_threshold_cross=s.abstain_threshold_cross, max_passages=s.compose_max_passages,
                              max_candidates=s.compose_max_sentences)


def _reader(s: Settings, embedder: Embedder) -> ReaderComposer:
    from rag.reader import Reader

    return ReaderComposer(Reader.load(s.reader_model or None), embedder, fallback=_extractive(s, embedder),
                          max_sentences=s.max_answer_sentences, max_passages=s.reader_passages,
                          min_retrieval=s.reader_min_retrieval)


def _openai(s: Settings, embedder: Embedder) -> OpenAIComposer:
    return OpenAIComposer(_extractive(s, embedder), s.llm_base_url, s.llm_model, s.llm_api_key_env, s.llm_timeout_s)


COMPOSERS: dict[str, Callable[[Settings, Embedder], Composer]] = {
    "reader": _reader,
    "extractive": _extractive,
    "openai": _openai,
}


def create_composer(settings: Settings, embedder: Embedder) -> Composer:
    """The composer `settings.composer` names in `COMPOSERS`, configured by `settings` (`compose_max_sentences` caps
    the sentences embedded per question, the cost; `reader_passages` the stories the reader reads)."""
    try:
        build = COMPOSERS[settings.composer]
    except KeyError:
        raise ValueError(f"Unknown composer {settings.composer!r}; choose one of {', '.join(COMPOSERS)} "
                         "(setting 'composer')") from None
    return build(settings, embedder)


__all__ = ["COMPOSERS", "Composer", "ExtractiveComposer", "OpenAIComposer", "ReaderComposer",
           "create_composer"]
