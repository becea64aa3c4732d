"""The public API: iter_files, load_documents, file_hash, IngestError, IngestResult."""

from __future__ import annotations

import hashlib
import logging
import pickle
from pathlib import Path

import pytest

from rag.ingest import (
    IngestError,
    IngestResult,
    file_hash,
    iter_files,
    load_documents,
    load_file,
    load_file_result,
    make_ids_unique,
)
from rag.types import Document

ARTICLE = "社工站建设全覆盖\n\n全省社工站实现全覆盖,服务群众超过十万人次。目前持证社工三万人。\n\n(据《福建日报》)\n"


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    for rel in ("b.txt", "a.md", "sub/c.html", "sub/d.pdf", "sub/e.docx", "sub/f.jsonl", "notes.csv",
                ".hidden/g.txt", ".h.txt", "sub/image.png"):
        (root / rel).write_text("x", encoding="utf-8")
    return root


def test_iter_files_walks_folders_keeps_supported_formats_and_sorts(tmp_path):
    root = _tree(tmp_path)
    single = tmp_path / "single.txt"
    single.write_text("x", encoding="utf-8")
    found = iter_files([single, str(root), root / "b.txt"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "corpus/a.md", "corpus/b.txt", "corpus/sub/c.html", "corpus/sub/d.pdf", "corpus/sub/e.docx",
        "corpus/sub/f.jsonl", "single.txt",
    ]


def test_iter_files_refuses_a_missing_path_and_a_named_unsupported_file(tmp_path):
    with pytest.raises(IngestError) as info:
        iter_files([tmp_path / "nope"])
    assert info.value.path == str(tmp_path / "nope") and "no such file" in info.value.reason
    csv = tmp_path / "table.csv"
    csv.write_text("a,b", encoding="utf-8")
    with pytest.raises(IngestError, match="unsupported format.*\\.docx"):
        iter_files([csv])


def test_ingest_error_carries_path_and_reason():
    err = IngestError(Path("seeds/x.pdf"), "cannot read PDF")
    assert (err.path, err.reason, str(err)) == ("seeds/x.pdf", "cannot read PDF", "seeds/x.pdf: cannot read PDF")
    assert str(pickle.loads(pickle.dumps(err))) == str(err)


def test_file_hash_is_the_sha256_of_the_bytes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(ARTICLE.encode("gb18030"))
    assert file_hash(path) == hashlib.sha256(ARTICLE.encode("gb18030")).hexdigest()


def test_bad_files_are_logged_collected_and_skipped_and_the_rest_is_ingested(tmp_path, caplog):
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    (tmp_path / "binary.md").write_bytes(b"\x00\x01\x02" * 100)
    with caplog.at_level(logging.WARNING, logger="rag.ingest"):
        result = load_documents([tmp_path])
    assert isinstance(result, IngestResult)
    assert [d.id for d in result.documents] == ["good#1"]
    assert sorted(Path(e.path).name for e in result.errors) == ["binary.md", "broken.pdf", "empty.txt"]
    for name in ("binary.md", "broken.pdf", "empty.txt"):
        assert name in caplog.text


def test_missing_path_is_an_error_of_the_call(tmp_path):
    with pytest.raises(IngestError):
        load_documents([tmp_path / "missing"])


def test_same_article_in_two_folders_gets_unique_ids_and_is_marked_duplicate(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "news.txt").write_text(ARTICLE * 1, encoding="utf-8")
    docs = load_documents([tmp_path]).documents
    assert [(d.id, d.duplicate_of) for d in docs] == [("news#1", None), ("news~2#1", "news#1")]


def test_load_file_reads_str_paths_and_keeps_the_path_as_given(tmp_path):
    path = tmp_path / "good.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    [doc] = load_file(str(path))
    assert doc.path == str(path)
    assert (doc.title, doc.source, doc.lang) == ("社工站建设全覆盖", "福建日报", "zh-hans")


def test_ids_repeated_inside_a_jsonl_file_are_made_unique(tmp_path):
    line = '{"id": "x", "title": "t", "text": "全省社工站实现全覆盖,服务群众超过十万人次。"}\n'
    (tmp_path / "c.jsonl").write_text(line * 3, encoding="utf-8")
    assert [d.id for d in load_documents([tmp_path]).documents] == ["x", "x~2", "x~3"]


def test_load_file_result_returns_skipped_jsonl_lines_as_errors(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "a", "text": "全省社工站实现全覆盖,服务群众超过十万人次。"}\n[1, 2]\n', encoding="utf-8")
    result = load_file_result(path)
    assert [d.id for d in result.documents] == ["a"]
    assert [(e.path, e.reason) for e in result.errors] == [(f"{path}:2", "not a JSON object")]


def test_make_ids_unique_renames_a_whole_file_whose_ids_are_taken():
    taken = {"news#1", "news#2"}
    docs = [Document(id="news#1", title="", text="a"), Document(id="news#2", title="", text="b"),
            Document(id="news#3", title="", text="c")]
    make_ids_unique(docs, taken)
    assert [d.id for d in docs] == ["news~2#1", "news~2#2", "news~2#3"]
    assert {"news~2#1", "news~2#2", "news~2#3"} <= taken
