"""The `rag` command: exit codes and the --json schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.api import RAG
from rag.cli import main


@pytest.fixture(scope="module")
def index_dir(seeds_rag: RAG) -> str:
    return str(seeds_rag.index_dir)


def test_a_command_that_asks_nothing_exits_cleanly_in_its_own_process(index_dir: str, tmp_path: Path):
    """`rag search` opens the index (and with it the composer) and exits before any question is answered: nothing
    loading in the background may abort the process (onnxruntime did: exit 134)."""
    done = subprocess.run([sys.executable, "-c", "import sys; from rag.cli import main; sys.exit(main(sys.argv[1:]))",
                           "search", "社工", "-k", "1", "--index-dir", index_dir],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_console_script_ends_a_read_only_command_early_with_all_its_output(index_dir: str, tmp_path: Path):
    """`rag ask` exits without tearing down what it loaded: what it printed (a pipe, so block-buffered) and its exit
    code must still arrive whole."""
    script = "import sys; from rag.cli import run; sys.argv[0] = 'rag'; run(); print('not reached')"
    question = "厦门有多少持证社工？"
    done = subprocess.run([sys.executable, "-c", script, "ask", question, "--json", "--index-dir", index_dir],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert answer["citations"] and "not reached" not in done.stdout
    missing = subprocess.run([sys.executable, "-c", script, "search", "社工", "--index-dir", str(tmp_path / "none")],
                             cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1 and "rag index" in missing.stderr


def test_empty_question_is_a_usage_error(index_dir: str, capsys: pytest.CaptureFixture[str]):
    assert main(["ask", "   ", "--index-dir", index_dir]) == 2
    assert "empty" in capsys.readouterr().err


def test_bad_filter_is_a_usage_error(index_dir: str, capsys: pytest.CaptureFixture[str]):
    assert main(["search", "社工", "--filter", "colour=red", "--index-dir", index_dir]) == 2
    assert "FIELD=VALUE" in capsys.readouterr().err


def test_missing_index_is_an_error_that_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["ask", "厦门有多少持证社工？", "--index-dir", str(tmp_path / "none")]) == 1
    assert "rag index" in capsys.readouterr().err


def test_ask_json_schema(index_dir: str, capsys: pytest.CaptureFixture[str]):
    assert main(["ask", "威宁县持证社工有多少人？", "--json", "--index-dir", index_dir]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {"question", "text", "citations", "abstained", "language", "passages", "timings"} <= set(answer)
    assert answer["language"] == "zh-hans"
    for citation in answer["citations"]:
        assert {"n", "text", "doc_id", "title", "source", "date", "path", "span", "score"} <= set(citation)


def test_search_json_and_filters(index_dir: str, capsys: pytest.CaptureFixture[str]):
    assert main(["search", "social workers", "--json", "-k", "3", "--filter", "lang=zh-hans",
                 "--index-dir", index_dir]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert len(passages) == 3 and all(p["lang"] == "zh-hans" for p in passages)


def test_docs_json_segments_files_without_an_index(capsys: pytest.CaptureFixture[str]):
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    assert main(["docs", str(seeds / "002_d62f986f0cf1fb0a.txt"), "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in docs] == [f"002_d62f986f0cf1fb0a#{i}" for i in range(1, 5)]
    assert all("original" not in d for d in docs)


def test_indexing_nothing_that_exists_fails_and_writes_no_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    index = tmp_path / "idx"
    assert main(["index", str(tmp_path / "no-such-dir"), "--index-dir", str(index)]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    assert not (index / "CURRENT").exists()


def test_docs_keeps_to_the_file_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch):
    article = tmp_path / "big.txt"
    article.write_text("厦门社工站开放。" * 400, encoding="utf-8")  # ~9.6 KB
    monkeypatch.setenv("RAG_MAX_FILE_MB", "0.001")
    assert main(["docs", str(article)]) == 0
    assert "over the 0.001 MB limit" in capsys.readouterr().err


def test_a_bad_date_filter_is_a_usage_error(index_dir: str, capsys: pytest.CaptureFixture[str]):
    assert main(["search", "社工", "--filter", "from=2023-13-45", "--index-dir", index_dir]) == 2
    assert "is not a date" in capsys.readouterr().err
