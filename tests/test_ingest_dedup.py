"""Duplicate detection: the same story in another script or layout, and nothing else."""

from __future__ import annotations

import random
import time

import numpy as np

from rag.ingest import ShingleIndex, dedup, find_duplicates
from rag.ingest.dedup import _key, containment, shingles
from rag.types import Document

FUJIAN_HANS = (
    "近日,由福建省民政厅主办的全省社会工作助力乡村振兴高级研修班和社会工作督导人才培训班开班仪式在泉州市惠安县举行,"
    "旨在通过系统培训,提升社会工作专业人才的服务能力和督导水平,特别是在服务乡村振兴、推进乡村治理体系和治理能力现代化上,"
    "进一步发挥社会工作力量的专业作用。本次培训的对象主要是社会工作实务督导和一线社会工作者。"
)
FUJIAN_HANT = (
    "近日，由福建省民政廳主辦的全省社會工作助力鄉村振興高級研修班和社會工作督導人才培訓班開班儀式在泉州市惠安縣舉行，"
    "旨在通過系統培訓，提升社會工作專業人才的服務能力和督導水平，特別是在服務鄉村振興、推進鄉村治理體系和治理能力現代化上，"
    "進一步發揮社會工作力量的專業作用。本次培訓的對象主要是社會工作實務督導和一線社會工作者。"
)
ANHUI = (
    "社会工作人才队伍的健全是社会工作发展的重要保障,也是建设和谐社会的基础之一。记者从近日召开的全省民政工作会议上获悉,"
    "2023年,安徽省社会工作专业人才队伍建设加快步伐,全省持证社会工作者达到3.3万人,社工专业人才总量超过13万人。"
)


def _doc(doc_id: str, text: str) -> Document:
    return Document(id=doc_id, title="", text=text)


def test_same_story_in_traditional_script_and_another_layout_is_a_duplicate():
    relaid = "\n\n".join(FUJIAN_HANS[i : i + 37] for i in range(0, len(FUJIAN_HANS), 37))
    docs = [_doc("trad#1", FUJIAN_HANT), _doc("anhui#1", ANHUI), _doc("simp#1", FUJIAN_HANS), _doc("pdf#1", relaid)]
    find_duplicates(docs)
    assert [d.duplicate_of for d in docs] == [None, None, "trad#1", "trad#1"]


def test_different_stories_on_the_same_subject_are_not_duplicates():
    docs = [_doc("a", FUJIAN_HANS), _doc("b", ANHUI)]
    find_duplicates(docs)
    assert [d.duplicate_of for d in docs] == [None, None]


def test_threshold_decides_on_partial_overlap():
    half = FUJIAN_HANS[: len(FUJIAN_HANS) // 2] + ANHUI
    score = containment(shingles(FUJIAN_HANS), shingles(half))
    assert 0.3 < score < 0.9
    for threshold, expected in ((score - 0.05, "a"), (score + 0.05, None)):
        docs = [_doc("a", FUJIAN_HANS), _doc("b", half)]
        find_duplicates(docs, threshold=threshold)
        assert docs[1].duplicate_of == expected


def test_a_story_contained_in_a_longer_one_is_a_duplicate_of_it():
    docs = [_doc("long", FUJIAN_HANS + ANHUI * 2), _doc("short", FUJIAN_HANS)]
    find_duplicates(docs)
    assert docs[1].duplicate_of == "long"


def test_short_documents_are_duplicates_only_when_identical():
    docs = [_doc("a", "社工站建设全覆盖。"), _doc("b", "社工站建设全覆盖!"), _doc("c", "社工站建设基本全覆盖。")]
    find_duplicates(docs)
    assert [d.duplicate_of for d in docs] == [None, "a", None]


def test_thousands_of_documents_are_compared_quickly_and_copies_found():
    rng = random.Random(7)
    alphabet = "社会工作人才队伍建设福建厦门民政服务乡村振兴培训督导专业能力基层治理志愿慈善儿童老人家庭"
    docs = [_doc(f"d{i}", "".join(rng.choices(alphabet, k=600))) for i in range(2000)]
    copies = [_doc(f"copy{i}", docs[i * 100].text[50:] + "。") for i in range(20)]
    docs.extend(copies)
    started = time.perf_counter()
    find_duplicates(docs)
    elapsed = time.perf_counter() - started
    assert [c.duplicate_of for c in copies] == [f"d{i * 100}" for i in range(20)]
    assert sum(d.duplicate_of is not None for d in docs) == 20
    assert elapsed < 15, f"{elapsed:.1f}s for {len(docs)} documents"


def _random_corpus(n: int, copies: int, seed: int = 7) -> list[Document]:
    rng = random.Random(seed)
    alphabet = "社会工作人才队伍建设福建厦门民政服务乡村振兴培训督导专业能力基层治理志愿慈善儿童老人家庭"
    docs = [_doc(f"d{i}", "".join(rng.choices(alphabet, k=600))) for i in range(n)]
    for i in range(copies):  # copies of earlier documents, and copies of copies, spread through the corpus
        row = rng.randrange(len(docs))
        docs.insert(rng.randrange(row + 1, len(docs) + 1), _doc(f"copy{i}", docs[row].text[rng.randrange(100):]))
    return docs


def test_judging_in_batches_marks_and_indexes_as_judging_all_at_once():
    docs = _random_corpus(300, 60)
    whole = find_duplicates(docs)
    marks = [d.duplicate_of for d in docs]
    assert sum(m is not None for m in marks) == 60
    index = ShingleIndex.empty()
    for end in (1, 100, 101, 250, len(docs)):
        index = index.judge(docs[:end], threshold=0.6)
    assert [d.duplicate_of for d in docs] == marks
    assert np.array_equal(index.digests, whole.digests) and np.array_equal(index.postings, whole.postings)
    assert np.array_equal(ShingleIndex.of(docs).postings, whole.postings)


def test_a_new_document_is_judged_without_reading_the_others(monkeypatch, tmp_path):
    docs = _random_corpus(500, 0)
    find_duplicates(docs).save(tmp_path)
    index = ShingleIndex.load(tmp_path)  # as an update reads it: memory-mapped
    read: list[str] = []
    monkeypatch.setattr(dedup, "_key", lambda text: read.append(text) or _key(text))
    copy = _doc("copy", docs[123].text[40:])
    index.judge([*docs, copy], threshold=0.6)
    assert copy.duplicate_of == "d123"
    assert copy.text in read and docs[123].text in read and len(read) <= 5


def test_when_the_first_of_a_story_is_removed_its_next_copy_becomes_the_first():
    first, other, copy, again = (_doc("first", FUJIAN_HANS), _doc("other", ANHUI), _doc("copy", FUJIAN_HANT),
                                 _doc("again", FUJIAN_HANS + "。"))
    index = find_duplicates([first, other, copy, again])
    assert [d.duplicate_of for d in (copy, again)] == ["first", "first"]
    kept = [other, copy, again]
    index, orphans = index.without(np.array([False, True, True, True]), kept)
    assert orphans == [1, 2] and len(index) == 3
    index = index.judge(kept, threshold=0.6, again=orphans)
    assert [d.duplicate_of for d in kept] == [None, None, "copy"]
    fresh = [_doc(d.id, d.text) for d in kept]
    assert np.array_equal(index.postings, find_duplicates(fresh).postings)
