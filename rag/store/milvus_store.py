"""Milvus vector store through pymilvus: a local milvus-lite database or a Milvus server.

In: int64 chunk ids, unit float32 vectors (n, dim) and one `VectorMeta` per vector.
Out: for each query, up to k (chunk id, inner product) pairs, best first.

Where the data lives (`uri`):
- "" : milvus-lite in a private working directory (a temp dir), deleted when the store is closed
  or garbage-collected;
- a path ending in ".db": milvus-lite there (kept);
- "http://host:19530" (or https, tcp, unix): a Milvus server, the collection lives on it.
The same pymilvus calls serve both: pymilvus starts milvus-lite for ".db" URIs.

Schema: id INT64 primary key, vector FLOAT_VECTOR(dim) indexed with metric IP, and VARCHAR
doc_id, lang, source ("" for none), date ("" for none), path. A `SearchFilter` becomes a Milvus
boolean expression (strings quoted with `"` and backslash-escaped) that Milvus applies inside the
search. add() is an upsert. Index types as in FAISS: flat -> FLAT, hnsw -> HNSW, hnswsq ->
HNSW_SQ, ivfsq8 -> IVF_SQ8, ivfpq -> IVF_PQ; auto is FLAT until `ann_threshold` vectors, then
the index is dropped and rebuilt as HNSW.

Saving milvus-lite under the temp-dir-then-rename scheme: save(directory) stops the embedded
server (closing milvus-lite drains its background compaction and index builds, so the files on
disk are consistent), copies the database to directory/milvus.db, and restarts the server on its
working copy. Opening copies directory/milvus.db into a new private working directory first, so a
published index directory is only ever read: it can be renamed over or deleted while a store
opened from it is in use, and several processes can open it (milvus-lite locks a database to
one process). The price is one copy of the database per save and per open.
With a server, save() writes only store.json naming the URI and the collection: the collection
itself changes in place on the server as add and remove run, outside the atomic rename.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from rag.store.base import (
    ANN_THRESHOLD,
    MANIFEST,
    IndexParams,
    ReadWriteLock,
    SearchFilter,
    VectorMeta,
    checked_batch,
    unit_rows,
)

log = logging.getLogger(__name__)

DB_NAME = "milvus.db"
MILVUS_KINDS = {"flat": "FLAT", "hnsw": "HNSW", "hnswsq": "HNSW_SQ", "ivfsq8": "IVF_SQ8", "ivfpq": "IVF_PQ"}
AUTO_ANN = "hnsw"
_VECTOR = "vector"
_TEXT_FIELDS = {"doc_id": 512, "lang": 32, "source": 512, "date": 64, "path": 4096}  # max bytes
_BATCH = 2000
_MAX_TOPK = 16384
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def is_server_uri(uri: str) -> bool:
    return uri.split(":", 1)[0].lower() in ("http", "https", "tcp", "unix")


def quote(value: str) -> str:
    """`value` as a Milvus string literal."""
    return '"' + value.translate(_ESCAPES) + '"'


def filter_expression(where: SearchFilter | None) -> str | None:
    """The Milvus boolean expression for `where` ("" for no filter); None when nothing can match."""
    if where is None:
        return ""
    parts = []
    for name, values in (("lang", where.langs), ("source", where.sources),
                         ("path", where.paths), ("doc_id", where.doc_ids)):
        if values is not None:
            if not values:
                return None
            parts.append(f"{name} in [{', '.join(quote(v) for v in values)}]")
    if where.date_from is not None or where.date_to is not None:
        parts.append('date != ""')
    if where.date_from is not None:
        parts.append(f"date >= {quote(where.date_from)}")
    if where.date_to:
        # date[:len(t)] <= t  <=>  date < t with its last character incremented
        parts.append(f"date < {quote(where.date_to[:-1] + chr(ord(where.date_to[-1]) + 1))}")
    return " and ".join(parts)


def _index_spec(kind: str, params: IndexParams, dim: int) -> tuple[str, dict]:
    if kind not in MILVUS_KINDS:
        raise ValueError(f"unknown Milvus index type {kind!r}; choose one of auto, {', '.join(MILVUS_KINDS)}")
    index_type = MILVUS_KINDS[kind]
    if index_type.startswith("HNSW"):
        spec = {"M": params.hnsw_m, "efConstruction": params.hnsw_ef_construction}
        return index_type, spec | ({"sq_type": "SQ8"} if index_type == "HNSW_SQ" else {})
    if index_type.startswith("IVF"):
        spec = {"nlist": params.ivf_nlist or 1024}
        if index_type == "IVF_PQ":
            spec |= {"m": max(d for d in range(1, min(params.pq_m, dim) + 1) if dim % d == 0), "nbits": 8}
        return index_type, spec
    return index_type, {}


def _release_lite(db_path: Path, workdir: Path | None) -> None:
    """Stop the milvus-lite server of `db_path`; delete `workdir` (a private working copy) if given."""
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str(db_path))
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


def _copy_db(source: Path, target: Path) -> None:
    """Copy a (stopped) milvus-lite database over `target`, leaving out its lock file."""
    if target.is_dir():
        shutil.rmtree(target)
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("LOCK"))
    else:
        shutil.copy2(source, target)


class MilvusStore:
    """A `VectorStore` over one Milvus collection (see the module docstring)."""

    def __init__(self, dim: int, *, uri: str = "", collection: str = "chunks", kind: str = "auto",
                 ann_threshold: int = ANN_THRESHOLD, params: IndexParams | None = None,
                 _existing: bool = False, _workdir: Path | None = None) -> None:
        from pymilvus import MilvusClient  # imported here: pymilvus is an optional dependency

        self.dim = dim
        self.collection = collection
        self.requested = kind
        self.ann_threshold = ann_threshold
        self.params = params or IndexParams()
        self.kind = "flat" if kind == "auto" else kind
        _index_spec(self.kind, self.params, dim)  # reject unknown kinds before touching the database
        self._server = is_server_uri(uri)
        if not self._server and self.kind == "ivfpq":
            raise ValueError("milvus-lite (3.2) has no IVF_PQ index: use ivfsq8 or hnswsq, or a Milvus server")
        self._workdir = _workdir
        if not uri and _workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="rag-milvus-"))
        self._uri = uri if uri else str(self._workdir / DB_NAME)
        self._lock = ReadWriteLock()
        self._finalizer = (None if self._server
                           else weakref.finalize(self, _release_lite, Path(self._uri), self._workdir))
        self._client = MilvusClient(uri=self._uri)
        if _existing:
            if not self._client.has_collection(collection):
                raise FileNotFoundError(f"collection {collection!r} not found at {self._uri}: rebuild the index")
            self._client.load_collection(collection)
            self.kind = self._current_kind()
        else:
            if self._client.has_collection(collection):
                log.warning("dropping the existing Milvus collection %r at %s to create a new store",
                            collection, self._uri)
                self._client.drop_collection(collection)
            self._create_collection()

    def close(self) -> None:
        """Stop milvus-lite and delete a private working copy (no-op for a server)."""
        self._client.close()
        if self._finalizer is not None:
            self._finalizer()

    # ---- protocol ---------------------------------------------------------------------------

    def __len__(self) -> int:
        rows = self._client.query(self.collection, filter="", output_fields=["count(*)"],
                                  consistency_level="Strong")
        return int(rows[0]["count(*)"])

    def add(self, ids: Sequence[int], vectors: np.ndarray, metadata: Sequence[VectorMeta]) -> None:
        ext, x = checked_batch(ids, vectors, metadata, self.dim)
        rows = [self._row(int(i), v, meta) for i, v, meta in zip(ext, x, metadata, strict=True)]
        with self._lock.writing():
            for start in range(0, len(rows), _BATCH):
                self._client.upsert(self.collection, data=rows[start:start + _BATCH])
            self._seal()
            if self.requested == "auto" and self.kind == "flat" and len(self) >= self.ann_threshold:
                log.info("%d vectors reached ann_threshold=%d: re-indexing as %s",
                         len(self), self.ann_threshold, AUTO_ANN)
                self._reindex(AUTO_ANN)

    def remove(self, ids: Sequence[int]) -> None:
        ext = [int(i) for i in np.asarray(ids, dtype=np.int64).reshape(-1)]
        if ext:
            with self._lock.writing():
                self._client.delete(self.collection, ids=ext)
                self._seal()

    def search(self, vectors: np.ndarray, k: int, where: SearchFilter | None = None
               ) -> list[list[tuple[int, float]]]:
        q = unit_rows(vectors, self.dim, "query vectors")
        expression = filter_expression(where)
        if k <= 0 or not len(q) or expression is None:
            return [[] for _ in range(len(q))]
        index_type = MILVUS_KINDS[self.kind]
        if index_type.startswith("HNSW"):
            search_params = {"ef": max(self.params.hnsw_ef_search, k)}
        elif index_type.startswith("IVF"):
            search_params = {"nprobe": self.params.ivf_nprobe}
        else:
            search_params = {}
        with self._lock.reading():
            hits = self._client.search(
                self.collection, data=list(q), anns_field=_VECTOR, limit=min(k, _MAX_TOPK),
                filter=expression, output_fields=["id"], consistency_level="Strong",
                search_params={"metric_type": "IP", "params": search_params},
            )
        return [[(int(hit["id"]), float(hit["distance"])) for hit in row] for row in hits]

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        manifest = {
            "backend": "milvus", "dim": self.dim, "collection": self.collection,
            "uri": self._uri if self._server else None, "db": None if self._server else DB_NAME,
            "index": self.kind, "requested": self.requested, "ann_threshold": self.ann_threshold,
            "params": asdict(self.params),
        }
        with self._lock.writing():
            if not self._server:
                self._restart_lite(lambda: _copy_db(Path(self._uri), directory / DB_NAME))
            (directory / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, manifest: dict, milvus_uri: str | None = None, **tunables: object
             ) -> MilvusStore:
        """Open what save() wrote: a private copy of directory/milvus.db, or the server's collection."""
        saved = {f.name: manifest["params"][f.name] for f in fields(IndexParams) if f.name in manifest["params"]}
        params = IndexParams(**{**saved, **tunables})
        common = dict(collection=manifest["collection"], kind=manifest["requested"],
                      ann_threshold=manifest["ann_threshold"], params=params, _existing=True)
        uri = milvus_uri or manifest["uri"]
        if uri and is_server_uri(uri):
            return cls(manifest["dim"], uri=uri, **common)
        source = Path(directory) / manifest["db"]
        if not source.exists():
            raise FileNotFoundError(f"{source} is missing: rebuild the index")
        workdir = Path(tempfile.mkdtemp(prefix="rag-milvus-"))
        _copy_db(source, workdir / DB_NAME)
        return cls(manifest["dim"], uri=str(workdir / DB_NAME), _workdir=workdir, **common)

    # ---- internals ----------------------------------------------------------------------------

    def _create_collection(self) -> None:
        from pymilvus import DataType, MilvusClient, MilvusException

        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field(_VECTOR, DataType.FLOAT_VECTOR, dim=self.dim)
        for name, max_length in _TEXT_FIELDS.items():
            schema.add_field(name, DataType.VARCHAR, max_length=max_length)
        try:
            self._client.create_collection(self.collection, schema=schema, index_params=self._index_params(),
                                           consistency_level="Strong")
        except MilvusException as exc:
            if "invalid index type" not in str(exc):
                raise
            if self._client.has_collection(self.collection):  # created before its index was refused
                self._client.drop_collection(self.collection)
            raise ValueError(f"the Milvus at {self._uri} has no {MILVUS_KINDS[self.kind]} index (HNSW_SQ needs "
                             "Milvus 2.5 or later): choose another milvus_index") from exc

    def _index_params(self):  # -> pymilvus IndexParams
        index_type, spec = _index_spec(self.kind, self.params, self.dim)
        index_params = self._client.prepare_index_params()
        index_params.add_index(_VECTOR, index_type=index_type, metric_type="IP", params=spec)
        return index_params

    def _current_kind(self) -> str:
        index_type = self._client.describe_index(self.collection, _VECTOR)["index_type"]
        by_type = {v: k for k, v in MILVUS_KINDS.items()}
        if index_type not in by_type:
            raise ValueError(f"collection {self.collection!r} has a {index_type} index, which this tool "
                             f"does not search; rebuild the index")
        return by_type[index_type]

    def _seal(self) -> None:
        """Make milvus-lite search new rows through the index: it searches unflushed rows, and
        flushed ones until its background thread has indexed them, by brute force in Python
        (about 1 s a query at 20k rows). A restart drains that thread. A server needs none of it."""
        if not self._server:
            self._restart_lite(lambda: None)

    def _restart_lite(self, while_stopped: Callable[[], None]) -> None:
        """Stop milvus-lite (closing it flushes, drains its background compaction and index
        builds, and leaves consistent files), run `while_stopped`, and start it again."""
        from pymilvus import MilvusClient

        self._client.close()
        _release_lite(Path(self._uri), None)
        while_stopped()
        self._client = MilvusClient(uri=self._uri)
        self._client.load_collection(self.collection)

    def _reindex(self, kind: str) -> None:
        self.kind = kind
        self._client.release_collection(self.collection)
        self._client.drop_index(self.collection, _VECTOR)
        self._client.create_index(self.collection, self._index_params())
        self._client.load_collection(self.collection)

    def _row(self, chunk_id: int, vector: np.ndarray, meta: VectorMeta) -> dict:
        row = {"id": chunk_id, _VECTOR: vector, "doc_id": meta.doc_id, "lang": meta.lang,
               "source": meta.source or "", "date": meta.date or "", "path": meta.path}
        for name, max_length in _TEXT_FIELDS.items():
            if len(row[name].encode()) > max_length:
                raise ValueError(f"chunk {chunk_id}: {name} is longer than the {max_length} bytes "
                                 f"the Milvus schema allows")
        return row
