"""Ingestion: messy files in, clean segmented `Document`s out.

    from rag.ingest import load_documents
    result = load_documents(["seeds/"])        # IngestResult(documents, errors)

Formats: .txt .md .html/.htm .pdf .docx .jsonl. Modules: `loaders` (format -> text, encodings,
size limit), `clean` (one function per cleaning rule), `segment` (a file's text -> articles with
title/date/source/span), `dedup` (same story in another file or script), `dates` (dates for undated
articles, from their lead, a copy or a dated page listing them), `pipeline` (the API).
"""

from rag.ingest.dedup import ShingleIndex, find_duplicates
from rag.ingest.errors import IngestError
from rag.ingest.pipeline import (
    IngestResult,
    file_hash,
    iter_files,
    load_documents,
    load_file,
    load_file_result,
    make_ids_unique,
    mark_stories,
)

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
