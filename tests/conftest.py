"""Shared fixtures: one real index over the seeds, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.api import RAG
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Defaults only: a developer's rag.toml or RAG_* variables must not change what tests see."""
    return Settings()


@pytest.fixture(scope="session")
def seeds_rag(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> RAG:
    return RAG.build([SEEDS], index_dir=tmp_path_factory.mktemp("seeds-index"), settings=settings, progress=False)
