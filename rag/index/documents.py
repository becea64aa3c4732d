"""The documents of an index generation on disk, and read back.

In (writing): the documents, in row order. Out: `documents.json` (every field but the texts, a list per field: one
json.loads at open, not one per document) and `texts.bin` + `texts.npy` (the texts, UTF-8, one after the other, and
each document's byte ranges of its text and original: one range when they are the same). Read back, each is a
`StoredDocument`, whose texts stay in the memory-mapped `texts.bin` until first read and go into the next generation
as the bytes they are.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Collection
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from rag.types import Document

COLUMNS = tuple(f.name for f in fields(Document) if f.name not in ("text", "original"))  # documents.json


class StoredDocument(Document):
    """A `Document` read from a generation whose `text` and `original` are decoded when first read: decoding them all
    took most of opening 1M chunks (600 MB of text), of which a search reads a few. Otherwise a `Document`:
    assigning a text, `dataclasses.replace` and copies work as on one (copies and pickles are plain `Document`s)."""

    @classmethod
    def read(cls, values: dict[str, Any], blob: mmap.mmap | bytes, ranges: tuple[int, int, int, int]
             ) -> StoredDocument:
        """The document of `values` (every field but the texts, as written), its texts at `ranges` of `blob`."""
        doc = cls.__new__(cls)  # not the dataclass's __init__: the texts are not given
        vars(doc).update(values, _blob=blob, _ranges=ranges)
        return doc

    @property
    def text(self) -> str:  # type: ignore[override]
        if "_text" not in vars(self):
            start, end = self._ranges[:2]
            self._text = self._blob[start:end].decode("utf-8")
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._detach()
        self._text = value

    @property
    def original(self) -> str:  # type: ignore[override]
        if "_original" not in vars(self):
            start, end = self._ranges[2:]
            self._original = self.text if (start, end) == self._ranges[:2] else self._blob[start:end].decode("utf-8")
        return self._original

    @original.setter
    def original(self, value: str) -> None:
        self._detach()
        self._original = value

    def _detach(self) -> None:
        """Before a text is assigned: read the other one, and forget the file (its bytes no longer hold both)."""
        if "_blob" in vars(self):
            self.text, self.original  # noqa: B018 - decoded by being read
            del self._blob, self._ranges

    def stored(self) -> tuple[mmap.mmap | bytes, tuple[int, int, int, int]] | None:
        """The file's bytes this document was read from and its byte ranges of them (text, original); None once a
        text was assigned."""
        return (self._blob, self._ranges) if "_blob" in vars(self) else None

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(Document)}
        return {**values, "page_headlines": list(self.page_headlines)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Document):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Document))

    __hash__ = None  # type: ignore[assignment]  # as a Document: mutable, compared by value

    def __reduce__(self) -> tuple[Any, ...]:
        return Document.from_dict, (self.to_dict(),)


def write_documents(folder: Path, documents: Collection[Document]) -> None:
    """documents.json and texts.bin + texts.npy into `folder` (see the module docstring). The texts of documents read
    from a generation are copied from its file as they are, a run of neighbours at a time (at 100k chunks, one copy
    instead of 25k encodes)."""
    pieces = _Pieces()
    ranges: list[tuple[int, ...]] = []
    for doc in documents:
        if isinstance(doc, StoredDocument) and (stored := doc.stored()) is not None:
            blob, (a, b, c, d) = stored
            text = pieces.take(blob, a, b)
            ranges.append(text + (text if (c, d) == (a, b) else pieces.take(blob, c, d)))
        else:
            text = pieces.take(encoded := doc.text.encode("utf-8"), 0, len(encoded))
            original = doc.original.encode("utf-8") if doc.original != doc.text else None
            ranges.append(text + (text if original is None else pieces.take(original, 0, len(original))))
    pieces.write(folder / "texts.bin")
    np.save(folder / "texts.npy", np.array(ranges, dtype=np.int64).reshape(-1, 4))
    columns = {name: [getattr(d, name) for d in documents] for name in COLUMNS}
    (folder / "documents.json").write_text(json.dumps(columns, ensure_ascii=False), encoding="utf-8")


class _Pieces:
    """The bytes of a texts.bin being written, as pieces of other buffers; neighbouring pieces of one buffer merge."""

    def __init__(self) -> None:
        self.pieces: list[list[Any]] = []  # [buffer, start, end]
        self.size = 0

    def take(self, buffer: mmap.mmap | bytes, start: int, end: int) -> tuple[int, int]:
        """Append buffer[start:end]; its range in the file written."""
        last = self.pieces[-1] if self.pieces else None
        if last is not None and last[0] is buffer and last[2] == start:
            last[2] = end
        else:
            self.pieces.append([buffer, start, end])
        self.size += end - start
        return self.size - (end - start), self.size

    def write(self, path: Path) -> None:
        with path.open("wb") as out:
            for buffer, start, end in self.pieces:
                with memoryview(buffer) as view:
                    out.write(view[start:end])


def read_documents(generation: Path) -> dict[str, Document]:
    """What `write_documents` wrote into `generation`, by id, in order."""
    columns = json.loads((generation / "documents.json").read_text(encoding="utf-8"))
    columns["span"] = [tuple(span) for span in columns["span"]]
    ranges = np.load(generation / "texts.npy").tolist()
    path = generation / "texts.bin"
    blob: mmap.mmap | bytes = b""  # an empty file cannot be mapped
    if path.stat().st_size:
        with path.open("rb") as fh:  # the map outlives the file object (and the file, once a later update removes it)
            blob = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    documents: dict[str, Document] = {}
    for values, text_ranges in zip(zip(*columns.values(), strict=True), ranges, strict=True):
        row = dict(zip(columns, values, strict=True))
        documents[row["id"]] = StoredDocument.read(row, blob, tuple(text_ranges))
    return documents
