"""rag/index/generations.py and the writes of rag/api.py: nothing lost to a concurrent writer, a killed writer or a
reader that opens during an update."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.api import RAG
from rag.index import generations
from rag.settings import Settings
from tests.conftest import ROOT, SEEDS


@pytest.fixture
def two_corpora(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    shutil.copy(SEEDS / "000_a28a2c41f418ff44.txt", first)
    shutil.copy(SEEDS / "002_d62f986f0cf1fb0a.txt", second)
    return first, second


def _ids(index: Path, settings: Settings) -> set[str]:
    return {d.id for d in RAG.open(index, settings).documents()}


@pytest.mark.slow
def test_two_processes_writing_one_index_keep_both(two_corpora: tuple[Path, Path], tmp_path: Path,
                                                   settings: Settings):
    index = tmp_path / "idx"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(corpus), "--index-dir", str(index)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for corpus in two_corpora]
    for writer in writers:
        _, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err.decode()[-2000:]
    alone = [_ids(tmp_path / f"alone-{n}", settings) for n in range(2)
             if RAG.build([two_corpora[n]], index_dir=tmp_path / f"alone-{n}", settings=settings, progress=False)]
    assert _ids(index, settings) == alone[0] | alone[1]


def test_a_writer_reads_what_another_published_before_writing(two_corpora: tuple[Path, Path], tmp_path: Path,
                                                              settings: Settings):
    first, second = two_corpora
    index = tmp_path / "idx"
    ours = RAG.open_or_create(index, settings)  # opened while the folder is empty
    theirs = RAG.open_or_create(index, settings)
    theirs.add([first], progress=False)
    ours.add([second], progress=False)  # a stale state: it must build on theirs
    expected = {d.id for d in RAG.build([first, second], index_dir=tmp_path / "both", settings=settings,
                                        progress=False).documents()}
    assert _ids(index, settings) == expected == {d.id for d in ours.documents()}


def test_a_writer_killed_before_switching_leaves_nothing_in_the_way(two_corpora: tuple[Path, Path],
                                                                     tmp_path: Path, settings: Settings,
                                                                     monkeypatch: pytest.MonkeyPatch):
    first, second = two_corpora
    index = tmp_path / "idx"
    rag = RAG.build([first], index_dir=index, settings=settings, progress=False)
    live = generations.current(index)
    real_replace = os.replace

    def killed_at_the_switch(src: str | Path, dst: str | Path) -> None:
        if Path(dst).name == "CURRENT":
            raise KeyboardInterrupt  # the process dies after renaming its generation, before CURRENT
        real_replace(src, dst)

    monkeypatch.setattr(generations.os, "replace", killed_at_the_switch)
    with pytest.raises(KeyboardInterrupt):
        rag.add([second], progress=False)
    monkeypatch.setattr(generations.os, "replace", real_replace)
    assert generations.current(index) == live and len(list(index.glob("gen-*"))) == 2  # an orphan is left
    reopened = RAG.open(index, settings)
    assert reopened.add([second], progress=False).added  # no "Directory not empty"
    assert _ids(index, settings) >= {d.id for d in RAG.open(index, settings).documents()}
    assert len(list(index.glob("gen-*"))) == 2  # the live one and its predecessor; the orphan is gone
    assert not list(index.glob(".CURRENT.*")) and not list(index.glob(".tmp-gen-*"))


def test_staging_leftovers_go_and_the_previous_generation_stays_for_readers(tmp_path: Path):
    index = tmp_path / "idx"
    with generations.writer_lock(index):
        names = []
        for _ in range(3):
            staged = generations.staging(index)
            (staged / "manifest.json").write_text("{}", encoding="utf-8")
            names.append(generations.publish(index, staged).name)
        killed = generations.staging(index)  # a writer killed while writing
        previous = index / names[1]
        generations.collect(index, previous)
        assert not killed.exists()
        left = sorted(p.name for p in index.glob("gen-*"))
        assert left == sorted(names)  # the oldest is kept until its successor has been live for a while
        generations.collect(index, previous, now=time.time() + generations.GRACE_SECONDS + 1)
        assert sorted(p.name for p in index.glob("gen-*")) == sorted(names[1:])
        assert generations.current(index).name == names[-1]


def test_a_reader_follows_a_generation_removed_while_it_opened(two_corpora: tuple[Path, Path], tmp_path: Path,
                                                               settings: Settings,
                                                               monkeypatch: pytest.MonkeyPatch):
    index = tmp_path / "idx"
    RAG.build([two_corpora[0]], index_dir=index, settings=settings, progress=False)
    real_current = generations.current
    calls = []

    def stale_first(index_dir: Path) -> Path | None:
        calls.append(index_dir)
        return index_dir / "gen-000000-gone" if len(calls) == 1 else real_current(index_dir)

    stale = index / "gen-000000-gone"
    stale.mkdir()
    (stale / "manifest.json").write_text(
        (real_current(index) / "manifest.json").read_text(encoding="utf-8"), encoding="utf-8")  # then it vanishes
    monkeypatch.setattr(generations, "current", stale_first)
    assert RAG.open(index, settings).documents()
    assert len(calls) >= 2
