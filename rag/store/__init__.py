"""Vector stores: where chunk vectors live and how they are searched (FAISS by default, or Milvus).

    create_store(kind, dim, ...) -> VectorStore      a new, empty store (a backend of BACKENDS: "faiss", "milvus")
    open_store(directory, ...) -> VectorStore        what `store.save(directory)` wrote
    create_store_from_settings(settings, dim), open_store_from_settings(directory, settings)

`store.json` in a saved directory names the backend, the dimension, the index type and its
parameters, so `open_store` needs nothing else. Tunables are the fields of `IndexParams`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.store.base import ANN_THRESHOLD, MANIFEST, IndexParams, SearchFilter, VectorMeta, VectorStore

# faiss's loader tries builds the wheel may not have ("Could not load library with AVX512 support due to:
# ModuleNotFoundError...") and logs each try at INFO, which reads as a failure; it then loads the one that serves.
logging.getLogger("faiss.loader").setLevel(logging.WARNING)

if TYPE_CHECKING:  # rag.settings takes the store tunables' defaults from IndexParams
    from rag.settings import Settings

__all__ = [
    "IndexParams", "SearchFilter", "VectorMeta", "VectorStore", "create_store", "create_store_from_settings",
    "open_store", "open_store_from_settings", "settings_tunables",
]

def _create_faiss(dim: int, *, faiss_index: str, ann_threshold: int, params: IndexParams, **_: Any) -> VectorStore:
    from rag.store.faiss_store import FaissStore

    return FaissStore(dim, kind=faiss_index, ann_threshold=ann_threshold, params=params)


def _create_milvus(dim: int, *, faiss_index: str, ann_threshold: int, params: IndexParams, milvus_uri: str,
                   collection: str, milvus_index: str | None) -> VectorStore:
    from rag.store.milvus_store import MilvusStore

    return MilvusStore(dim, uri=milvus_uri, collection=collection, kind=milvus_index or faiss_index,
                       ann_threshold=ann_threshold, params=params)


def _open_faiss(directory: Path, manifest: dict, milvus_uri: str | None, **tunables: Any) -> VectorStore:
    from rag.store.faiss_store import FaissStore

    return FaissStore.load(directory, manifest, **tunables)


def _open_milvus(directory: Path, manifest: dict, milvus_uri: str | None, **tunables: Any) -> VectorStore:
    from rag.store.milvus_store import MilvusStore

    return MilvusStore.load(directory, manifest, milvus_uri=milvus_uri, **tunables)


# Backend name -> (create a new store, open a saved one), as rag.embed.BACKENDS maps names to embedders. The
# modules are imported when chosen: FAISS and pymilvus are heavy, and a process needs one of them.
BACKENDS: dict[str, tuple[Callable[..., VectorStore], Callable[..., VectorStore]]] = {
    "faiss": (_create_faiss, _open_faiss),
    "milvus": (_create_milvus, _open_milvus),
}


def create_store(kind: str, dim: int, *, faiss_index: str = "auto", ann_threshold: int = ANN_THRESHOLD,
                 milvus_uri: str = "", collection: str = "chunks", milvus_index: str | None = None,
                 **tunables: Any) -> VectorStore:
    """A new, empty store of backend `kind` (a key of BACKENDS). `milvus_index` defaults to `faiss_index`;
    tunables: IndexParams fields."""
    if kind not in BACKENDS:
        raise ValueError(f"unknown store {kind!r}: choose one of {', '.join(BACKENDS)}")
    create, _ = BACKENDS[kind]
    return create(dim, faiss_index=faiss_index, ann_threshold=ann_threshold, params=_params(tunables),
                  milvus_uri=milvus_uri, collection=collection, milvus_index=milvus_index)


def open_store(directory: Path, *, milvus_uri: str | None = None, **tunables: Any) -> VectorStore:
    """The store saved in `directory`; tunables override its search-time IndexParams."""
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {directory} holds no saved vector store; build the index")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    _params(tunables)
    if manifest["backend"] not in BACKENDS:
        raise ValueError(f"{path} names an unknown backend {manifest['backend']!r}")
    _, load = BACKENDS[manifest["backend"]]
    return load(directory, manifest, milvus_uri, **tunables)


def settings_tunables(settings: Settings) -> dict[str, Any]:
    """The IndexParams values configured in `settings` (fields named store_<param>)."""
    return {f.name: getattr(settings, f"store_{f.name}") for f in fields(IndexParams)}


def create_store_from_settings(settings: Settings, dim: int, role: str = "") -> VectorStore:
    """A new store as configured; `role` ("sentences") names a second store of the same index apart from the first
    (a Milvus server holds both as collections)."""
    collection = f"{settings.milvus_collection}_{role}" if role else settings.milvus_collection
    return create_store(settings.store, dim, faiss_index=settings.faiss_index,
                        ann_threshold=settings.faiss_ann_threshold, milvus_uri=settings.milvus_uri,
                        collection=collection, milvus_index=settings.milvus_index,
                        **settings_tunables(settings))


def open_store_from_settings(directory: Path, settings: Settings) -> VectorStore:
    tunables = settings_tunables(settings)
    search_time = ("hnsw_ef_search", "ivf_nprobe", "exact_filter_fraction", "compact_fraction", "mmap")
    return open_store(directory, milvus_uri=settings.milvus_uri or None,
                      **{name: tunables[name] for name in search_time})


def _params(tunables: dict[str, Any]) -> IndexParams:
    known = {f.name for f in fields(IndexParams)}
    unknown = set(tunables) - known
    if unknown:
        raise TypeError(f"unknown store tunable(s) {sorted(unknown)}; known: {sorted(known)}")
    return IndexParams(**tunables)
