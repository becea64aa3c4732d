"""The composer's role: ranked passages in, an `Answer` out (see rag.compose for the implementations)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from rag.types import Answer, Passage


class Composer(Protocol):
    def compose(self, question: str, passages: list[Passage], language: str,
                query_vector: np.ndarray | None = None) -> Answer:
        """`language` is the question's ("en" | "zh-hans" | "zh-hant" | "other"); passages best first.
        `query_vector` is the question's query embedding when the caller already has it."""
        ...

    def warm_up(self) -> None:
        """Load now what the first answer would load (models, taggers), so that it is not the slow one: a server
        calls this before it takes questions."""
        ...

    def prefetch(self) -> None:
        """Start loading, in the background, what `compose` will need and can load while the passages are retrieved
        (`RAG.ask` calls it first); nothing where no such load is worth a thread."""
        ...
