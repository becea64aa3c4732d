"""Ingestion: messy files in, clean segmented `Document`s out.

    from rag.ingest import load_documents
    result = load_documents(["seeds/"])        # IngestResult(documents, errors)

Formats: .txt .md .html/.htm .pdf .docx .jsonl. Modules: `files` (which files paths name, their digests),
`loaders` (format -> text, encodings, size limit), `clean` (one function per cleaning rule), `segment` (a file's
text -> articles with title/date/source/span), `dedup` (same story in another file or script), `dates` (dates for
undated articles, from their lead, a copy or a dated page listing them), `pipeline` (the API).
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.ingest.dedup import ShingleIndex, find_duplicates
    from rag.ingest.errors import IngestError
    from rag.ingest.files import file_hash, iter_files
    from rag.ingest.pipeline import (
        IngestResult,
        load_documents,
        load_file,
        load_file_result,
        make_ids_unique,
        mark_stories,
    )

# Where each name lives. They are imported on first use: opening an index and asking need the duplicate index but
# not the loaders and cleaning rules (a tenth of a cold `rag ask`'s imports).
_HOMES = {
    "IngestError": "errors",
    "ShingleIndex": "dedup",
    "find_duplicates": "dedup",
    "file_hash": "files",
    "iter_files": "files",
    **dict.fromkeys(["IngestResult", "load_documents", "load_file", "load_file_result", "make_ids_unique",
                     "mark_stories"], "pipeline"),
}

__all__ = [
    "IngestError",
    "IngestResult",
    "ShingleIndex",
    "file_hash",
    "find_duplicates",
    "iter_files",
    "load_documents",
    "load_file",
    "load_file_result",
    "make_ids_unique",
    "mark_stories",
]


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'rag.ingest' has no attribute {name!r}")
    value = getattr(import_module(f"rag.ingest.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
