"""From paths to `Document`s: find files, read, segment, clean, mark duplicates.

- `iter_files(paths)`, `file_hash(path)` (rag/ingest/files.py) -> the supported files under the given files and
  folders, sorted; the sha256 of a file's bytes.
- `load_file(path)` -> the documents of one file (articles, or .jsonl lines), or IngestError;
  `load_file_result(path)` also returns the skipped .jsonl lines as errors.
- `make_ids_unique(docs, seen)` -> renames one file's documents whose ids another file took.
- `load_documents(paths)` -> IngestResult: every readable file's documents (duplicates marked)
  and the errors of the files and .jsonl lines that were skipped.
- `mark_stories(docs, judged)` -> marks duplicates among the documents not judged yet (`dedup`), then dates undated
  articles (`dates`), in place; returns the documents' `ShingleIndex`, which an update judges new documents with.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest.clean import clean_text, clean_title
from rag.ingest.dates import infer_dates
from rag.ingest.dedup import ShingleIndex
from rag.ingest.errors import IngestError
from rag.ingest.files import iter_files
from rag.ingest.loaders import (
    JsonlLineError,
    check_size,
    iter_jsonl,
    read,
)
from rag.ingest.meta import parse_date
from rag.ingest.segment import segment
from rag.lang.text import detect_language, split_sentences
from rag.types import Document

log = logging.getLogger(__name__)

_FALLBACK_TITLE_CHARS = 48
_LANGS = {"en", "zh-hans", "zh-hant", "other"}


@dataclass
class IngestResult:
    documents: list[Document] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)


def _fallback_title(text: str) -> str:
    spans = split_sentences(text)
    first = text[spans[0][0] : spans[0][1]] if spans else text.strip()
    if len(first) > _FALLBACK_TITLE_CHARS:
        first = first[:_FALLBACK_TITLE_CHARS].rstrip() + "…"
    return first


def _load(path: Path, max_file_mb: float) -> tuple[list[Document], list[IngestError]]:
    path = Path(path)
    if not path.is_file():
        raise IngestError(path, "no such file")
    check_size(path, max_file_mb)
    if path.suffix.lower() == ".jsonl":
        return _load_jsonl(path)
    loaded = read(path)
    if len(loaded.text) > max_file_mb * 1024 * 1024:  # a small .docx or .pdf can unpack to far more text
        raise IngestError(path, f"the file unpacks to {len(loaded.text) / 1024 / 1024:.1f} M characters of text, over "
                                f"the {max_file_mb:g} MB limit (max_file_mb)")
    docs = []
    for article in segment(loaded.text, default_title=loaded.title, default_date=parse_date(loaded.date)):
        text = clean_text(article.body) or clean_text(article.title)
        if not text:
            continue
        start, end = article.span
        docs.append(
            Document(
                id=f"{path.stem}#{len(docs) + 1}",
                title=article.title or _fallback_title(text),
                text=text,
                original=loaded.text[start:end],
                date=article.date,
                source=article.source,
                lang=detect_language(text),
                path=str(path),
                span=article.span,
                page_headlines=article.page_headlines,
            )
        )
    if not docs:
        raise IngestError(path, "no text found in the file")
    return docs, []


def _load_jsonl(path: Path) -> tuple[list[Document], list[IngestError]]:
    docs: list[Document] = []
    errors: list[IngestError] = []
    for item in iter_jsonl(path):
        if isinstance(item, JsonlLineError):
            errors.append(IngestError(f"{path}:{item.line_no}", item.reason))
            continue
        text = clean_text(item.text)
        if not text:
            errors.append(IngestError(f"{path}:{item.line_no}", "the text is empty after cleaning"))
            continue
        lang = item.lang if item.lang in _LANGS else detect_language(text)
        docs.append(
            Document(
                id=item.id or f"{path.stem}#{item.line_no}",
                title=clean_title([item.title]) if item.title else _fallback_title(text),
                text=text,
                original=item.text,
                date=parse_date(item.date),
                source=item.source,
                lang=lang,
                path=str(path),
                span=item.span,
                url=item.url,
            )
        )
    if not docs:
        reasons = f" ({errors[0].reason})" if errors else ""
        raise IngestError(path, f"no valid article line in the .jsonl file{reasons}")
    return docs, errors


def load_file_result(path: Path, max_file_mb: float = 50.0) -> IngestResult:
    """Like load_file, but the skipped .jsonl lines come back in `.errors` instead of the log only.

    The file as a whole still raises IngestError when it cannot be read.
    """
    docs, line_errors = _load(Path(path), max_file_mb)
    return IngestResult(docs, line_errors)


def load_file(path: Path, max_file_mb: float = 50.0) -> list[Document]:
    """The documents of one file; IngestError(path, reason) when the file cannot be read.

    Articles get ids `<file stem>#<n>` (n from 1 in file order); .jsonl lines keep their `id`
    (else `<stem>#<line number>`), and bad .jsonl lines are logged and skipped.
    `span` and `original` refer to the file's decoded text (for HTML, PDF and DOCX: the text
    extracted from it); for .jsonl, `span` is the line's span and `original` its "text" field.
    """
    docs, line_errors = _load(Path(path), max_file_mb)
    for err in line_errors:
        log.warning("skipped line %s", err)
    return docs


def _with_suffix(doc_id: str, k: int) -> str:
    """`news#1` -> `news~2#1` (the stem made unique); an id without `#` gets `~2` at the end."""
    stem, sep, n = doc_id.rpartition("#")
    return f"{stem}~{k}{sep}{n}" if sep else f"{doc_id}~{k}"


def make_ids_unique(docs: list[Document], seen: set[str]) -> None:
    """Rename one file's documents whose ids are in `seen` (then add them to it), in place.

    The whole file gets the same suffix (`news#1` -> `news~2#1`), so its articles stay numbered
    together; ids repeated inside one .jsonl file get their own (`x`, `x~2`, `x~3`).
    """
    if any(d.id in seen for d in docs):
        k = 2
        while any(_with_suffix(d.id, k) in seen for d in docs):
            k += 1
        log.warning("ids of %s are already taken by another file; renamed %s -> %s",
                    docs[0].path, docs[0].id, _with_suffix(docs[0].id, k))
        for d in docs:
            d.id = _with_suffix(d.id, k)
    for d in docs:  # ids repeated inside one .jsonl file
        base, k = d.id, 2
        while d.id in seen:
            d.id, k = _with_suffix(base, k), k + 1
        seen.add(d.id)


def mark_stories(documents: list[Document], duplicate_threshold: float = 0.6, judged: ShingleIndex | None = None,
                 again: Collection[int] = ()) -> ShingleIndex:
    """Mark the copies of each story (`duplicate_of`) among the documents `judged` does not hold yet (all of them
    when it is None) and the rows `again`, then date the undated documents from their lead, a dated copy or a dated
    page listing them (`date_inferred`), in place. `documents`: all of them, in row order. Returns their index."""
    judged = judged if judged is not None else ShingleIndex.empty()
    shingle_index = judged.judge(documents, duplicate_threshold, again)
    infer_dates(documents, new_from=len(judged))
    return shingle_index


def load_documents(
    paths: Sequence[str | Path], max_file_mb: float = 50.0, duplicate_threshold: float = 0.6
) -> IngestResult:
    """Ingest every supported file under `paths`; unreadable files are logged, collected and skipped.

    A missing path raises IngestError (see iter_files). Document ids are made unique: a file
    whose ids are taken by an earlier one gets its stem suffixed (`news#1` -> `news~2#1`); then
    duplicates are marked and undated articles dated (mark_stories).
    """
    result = IngestResult()
    seen: set[str] = set()
    for path in iter_files(paths):
        try:
            docs, line_errors = _load(path, max_file_mb)
        except IngestError as err:
            log.warning("skipped %s", err)
            result.errors.append(err)
            continue
        for err in line_errors:
            log.warning("skipped line %s", err)
        result.errors.extend(line_errors)
        make_ids_unique(docs, seen)
        result.documents.extend(docs)
    mark_stories(result.documents, duplicate_threshold)
    log.info(
        "ingested %d documents from %d files (%d skipped)",
        len(result.documents),
        len({d.path for d in result.documents}),
        len(result.errors),
    )
    return result
