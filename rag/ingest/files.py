"""Which files a list of paths names, and what each holds: the part of ingestion an update runs on unchanged files.

In: files and folders. Out: the supported files among and under them, sorted (`iter_files`); a file's sha256
(`file_hash`). Kept apart from reading and cleaning (rag/ingest/pipeline.py) so that checking a folder for changes,
as every `RAG.open_default()` does, loads nothing else.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from rag.ingest.errors import IngestError
from rag.ingest.loaders import SUPPORTED_SUFFIXES

log = logging.getLogger(__name__)


def _supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES and not path.name.startswith((".", "~$"))


def iter_files(paths: Sequence[str | Path], follow_symlinks: bool = False,
               errors: list[IngestError] | None = None) -> list[Path]:
    """Supported files among `paths` and (recursively) in the folders among them, sorted.

    Hidden files and folders are skipped, and so are symbolic links that lead out of the folder being walked,
    unless `follow_symlinks`. A folder that cannot be read is reported in `errors` (logged when None) and the
    rest is still walked. A path that does not exist, or a file named explicitly in an unsupported format,
    raises IngestError.
    """
    found: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.update(_walk(path, follow_symlinks, errors))
        elif path.is_file():
            if not _supported(path):
                raise IngestError(
                    path, f"unsupported format; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
                )
            found.add(path)
        else:
            raise IngestError(path, "no such file or folder")
    return sorted(found, key=str)


def _walk(root: Path, follow_symlinks: bool, errors: list[IngestError] | None) -> list[Path]:
    def unreadable(exc: OSError) -> None:
        error = IngestError(exc.filename or root, f"cannot read the folder: {exc.strerror or exc}")
        if errors is None:
            log.warning("skipped %s", error)
        else:
            errors.append(error)

    inside = root.resolve()
    found = []
    for folder, dirs, names in os.walk(root, onerror=unreadable, followlinks=follow_symlinks):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            child = Path(folder) / name
            if not _supported(child) or not child.is_file():
                continue
            if not follow_symlinks and child.is_symlink() and not child.resolve().is_relative_to(inside):
                log.info("not following %s: the link leads out of %s", child, root)
                continue
            found.append(child)
    return found


def file_hash(path: Path) -> str:
    """sha256 hex digest of the file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
