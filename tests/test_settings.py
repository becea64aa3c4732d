from pathlib import Path

import pytest

from rag.settings import Settings


def test_toml_then_environment_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "rag.toml"
    config.write_text('index_dir = "from-toml"\nchunk_size = 500\ncorpus = ["a", "b"]\n', encoding="utf-8")
    monkeypatch.setenv("RAG_CHUNK_SIZE", "420")
    monkeypatch.setenv("RAG_EMBED_TITLE", "false")
    settings = Settings.load(config, lexical_weight=0.7)
    assert settings.index_dir == "from-toml"
    assert settings.corpus == ["a", "b"]
    assert settings.chunk_size == 420
    assert settings.embed_title is False
    assert settings.lexical_weight == 0.7


def test_unknown_setting_is_an_error(tmp_path: Path):
    config = tmp_path / "rag.toml"
    config.write_text("chunk_sise = 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="chunk_sise"):
        Settings.load(config)


def test_every_setting_is_documented_in_the_readme():
    from dataclasses import fields

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    undocumented = [f.name for f in fields(Settings) if f"`{f.name}`" not in readme]
    assert not undocumented, f"add these settings to README's table: {undocumented}"
