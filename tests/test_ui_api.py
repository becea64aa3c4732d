"""The UI's event handlers through the app's own HTTP API (gradio_client), over a recording stand-in
for `RAG`, so they are checked without a browser and without embedding anything.

Pinned: the answer streams ("searching…" first), the chat history reaches `ask`, an empty chat
starts a new conversation, a failing `ask` is reported in the chat, filters from the settings reach
`ask`, uploads are copied under sanitised names into a fresh directory before `add`, oversized
uploads are refused, and removal reports what happened.
"""

from __future__ import annotations

import json
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file

from rag.settings import Settings
from rag.store.base import SearchFilter
from rag.types import Answer, Citation, Document
from rag.ui.access import TOKEN_HEADER, Access
from rag.ui.app import CHANGES_NEED_TOKEN, build_app, launch

XIAMEN = "At present, there are 11,265 certified social workers in Xiamen, ranking first in the country."
SUPPORT = "At present, there are 11,265 certified social workers in Xiamen"


@dataclass
class AddReport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)


@dataclass
class RecordingRAG:
    """Answers every question from the Xiamen passage and records what the UI passed in."""

    settings: Settings
    index_dir: Path
    asked: list[dict[str, Any]] = field(default_factory=list)
    added: list[tuple[Path, str]] = field(default_factory=list)  # (staged path, its content)
    docs: list[Document] = field(default_factory=lambda: [
        Document(id="000_a28a2c41f418ff44#1", title="There are 11,265 certified social workers in Xiamen", text="",
                 date="2023-03-22", source="Southeast Net", lang="en", path="seeds/000_a28a2c41f418ff44.txt"),
    ])

    def documents(self) -> list[Document]:
        return list(self.docs)

    def ask(self, question: str, k: int = 5, history: list[tuple[str, str]] | None = None,
            filters: SearchFilter | None = None, mode: str | None = None) -> Answer:
        self.asked.append({"question": question, "k": k, "history": list(history or []), "filters": filters,
                           "mode": mode})
        if question == "fail":
            raise RuntimeError("the index is unreadable")
        time.sleep(0.3)  # long enough for the client to see the "searching" step
        start = XIAMEN.index(SUPPORT)
        citation = Citation(n=1, text=XIAMEN, doc_id=self.docs[0].id, title=self.docs[0].title,
                            source="Southeast Net", date="2023-03-22", path=self.docs[0].path, span=(0, len(XIAMEN)),
                            score=0.8, lang="en", support_span=(start, start + len(SUPPORT)))
        return Answer(question=question, text="Xiamen has 11,265 certified social workers [1].", citations=[citation],
                      abstained=False, language="en",
                      rewritten_question=f"standalone: {question}" if history else None)

    def add(self, paths: list[Path], progress: Callable[[float, str], None] | None = None) -> AddReport:
        report = AddReport()
        for path in paths:
            if any(seen == path for seen, _ in self.added):
                report.replaced.append(str(path))
            self.added.append((path, path.read_text(encoding="utf-8")))
            ids = [f"{path.stem}#1"]
            if path.suffix == ".jsonl":  # ids come from the file, as the real ingestion takes them
                ids = [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]
            for doc_id in ids:
                self.docs.append(Document(id=doc_id, title=path.stem, text="", lang="zh-hans", path=str(path)))
                report.added.append(doc_id)
            if progress:
                progress(1.0, f"Indexed {path.name}")
        return report

    def remove(self, doc_ids: list[str]) -> int:
        before = len(self.docs)
        self.docs = [d for d in self.docs if d.id not in doc_ids]
        return before - len(self.docs)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RecordingRAG, str]]:
    rag = RecordingRAG(Settings(max_upload_mb=0.01), Path(tempfile.mkdtemp(prefix="rag-ui-test-")))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    access = Access.new("127.0.0.1", port, TOKEN)
    app = build_app(rag, access)  # type: ignore[arg-type]
    launch(app, rag.settings, access, block=False)
    try:
        yield rag, f"http://127.0.0.1:{port}/"
    finally:
        app.close()


