"""Turn what a user types or uploads in the UI into safe arguments for `RAG`: pure, no Gradio.

- `build_filter(sources, langs, date_from, date_to)` -> `SearchFilter | None` (None: no restriction);
  raises `ValueError` saying what to type when a date is malformed or the range is empty.
- `sanitize_filename(name)` -> a plain basename safe to create in a directory (no path parts,
  no control or shell-special characters, bounded length, the extension kept).
- `stage_uploads(paths, dest, max_mb)` -> `StagedUploads`: copies each acceptable upload into
  `dest` under its sanitised, de-duplicated name; refused files (too large, unsupported type,
  unreadable) are listed with the reason and never stop the others.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest.loaders import SUPPORTED_SUFFIXES
from rag.store.base import SearchFilter, is_date_prefix

UPLOAD_SUFFIXES = tuple(sorted(SUPPORTED_SUFFIXES))  # what ingestion reads: .txt .md .html .pdf .docx .jsonl ...
LANGUAGES = ("en", "zh-hans", "zh-hant")
MAX_NAME_CHARS = 120

_UNSAFE = re.compile(r"[^\w.\- ]+")


def parse_date(text: str | None, which: str) -> str | None:
    """An ISO date prefix ("2023", "2023-03" or "2023-03-22"), or None for an empty box."""
    value = (text or "").strip()
    if not value:
        return None
    if not is_date_prefix(value):
        raise ValueError(f"{which} date {value!r} is not understood: type YYYY, YYYY-MM or YYYY-MM-DD, "
                         f"or leave it empty")
    return value


def build_filter(
    sources: Sequence[str] | None,
    langs: Sequence[str] | None,
    date_from: str | None,
    date_to: str | None,
) -> SearchFilter | None:
    """A `SearchFilter` from the settings panel; empty choices, and all languages ticked, mean "any"."""
    start = parse_date(date_from, "From")
    end = parse_date(date_to, "To")
    if start and end and start[: len(end)] > end:
        raise ValueError(f"The date range {start} .. {end} is empty: the 'from' date must not be after "
                         f"the 'to' date")
    picked_sources = tuple(s for s in (sources or ()) if s)
    picked_langs = tuple(lang for lang in (langs or ()) if lang)
    if set(picked_langs) >= set(LANGUAGES):
        picked_langs = ()
    if not (picked_sources or picked_langs or start or end):
        return None
    return SearchFilter(
        langs=picked_langs or None,
        sources=picked_sources or None,
        date_from=start,
        date_to=end,
    )


def describe_filter(filters: SearchFilter | None) -> str:
    """A short human summary of a filter, "" for none."""
    if filters is None:
        return ""
    parts = []
    if filters.sources:
        parts.append("outlets: " + ", ".join(filters.sources))
    if filters.langs:
        parts.append("languages: " + ", ".join(filters.langs))
    if filters.date_from or filters.date_to:
        parts.append(f"dates: {filters.date_from or '…'} .. {filters.date_to or '…'}")
    return "; ".join(parts)


def sanitize_filename(name: str) -> str:
    """Reduce an uploaded file's name to a safe basename.

    Any directory part (either slash) is dropped, the name is NFKC-normalised, characters other
    than letters (any script), digits, '.', '-', '_' and space become '_', leading dots and
    surrounding spaces are stripped (no hidden files, no '..'), and the stem is shortened so the
    whole name fits in `MAX_NAME_CHARS`. An empty result becomes "upload" (+ the extension).
    """
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" ").lstrip(".")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = suffix[:16]
    stem = stem.strip(" .") or "upload"
    limit = MAX_NAME_CHARS - (len(suffix) + 1 if suffix else 0)
    stem = stem[:limit].rstrip(" .") or "upload"
    return f"{stem}.{suffix}" if suffix else stem


class UploadRejected(ValueError):
    """An upload that will not be indexed; the message says why and what to do."""


def check_upload(path: Path, max_mb: float) -> None:
    """Raise `UploadRejected` when the file's type is not supported or it exceeds `max_mb`."""
    if path.suffix.lower() not in UPLOAD_SUFFIXES:
        raise UploadRejected(f"unsupported file type {path.suffix or '(none)'!r}; "
                             f"upload one of {', '.join(UPLOAD_SUFFIXES)}")
    if not path.is_file():
        raise UploadRejected("the upload is not a readable file; upload it again")
    size_mb = path.stat().st_size / (1024 * 1024)
    if size_mb > max_mb:
        raise UploadRejected(f"{size_mb:.1f} MB is over the {max_mb:g} MB upload limit "
                             f"(setting max_upload_mb); split the file or index it with `rag index`")


@dataclass
class StagedUploads:
    """Uploads copied into a staging directory, and those refused as "name: reason"."""

    files: list[Path] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def stage_uploads(paths: Sequence[str | Path], dest: Path, max_mb: float) -> StagedUploads:
    """Copy each acceptable upload into `dest` under a sanitised name that no other upload uses."""
    staged = StagedUploads()
    taken: set[str] = set()
    for raw in paths:
        source = Path(raw)
        name = sanitize_filename(source.name)
        try:
            check_upload(source, max_mb)
        except UploadRejected as exc:
            staged.rejected.append(f"{name}: {exc}")
            continue
        target_name = name
        stem, suffix = Path(name).stem, Path(name).suffix
        counter = 2
        while target_name.lower() in taken:
            target_name = f"{stem} ({counter}){suffix}"
            counter += 1
        taken.add(target_name.lower())
        target = dest / target_name
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            staged.rejected.append(f"{name}: could not be copied ({exc.strerror or exc}); upload it again")
            continue
        staged.files.append(target)
    return staged
