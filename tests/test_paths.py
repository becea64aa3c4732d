"""Where things live: a file's identity in an index and the default index do not depend on the working directory;
cached files named by content, their stale siblings pruned."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from rag import paths
from rag.api import RAG
from rag.settings import Settings, default_paths
from tests.conftest import ROOT, SEEDS


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder holding a corpus (two seed files) beside where its index goes."""
    corpus = tmp_path / "project" / "articles"
    corpus.mkdir(parents=True)
    for name in ("000_a28a2c41f418ff44.txt", "002_d62f986f0cf1fb0a.txt"):
        shutil.copy(SEEDS / name, corpus / name)
    return tmp_path / "project"


def test_a_file_is_named_from_the_folder_holding_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("x", encoding="utf-8")
    index = tmp_path / "index"
    assert paths.file_key(tmp_path / "a" / "x.txt", index) == "a/x.txt"
    monkeypatch.chdir(tmp_path / "a")
    assert paths.file_key(Path("x.txt"), index) == "a/x.txt"
    elsewhere = tmp_path.parent / f"{tmp_path.name}-other.txt"
    assert paths.file_key(elsewhere, index) == elsewhere.resolve().as_posix()


def test_updating_from_another_folder_finds_the_same_files(project: Path, tmp_path: Path, settings: Settings,
                                                          monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(project)
    built = RAG.build(["articles"], index_dir="index", settings=settings, progress=False)
    ids = sorted(d.id for d in built.documents())
    assert {d.path for d in built.documents()} == {"articles/000_a28a2c41f418ff44.txt",
                                                    "articles/002_d62f986f0cf1fb0a.txt"}
    elsewhere = tmp_path / "notebook"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    reopened = RAG.open(project / "index", settings)
    report = reopened.add([project / "articles"], progress=False)
    assert report.added == [] and len(report.skipped) == 2
    assert sorted(d.id for d in RAG.open(project / "index", settings).documents()) == ids


def test_an_index_keyed_by_the_old_working_directory_is_recognised(project: Path, tmp_path: Path,
                                                                   settings: Settings,
                                                                   monkeypatch: pytest.MonkeyPatch):
    """Indexes written before file keys named files as given, relative to the working directory of the time."""
    monkeypatch.chdir(project / "articles")
    RAG.build(["."], index_dir=tmp_path / "idx", settings=settings, progress=False)
    generation = tmp_path / "idx" / (tmp_path / "idx" / "CURRENT").read_text().strip()
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = {Path(k).name: v for k, v in manifest["files"].items()}  # as the old code wrote them
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    documents = json.loads((generation / "documents.json").read_text(encoding="utf-8"))
    documents["path"] = [Path(path).name for path in documents["path"]]
    (generation / "documents.json").write_text(json.dumps(documents), encoding="utf-8")
    reopened = RAG.open(tmp_path / "idx", settings)
    assert reopened.add(["."], progress=False).added == []
    assert len(reopened.documents()) == len(documents["path"])


def test_the_default_index_and_corpus_are_the_same_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    here = default_paths(Settings())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")  # another project's folder
    (tmp_path / "seeds").mkdir()
    assert default_paths(Settings()) == here == (ROOT / "index", [ROOT / "seeds"])
    # Settings that name other paths are taken as given, from the working directory.
    assert default_paths(Settings(index_dir="idx", corpus=["docs"])) == (Path("idx"), [Path("docs")])


def test_the_cache_root_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert paths.cache_root() == tmp_path / "rag"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert paths.cache_root() == Path(os.path.expanduser("~")) / ".cache" / "rag"


@pytest.mark.slow
def test_asking_from_another_folder_leaves_the_default_index_as_it_is(tmp_path: Path):
    """`from rag import ask` in a notebook outside the checkout: the same default index, nothing re-added."""
    import subprocess
    import sys

    script = ("import json; from rag import ask; from rag import api; ask('厦门有多少持证社工？'); "
              "print(json.dumps(sorted(d.id for d in api._default_rag.documents())))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for folder in (ROOT, tmp_path):
        done = subprocess.run([sys.executable, "-c", script], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert runs[0] == runs[1] and len(runs[0]) == 13
    assert not any("~" in doc_id for doc_id in runs[1])


def test_a_file_written_aside_replaces_the_old_one_whole_or_not_at_all(tmp_path: Path):
    target = tmp_path / "cache" / "table.json"
    paths.write_aside(target, lambda part: part.write_text("one", encoding="utf-8"))
    assert target.read_text(encoding="utf-8") == "one"

    def broken(part: Path) -> None:
        part.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        paths.write_aside(target, broken)
    assert target.read_text(encoding="utf-8") == "one"
    assert [p.name for p in target.parent.iterdir()] == ["table.json"]  # no part file left behind


def test_files_other_models_made_are_pruned_but_the_newest_and_names_from_before_content_keys_go(
        tmp_path: Path) -> None:
    keys = ["300-" + "9" * 16, "200-" + "a" * 16, "100-" + "b" * 16, "400-" + "c" * 16]  # newest first
    for age, key in enumerate(keys):
        for name in (f"tokenizer-han-{key}.json", f"tokenizer-han-{key}.ids.npy"):
            (tmp_path / name).write_text("x")
            os.utime(tmp_path / name, (10_000 - age, 10_000 - age))
    # Named by the model file's size and time, as before content keys: of the written kind and of others.
    old_names = ["tokenizer-han-71622400-1796645486.json", "tokenizer-71622400-1796601774.json",
                 "reader-2a3ca85c0c7f-22150490-1796645406.onnx", "facts-71622400-1796648947.json"]
    untouched = [f"tokenizer-ascii-400-{'c' * 16}.json", f".tokenizer-han-1-{'f' * 16}.json.123.part"]
    for name in [*old_names, *untouched]:
        (tmp_path / name).write_text("x")
    paths.write_cached(tmp_path / f"tokenizer-han-{keys[2]}.json", lambda part: part.write_text("new"))
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([*untouched, *(f"tokenizer-han-{key}.{suffix}" for key in keys[::2]
                                         for suffix in ("json", "ids.npy"))])
    assert (tmp_path / f"tokenizer-han-{keys[2]}.json").read_text() == "new"
