"""Generations of an index directory: how a writer publishes a new index without losing another writer's work or a
reader's open.

In: an index directory. Out: `writer_lock(dir)` (one writer at a time, across processes: an exclusive `fcntl` lock
on `dir/LOCK`), `current(dir)` (the live generation named by `CURRENT`), `staging(dir)` (a fresh folder to write a
generation into) and `publish(dir, staged)` (rename it to `gen-NNNNNN-<random>`, point `CURRENT` at it atomically,
clean up).

A writer holds the lock from reading the live generation to publishing the next, so two writers serialise instead
of one overwriting the other. Names carry a random part, so a generation left behind by a killed writer never
collides with the next. Staging folders left by killed writers are removed under the lock (no live writer can own
them). The previous generation is kept, and older ones are removed only once their successor has been live for
`GRACE_SECONDS`, so that a reader that has just read `CURRENT` can still open what it names.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GRACE_SECONDS = 60.0
_GENERATION = re.compile(r"gen-(\d{6})(?:-[0-9a-f]+)?$")
_STAGING_PREFIX = ".tmp-gen-"


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index directory's writer lock (blocking until another process's write is done)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / "LOCK").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when the directory holds no index."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return index_dir / name if name else None


def staging(index_dir: Path) -> Path:
    """A new, empty folder inside `index_dir` to write a generation into (call under `writer_lock`)."""
    folder = index_dir / f"{_STAGING_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    return folder


def publish(index_dir: Path, staged: Path) -> Path:
    """Make `staged` the live generation (call under `writer_lock`); returns its final folder."""
    previous = current(index_dir)
    numbers = [int(m.group(1)) for p in index_dir.iterdir() if (m := _GENERATION.match(p.name))]
    final = index_dir / f"gen-{max(numbers, default=0) + 1:06d}-{secrets.token_hex(4)}"
    os.replace(staged, final)
    pointer = index_dir / f".CURRENT.{os.getpid()}.tmp"
    pointer.write_text(final.name, encoding="utf-8")
    os.replace(pointer, index_dir / "CURRENT")
    collect(index_dir, previous)
    return final


def collect(index_dir: Path, previous: Path | None, now: float | None = None) -> None:
    """Remove what no reader or writer can still need (call under `writer_lock`, `previous` being the generation
    that was live before the current one): staging folders and pointer files of killed writers; generations that
    were never live (a writer killed between its rename and `CURRENT`: those newer than `previous`); and older ones
    once `previous` has been live for `GRACE_SECONDS` (a reader that read `CURRENT` before `previous` went live
    has opened what it named by then). The live generation and `previous` are kept."""
    now = time.time() if now is None else now
    live = current(index_dir)
    for leftover in [*index_dir.glob(f"{_STAGING_PREFIX}*"), *index_dir.glob(".CURRENT.*.tmp")]:
        shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)
    if live is None:
        return
    kept = {live, previous}
    settled = previous is None or not previous.is_dir() or now - previous.stat().st_mtime > GRACE_SECONDS
    for generation in index_dir.iterdir():
        if not _GENERATION.match(generation.name) or generation in kept or not generation.is_dir():
            continue
        never_live = previous is not None and _number(generation) > _number(previous)
        if never_live or settled:
            shutil.rmtree(generation, ignore_errors=True)


def _number(generation: Path) -> int:
    match = _GENERATION.match(generation.name)
    return int(match.group(1)) if match else 0
