"""The package as a user installs it: every folder of rag/ is in the wheel, and `rag eval` works from an empty
folder on a non-editable install (no checkout on sys.path, no top-level eval/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "rag").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    folders |= {"rag.seeds"}
    assert folders == listed


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with `pip install .` (not editable); the dependencies are this environment's, seen through a
    .pth file, so that no network is needed."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-build-isolation", "--no-index", str(ROOT)], check=True, capture_output=True, timeout=600)
    return venv


def _run(venv: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "RAG_CONFIG"}}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_an_installed_package_is_its_own_and_carries_the_seeds(installed: Path, tmp_path: Path):
    done = _run(installed, [str(installed / "bin" / "python"), "-c",
                            "import rag, rag.paths; print(rag.__file__); "
                            "print(len(list(rag.paths.default_corpus().glob('*.txt'))))"], tmp_path)
    assert done.returncode == 0, done.stderr
    module, seeds = done.stdout.split()
    assert Path(module).is_relative_to(installed) and int(seeds) == 5


@pytest.mark.slow
def test_rag_eval_works_from_an_empty_folder_when_installed(installed: Path, tmp_path: Path):
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    articles = [
        {"id": "a", "title": "Xiamen social workers", "text": "At present, there are 11,265 certified social "
         "workers in Xiamen, 21.22 per 10,000 people, ranking first in the country."},
        {"id": "b", "title": "漯河敲门行动", "text": "漯河市民政局组织社工开展敲门行动，走访困难群众三千余户。"},
        {"id": "c", "title": "Weather", "text": "Rain is expected across the coast this weekend, with cooler air."},
    ]
    questions = [
        {"id": "q1", "question": "How many certified social workers does Xiamen have?", "answers": ["11,265"],
         "gold_ids": ["a"]},
        {"id": "q2", "question": "漯河的社工走访了多少户？", "answers": ["三千余户"], "gold_ids": ["b"]},
    ]
    for name, rows in (("corpus.jsonl", articles), ("queries.jsonl", questions)):
        (dataset / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    done = _run(installed, [str(installed / "bin" / "rag"), "eval", str(dataset), "--out", "reports"], empty)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "recall@1" in done.stdout
    report = json.loads((empty / "reports" / "dataset.json").read_text(encoding="utf-8"))
    assert report["summary"]["overall"]["n"] == 2
