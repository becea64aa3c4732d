"""The package's layers (pyproject.toml, [tool.importlinter]): front ends > API > stages > question > language, each
importing only from those beneath it, and the language and question layers using no stage."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_every_layer_imports_only_from_the_layers_beneath_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the contracts name the package as the checkout holds it
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0
