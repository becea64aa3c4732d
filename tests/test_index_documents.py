"""A generation's documents on disk: written, read back equal, their texts decoded only when read."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

from rag.index.documents import StoredDocument, read_documents, write_documents
from rag.types import Document

DOCUMENTS = [
    Document(id="a#1", title="厦门社工", text="厦门现有持证社工。\n\n第二段。", original="厦门现有持证社工。\n第二段。",
             date="2024-05-16", source="厦门日报", lang="zh-hans", path="a.txt", span=(3, 40),
             page_headlines=["头版"]),
    Document(id="b#1", title="Xiamen", text="Xiamen has 11,265 certified social workers.", lang="en",
             duplicate_of="a#1", date="2024-05-16", date_inferred="copy"),
    Document(id="c#1", title="", text=""),
]


def _roundtrip(tmp_path: Path, documents: list[Document]) -> dict[str, Document]:
    folder = tmp_path / f"gen{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    write_documents(folder, documents)
    return read_documents(folder)


def test_documents_read_back_equal_with_their_texts_decoded_when_first_read(tmp_path: Path) -> None:
    read = _roundtrip(tmp_path, DOCUMENTS)
    assert list(read) == [d.id for d in DOCUMENTS]
    stored = read["a#1"]
    assert isinstance(stored, StoredDocument) and "_text" not in vars(stored)
    assert stored.text == DOCUMENTS[0].text and stored.original == DOCUMENTS[0].original
    assert "_text" in vars(stored)
    for written, back in zip(DOCUMENTS, read.values(), strict=True):
        assert back == written and written == back
        assert back.to_dict() == written.to_dict()
    assert read["b#1"] != DOCUMENTS[0]


def test_stored_documents_are_written_again_as_the_bytes_they_are(tmp_path: Path) -> None:
    read = _roundtrip(tmp_path, DOCUMENTS)
    again = _roundtrip(tmp_path, list(read.values()))
    assert all("_text" not in vars(d) for d in read.values())  # copied, not decoded
    assert list(again.values()) == DOCUMENTS
    assert (tmp_path / "gen0" / "texts.bin").read_bytes() == (tmp_path / "gen1" / "texts.bin").read_bytes()


def test_an_update_writes_stored_documents_with_a_gap_and_new_ones_after_them(tmp_path: Path) -> None:
    read = list(_roundtrip(tmp_path, DOCUMENTS).values())
    new = Document(id="d#1", title="新", text="新文章。", original="新文章")
    again = _roundtrip(tmp_path, [read[0], read[2], new, read[1]])
    assert list(again.values()) == [DOCUMENTS[0], DOCUMENTS[2], new, DOCUMENTS[1]]


def test_a_stored_document_keeps_its_marks_and_copies_as_a_plain_document(tmp_path: Path) -> None:
    stored = _roundtrip(tmp_path, DOCUMENTS)["a#1"]
    stored.duplicate_of, stored.date = "z#1", "2024-06-01"
    for copied in (pickle.loads(pickle.dumps(stored)), copy.deepcopy(stored), copy.copy(stored)):
        assert type(copied) is Document and copied == stored and copied.duplicate_of == "z#1"


def test_a_stored_document_can_be_replaced_or_given_a_new_text_like_any_document(tmp_path: Path) -> None:
    read = _roundtrip(tmp_path, DOCUMENTS)
    renamed = dataclasses.replace(read["a#1"], title="新标题")
    assert renamed == dataclasses.replace(DOCUMENTS[0], title="新标题")
    edited = read["a#1"]
    edited.text = "改过的正文。"
    assert (edited.text, edited.original) == ("改过的正文。", DOCUMENTS[0].original) and edited.stored() is None
    renamed.id = "a#2"
    again = _roundtrip(tmp_path, [edited, renamed, read["b#1"]])
    assert [d.text for d in again.values()] == ["改过的正文。", DOCUMENTS[0].text, DOCUMENTS[1].text]
    assert again["a#1"].original == DOCUMENTS[0].original == again["a#2"].original
