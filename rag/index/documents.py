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
    took most of opening 1M chunks (600 MB of text), of which a search reads a few. Its texts cannot be reassigned
    (an index replaces a document, it never edits one); copies and pickles of it are plain `Document`s."""

    def __init__(self, values: dict[str, Any], blob: mmap.mmap | bytes, ranges: tuple[int, int, int, int]) -> None:
        vars(self).update(values)  # not the dataclass's __init__: every field but the texts, as written
        self._blob, self._ranges = blob, ranges

    @property
    def text(self) -> str:  # type: ignore[override]
        if "_text" not in vars(self):
            start, end = self._ranges[:2]
            self._text = self._blob[start:end].decode("utf-8")
        return self._text

    @property
    def original(self) -> str:  # type: ignore[override]
        if self._ranges[2:] == self._ranges[:2]:
            return self.text
        if "_original" not in vars(self):
            start, end = self._ranges[2:]
            self._original = self._blob[start:end].decode("utf-8")
        return self._original

    def encoded(self) -> tuple[bytes, bytes | None]:
        """The text and the original (None: the same as the text) as UTF-8, without decoding them."""
        text, original = self._ranges[:2], self._ranges[2:]
        return self._blob[slice(*text)], None if original == text else self._blob[slice(*original)]

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
    """documents.json and texts.bin + texts.npy into `folder` (see the module docstring)."""
    ranges: list[tuple[int, ...]] = []
    with (folder / "texts.bin").open("wb") as blob:

        def stored(data: bytes) -> tuple[int, int]:
            start = blob.tell()
            blob.write(data)
            return start, blob.tell()

        for doc in documents:
            if isinstance(doc, StoredDocument):
                text_bytes, original_bytes = doc.encoded()
            else:
                text_bytes = doc.text.encode("utf-8")
                original_bytes = None if doc.original == doc.text else doc.original.encode("utf-8")
            text = stored(text_bytes)
            ranges.append(text + (text if original_bytes is None else stored(original_bytes)))
    np.save(folder / "texts.npy", np.array(ranges, dtype=np.int64).reshape(-1, 4))
    columns = {name: [getattr(d, name) for d in documents] for name in COLUMNS}
    (folder / "documents.json").write_text(json.dumps(columns, ensure_ascii=False), encoding="utf-8")


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
        documents[row["id"]] = StoredDocument(row, blob, tuple(text_ranges))
    return documents
