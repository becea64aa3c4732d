"""`IngestError`: a file (or one line of a .jsonl file) that could not be ingested, and why."""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """Raised or collected for a file that cannot be read; `str()` is "path: reason"."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple[type[IngestError], tuple[str, str]]:
        return IngestError, (self.path, self.reason)
