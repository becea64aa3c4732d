"""Where the tool keeps things, resolved the same way from any working directory.

In: the environment (`XDG_CACHE_HOME`) and where this package lies. Out: `cache_root()` (the one cache root:
embeddings, the parsed dictionary, the rebuilt engine), `project_root()` (the source checkout, or None for an
installed package), `default_corpus()` and `default_index()` (what `ask()` answers over), and `file_key()`, a file's
identity inside an index; `write_aside()`, how a cached file is replaced, `content_key()` and `write_cached()`, how
a cached file made from installed files is named by their content and its stale siblings pruned, and
`cpu_signature()`, what makes a cached file machine-specific.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag"


def project_root() -> Path | None:
    """The checkout this package runs from (it holds pyproject.toml and seeds/), or None when installed."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "seeds").is_dir() else None


def default_corpus() -> Path:
    """The seed articles: the checkout's seeds/, or the copy an installed package carries."""
    root = project_root()
    return root / "seeds" if root else PACKAGE_DIR / "seeds"


def default_index() -> Path:
    """The checkout's index/, or a folder in the cache for an installed package (site-packages is no place to write)."""
    root = project_root()
    return root / "index" if root else cache_root() / "default-index"


def file_key(path: Path, index_dir: Path) -> str:
    """A file's identity in the index at `index_dir`: its path from the folder holding the index when it lies below
    that folder (`seeds/a.txt` beside `index/`, so a checkout can move), else its absolute path. Never relative to
    the working directory, so that updating from elsewhere finds the same files."""
    resolved = path.resolve()
    base = index_dir.resolve().parent
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return resolved.as_posix()


def write_aside(path: Path, save: Callable[[Path], object]) -> None:
    """Write `path` through `save` (called with a file beside it), then rename that file over `path`: a concurrent or
    killed process never leaves half a file. Raises OSError (a read-only cache, a full disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        save(part)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


CACHE_KEEP = 2  # sources whose files are kept per kind: two installs with different models do not evict each other


def content_key(*sources: Path) -> str:
    """What names a cached file made from installed `sources`: their size and a digest of each one's first and last
    MiB, not their time. Keyed by time, each fresh install of the same files (a new venv, a CI run) found no file of
    its own and wrote another (the reader's cache: 788 MB after a week)."""
    stats = [source.stat() for source in sources]
    return _content_key(tuple(sources), tuple((s.st_size, s.st_mtime_ns) for s in stats))


@lru_cache(maxsize=16)
def _content_key(sources: tuple[Path, ...], stats: tuple[tuple[int, int], ...]) -> str:  # stats key the memo only
    digest = hashlib.blake2b(digest_size=8)
    for source, (size, _) in zip(sources, stats, strict=True):
        with source.open("rb") as fh:
            digest.update(fh.read(1 << 20))
            fh.seek(max(size - (1 << 20), 0))
            digest.update(fh.read())
    return f"{sum(size for size, _ in stats)}-{digest.hexdigest()}"


# A cached file's name: its kind, then the content key of the sources it was made from, then its suffixes. Before
# content keys, the key was the source's size and time in seconds; no version writes such names any more.
_CACHED_NAME = re.compile(r"(?P<kind>.+)-(?P<key>\d+-[0-9a-f]+)\.[^-]+")
_CONTENT_KEY = re.compile(r"\d+-[0-9a-f]{16}")


def write_cached(path: Path, save: Callable[[Path], object]) -> None:
    """`write_aside(path, save)` for a file named `<kind>-<content_key>.<suffix>`, then `prune_cache(path)`. Raises
    OSError."""
    write_aside(path, save)
    prune_cache(path)


def prune_cache(written: Path) -> None:
    """Remove the files of `written`'s kind that other sources made, but the newest (`CACHE_KEEP` sources in all,
    `written`'s among them), and the files of any kind named before content keys. Files other processes are writing
    (`.*.part`) are not touched."""
    kind, mine = _CACHED_NAME.fullmatch(written.name).group("kind", "key")
    groups: dict[str, list[Path]] = {}
    for path in written.parent.iterdir():
        name = _CACHED_NAME.fullmatch(path.name)
        if name is None or path.name.startswith("."):
            continue
        if not _CONTENT_KEY.fullmatch(name["key"]):
            path.unlink(missing_ok=True)
        elif name["kind"] == kind:
            groups.setdefault(name["key"], []).append(path)

    def newest(key: str) -> float:
        return max((p.stat().st_mtime for p in groups[key] if p.exists()), default=0.0)

    others = sorted((key for key in groups if key != mine), key=newest, reverse=True)
    for key in others[CACHE_KEEP - 1:]:
        for path in groups[key]:
            path.unlink(missing_ok=True)


@lru_cache(maxsize=1)
def cpu_signature() -> str:
    """What makes a build and its check machine-specific: the architecture, the CPU model and its vector flags."""
    model, flags = platform.processor(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not model:
                model = value.strip()
            elif key.strip() == "flags":
                flags = " ".join(sorted(f for f in value.split() if f.startswith(("avx", "fma", "amx"))))
                break
    except OSError:
        pass
    return f"{platform.machine()}|{model}|{flags}"


def utf8_encodable(text: str) -> bool:
    """Whether a file name can be written as UTF-8 (an index stores names so)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # surrogates: a name that was not UTF-8 on disk
        return False
    return True


def read_jsonl(path: Path) -> list[Any]:
    """The JSON value of each non-blank line of a UTF-8 JSON-lines file."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    """One JSON value a line (non-ASCII kept as it is), UTF-8."""
    with Path(path).open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