TOKEN = "test-token"


def _client(url: str, token: str | None = None) -> Client:
    headers = {TOKEN_HEADER: token} if token else None
    return Client(url, verbose=False, download_files=False, analytics_enabled=False, headers=headers)


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    return "".join(p.get("text", "") for p in content) if isinstance(content, list) else str(content)


def _ask(client: Client, question: str, chat: list, **settings: Any) -> tuple[list[list], list, str]:
    """Submit a question; returns every streamed output, the final chat, and the evidence HTML."""
    args = {"k": 5, "sources": [], "langs": [], "date_from": "", "date_to": "", "mode": "hybrid", **settings}
    job = client.submit(question, chat, args["k"], args["sources"], args["langs"], args["date_from"],
                        args["date_to"], args["mode"], api_name="/ask")
    _, final_chat, evidence = job.result(timeout=60)
    return job.outputs(), final_chat, evidence


def test_answer_streams_and_the_conversation_reaches_ask(served: tuple[RecordingRAG, str]) -> None:
    rag, url = served
    client = _client(url)
    outputs, chat, evidence = _ask(client, "How many certified social workers does Xiamen have?", [])
    first_chat = outputs[0][1]
    assert "rag-answer pending" in _text(first_chat[-1])  # the placeholder came before the answer
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert "<mark>" + SUPPORT + "</mark>" in _text(chat[-1])
    assert 'href="#cite-1-1"' in _text(chat[-1]) and 'id="cite-1-1"' in _text(chat[-1])
    assert rag.asked[-1]["history"] == []

    _, chat2, evidence2 = _ask(client, "And Fujian?", chat, k=7, mode="keyword")
    assert rag.asked[-1]["history"] == [("How many certified social workers does Xiamen have?",
                                         "Xiamen has 11,265 certified social workers [1].")]
    assert rag.asked[-1]["k"] == 7 and rag.asked[-1]["mode"] == "keyword"
    assert "standalone: And Fujian?" in evidence2 and "Standalone query" in evidence2
    assert 'id="cite-2-1"' in _text(chat2[-1])  # anchors of the second turn do not clash with the first

    _ask(client, "A new conversation", [])
    assert rag.asked[-1]["history"] == []  # an empty chat means no history, whatever the session held


def test_settings_become_a_filter_and_bad_dates_are_refused(served: tuple[RecordingRAG, str]) -> None:
    rag, url = served
    client = _client(url)
    _ask(client, "厦门有多少持证社会工作者？", [], sources=["Southeast Net"], langs=["en"], date_from="2023",
         date_to="2023-12")
    assert rag.asked[-1]["filters"] == SearchFilter(langs=("en",), sources=("Southeast Net",), date_from="2023",
                                                    date_to="2023-12")
    calls = len(rag.asked)
    with pytest.raises(Exception, match="not understood"):
        _ask(client, "厦门有多少持证社会工作者？", [], date_from="March 2023")
    assert len(rag.asked) == calls


def test_a_failing_ask_is_reported_in_the_chat(served: tuple[RecordingRAG, str]) -> None:
    _, url = served
    _, chat, _ = _ask(_client(url), "fail", [])
    assert "rag-answer error" in _text(chat[-1]) and "the index is unreadable" in _text(chat[-1])


