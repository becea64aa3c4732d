"""Where the tool keeps things, resolved the same way from any working directory.

In: the environment (`XDG_CACHE_HOME`) and where this package lies. Out: `cache_root()` (the one cache root:
embeddings, the parsed dictionary, the rebuilt engine), `project_root()` (the source checkout, or None for an
installed package), `default_corpus()` and `default_index()` (what `ask()` answers over), and `file_key()`, a file's
identity inside an index.
"""

from __future__ import annotations

import os
from pathlib import Path

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