def test_uploads_are_staged_under_safe_names_and_oversized_ones_refused(
    served: tuple[RecordingRAG, str], tmp_path: Path
) -> None:
    rag, url = served
    client = _client(url, TOKEN)
    good = tmp_path / "厦门 社工 $(x).md"
    good.write_text("# 鼓浪屿社工站开放\n\n首批12名持证社工入驻。\n", encoding="utf-8")
    report, table, _, _, _ = client.predict([handle_file(str(good))], api_name="/add")
    staged, content = rag.added[-1]
    assert staged.name == "厦门 社工 _x_.md" and content == good.read_text(encoding="utf-8")
    assert staged.parent == rag.index_dir / "uploads" and staged.is_file()  # kept beside the index
    assert "Added 1 article(s)" in report and "replaced" not in report
    assert any(row[0] == "厦门 社工 _x_#1" for row in table["data"])
    good.write_text("# 鼓浪屿社工站开放\n\n首批15名持证社工入驻。\n", encoding="utf-8")  # a corrected copy
    report, _, _, _, _ = client.predict([handle_file(str(good))], api_name="/add")
    assert rag.added[-1] == (staged, good.read_text(encoding="utf-8"))  # the same file, not a second one
    assert "replaced the earlier articles of · 已替换旧版: 厦门 社工 _x_.md" in report

    big = tmp_path / "big.txt"
    big.write_text("社工" * 20_000, encoding="utf-8")  # about 120 KB, over the 0.01 MB limit
    added = len(rag.added)
    with pytest.raises(Exception, match="(?i)too large|exceeds|size"):
        client.predict([handle_file(str(big))], api_name="/add")
    assert len(rag.added) == added


def test_the_upload_report_escapes_what_comes_from_a_file(served: tuple[RecordingRAG, str], tmp_path: Path):
    rag, url = served
    hostile = tmp_path / "ids.jsonl"
    hostile.write_text(json.dumps({"id": "<img src=x onerror=alert(1)>", "text": "社工"}) + "\n", encoding="utf-8")
    report, _, _, _, _ = _client(url, TOKEN).predict([handle_file(str(hostile))], api_name="/add")
    assert "<img" not in report and "&lt;img src=x onerror=alert(1)&gt;" in report


def test_remove_reports_what_was_removed(served: tuple[RecordingRAG, str]) -> None:
    rag, url = served
    rag.docs.append(Document(id="tmp#1", title="to remove", text="", lang="en"))
    client = _client(url, TOKEN)
    report, table, _, _ = client.predict(["tmp#1"], api_name="/remove")
    assert report == "Removed 1 article(s). · 已删除 1 篇。" and all(row[0] != "tmp#1" for row in table["data"])
    report, _, _, _ = client.predict(["nope#9"], api_name="/remove")
    assert report == "No article with id · 没有编号为此的文章: nope#9"


def test_changes_need_the_token_and_asking_does_not(served: tuple[RecordingRAG, str], tmp_path: Path) -> None:
    rag, url = served
    article = tmp_path / "new.md"
    article.write_text("# 新社工站\n\n首批5名持证社工入驻。\n", encoding="utf-8")
    added, docs = len(rag.added), list(rag.docs)
    for client in (_client(url), _client(url, "wrong-token")):
        report, _, _, _, _ = client.predict([handle_file(str(article))], api_name="/add")
        assert report == CHANGES_NEED_TOKEN
        report, _, _, _ = client.predict([docs[0].id], api_name="/remove")
        assert report == CHANGES_NEED_TOKEN
    assert len(rag.added) == added and rag.docs == docs
    _, chat, _ = _ask(_client(url), "厦门有多少持证社工？", [])
    assert SUPPORT in _text(chat[-1])


def test_another_host_name_or_origin_is_refused(served: tuple[RecordingRAG, str]) -> None:
    import httpx

    _, url = served
    port = url.rstrip("/").rsplit(":", 1)[1]
    assert httpx.get(url).status_code == 200
    assert httpx.get(url, headers={"Host": "attacker.example"}).status_code == 403  # DNS rebinding
    config = f"{url}config"
    assert httpx.get(config, headers={"Origin": "http://localhost:9999"}).status_code == 403  # another local page
    assert httpx.get(config, headers={"Origin": f"http://127.0.0.1:{port}"}).status_code == 200  # the app itself
    opened = httpx.get(f"{url}?token={TOKEN}")
    assert opened.status_code == 200 and opened.cookies.get("rag_token") == TOKEN
