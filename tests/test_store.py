"""One test suite for every vector store backend: FAISS (each index type), Milvus through milvus-lite, and a real
Milvus server (the `milvus` package's standalone 2.3 server, started once for this module on free local ports with
a temporary data folder, and stopped after it).

Expected results come from numpy brute force over the same vectors, and filter expectations from
`SearchFilter.matches`, so every backend is checked against the protocol's own definition.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import faiss
import numpy as np
import pytest

from rag.settings import Settings
from rag.store import (
    IndexParams,
    SearchFilter,
    VectorMeta,
    create_store,
    create_store_from_settings,
    open_store,
    settings_tunables,
)
from rag.store.faiss_store import AUTO_ANN, INDEX_FILE, VECTORS_FILE
from rag.store.milvus_store import filter_expression, quote

DIM = 32
N = 400
SEED_FILES = ["seeds/000_a28a2c41f418ff44.txt", "seeds/001_b68a85b33c870ddc.txt",
              "seeds/002_d62f986f0cf1fb0a.txt", "seeds/003_2b286ece2c422390.txt",
              "seeds/004_97ebb4bc4085e2f5.txt"]
SOURCES = ["Southeast Net", "公益時報", None, '"Straits Herald" \\ 海峡导报', "中国社会报"]
DATES = ["2023-03-22", "2023-03-21", "2022-12-31", "2023-01", None, "2024-02-05", "2023-03"]

BACKENDS = [
    pytest.param(("faiss", "flat"), id="faiss-flat"),
    pytest.param(("faiss", "auto"), id="faiss-auto"),
    pytest.param(("faiss", "hnsw"), id="faiss-hnsw"),
    pytest.param(("faiss", "hnswsq"), id="faiss-hnswsq"),
    pytest.param(("faiss", "ivfsq8"), id="faiss-ivfsq8"),
    pytest.param(("faiss", "ivfpq"), id="faiss-ivfpq"),
    pytest.param(("milvus", "flat"), id="milvus-flat"),
    pytest.param(("milvus", "hnsw"), id="milvus-hnsw"),
    pytest.param(("milvus-server", "flat"), id="milvus-server-flat"),
    pytest.param(("milvus-server", "hnsw"), id="milvus-server-hnsw"),
    pytest.param(("milvus-server", "ivfpq"), id="milvus-server-ivfpq"),  # milvus-lite has no IVF_PQ
]
EXACT = {("faiss", "flat"), ("milvus", "flat"), ("milvus-server", "flat")}


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, np.ndarray, list[VectorMeta]]:
    rng = np.random.default_rng(7)
    vectors = unit(rng.standard_normal((N, DIM)))
    ids = np.arange(N, dtype=np.int64) * 7 + 1000  # not row numbers, so id mapping is exercised
    meta = [
        VectorMeta(
            doc_id=f"doc{i // 4}",
            lang="en" if i % 25 == 0 else ("zh-hant" if i % 3 == 0 else "zh-hans"),  # en: 4% of rows
            source=SOURCES[i % len(SOURCES)],
            date=DATES[i % len(DATES)],
            path=SEED_FILES[i % len(SEED_FILES)],
        )
        for i in range(N)
    ]
    return ids, vectors, meta


@pytest.fixture(scope="module")
def milvus_server() -> Iterator[str]:
    """The URI of a Milvus server of its own (ports found free on 127.0.0.1, data in a temporary folder)."""
    from milvus import MilvusServer

    data = Path(tempfile.mkdtemp(prefix="rag-milvus-server-"))
    server = MilvusServer()
    server.set_base_dir(str(data))
    # A strongly consistent read waits for the next time tick: 20 ms apart instead of 200 ms, for a faster suite.
    server.config.set("proxy.timeTickInterval", 20)
    server.start()  # waits until it answers (about 10 s)
    try:
        yield f"http://127.0.0.1:{server.listen_port}"
    finally:
        pid = server.server_proc.pid
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
        Path(f"/tmp/milvus/server_id_{pid}").unlink(missing_ok=True)  # the one file it writes elsewhere


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="module")
def server_uri(backend, request) -> str:
    """The Milvus server's URI for the milvus-server backends ("" for the others: no server is started)."""
    return request.getfixturevalue("milvus_server") if backend[0] == "milvus-server" else ""


def new_store(backend, server_uri: str = "", **options):
    kind, index = backend
    if kind == "milvus-server":  # a collection of its own: the server outlives every store
        return create_store("milvus", DIM, milvus_uri=server_uri, collection=f"test_{uuid.uuid4().hex[:12]}",
                            milvus_index=index, **{"pq_m": 16, **options})
    return create_store(kind, DIM, faiss_index=index, **{"pq_m": 16, **options})  # 2 dims per code


def fill(store, corpus):
    ids, vectors, meta = corpus
    store.add(ids[:250], vectors[:250], meta[:250])  # faiss-auto (threshold 300) turns ANN in the 2nd add
    store.add(ids[250:], vectors[250:], meta[250:])
    return store


def close(store) -> None:
    if hasattr(store, "close"):  # milvus-lite: stop its server, delete its working copy
        store.close()


@pytest.fixture
def make(backend, server_uri):
    """Factory of new stores of the parametrised backend."""
    made = []

    def factory(**options):
        made.append(new_store(backend, server_uri, **options))
        return made[-1]

    yield factory
    for store in made:
        close(store)


@pytest.fixture(scope="module")
def searched(backend, server_uri, corpus):
    """A filled store shared by the tests that only search it."""
    store = fill(new_store(backend, server_uri, ann_threshold=300), corpus)
    yield store
    close(store)


@pytest.fixture
def reopen():
    opened = []

    def factory(directory: Path, **tunables):
        store = open_store(directory, **tunables)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        close(store)


@pytest.fixture
def filled(make, corpus):
    return fill(make(ann_threshold=300), corpus)


def brute_force(ids, vectors, meta, query, k, where=None):
    allowed = np.array([where is None or where.matches(m) for m in meta])
    scores = np.where(allowed, vectors @ query, -np.inf)
    order = [i for i in np.argsort(-scores, kind="stable")[:k] if allowed[i]]
    return [int(ids[i]) for i in order], scores[order]


def test_every_stored_vector_finds_itself_first(searched, corpus, backend):
    ids, vectors, meta = corpus
    assert len(searched) == N
    queries = vectors[::10]
    results = searched.search(queries, 5)
    assert [r[0][0] for r in results] == ids[::10].tolist()
    tolerance = 0.2 if backend[1] == "ivfpq" else 0.02  # PQ scores are coarse (250 training points)
    assert all(abs(r[0][1] - 1.0) < tolerance for r in results)
    for query, result in zip(queries, results, strict=True):
        assert [s for _, s in result] == sorted((s for _, s in result), reverse=True)
        if backend in EXACT:
            expected_ids, expected_scores = brute_force(ids, vectors, meta, query, 5)
            assert [i for i, _ in result] == expected_ids
            np.testing.assert_allclose([s for _, s in result], expected_scores, atol=1e-5)


@pytest.mark.parametrize("where", [
    SearchFilter(langs=("en",)),
    SearchFilter(doc_ids=("doc25", "doc50")),
    SearchFilter(langs=("zh-hans", "zh-hant"), sources=("公益時報",)),
], ids=["lang-4pct", "two-docs", "langs-and-source"])
def test_filters_act_inside_the_search_and_fill_k(searched, corpus, backend, where):
    ids, vectors, meta = corpus
    allowed = {int(i) for i, m in zip(ids, meta, strict=True) if where.matches(m)}
    k = 10
    for query in vectors[1:200:20]:  # queries are mostly outside the filter
        result = searched.search(query[None, :], k, where=where)[0]
        assert len(result) == min(k, len(allowed))
        assert {i for i, _ in result} <= allowed
        if backend in EXACT:
            assert [i for i, _ in result] == brute_force(ids, vectors, meta, query, k, where)[0]


@pytest.mark.parametrize("where", [
    SearchFilter(date_from="2023-03-21", date_to="2023-03"),
    SearchFilter(date_to="2022"),
    SearchFilter(date_from="2024"),
    SearchFilter(sources=("", '"Straits Herald" \\ 海峡导报'), paths=(SEED_FILES[1], SEED_FILES[3])),
    SearchFilter(langs=("fr",)),
], ids=["march-2023", "before-2023", "from-2024", "no-or-quoted-source", "unknown-lang"])
def test_filter_returns_exactly_the_matching_chunks(searched, corpus, where):
    ids, vectors, meta = corpus
    allowed = {int(i) for i, m in zip(ids, meta, strict=True) if where.matches(m)}
    assert len(allowed) < 120
    result = searched.search(vectors[5], len(allowed) + 5, where=where)[0]
    assert {i for i, _ in result} == allowed


def test_removed_chunks_are_never_returned(filled, corpus):
    ids, vectors, meta = corpus
    gone = ids[::3]  # a third: past compact_fraction, so IVF relabels and HNSW keeps tombstones
    filled.remove(gone.tolist() + [123_456_789])  # an unknown id is ignored
    assert len(filled) == N - len(gone)
    results = filled.search(vectors[:40], 5)
    returned = {i for result in results for i, _ in result}
    assert not returned & set(gone.tolist())
    kept = [i for i in range(40) if i % 3]
    assert [results[i][0][0] for i in kept] == ids[kept].tolist()
    narrow = filled.search(vectors[:5], 10, where=SearchFilter(langs=("en",)))
    en_left = {int(i) for i, m in zip(ids, meta, strict=True) if m.lang == "en"} - set(gone.tolist())
    assert all({i for i, _ in r} == en_left for r in narrow)


def test_save_then_open_gives_the_same_answers(filled, corpus, reopen, tmp_path, backend):
    ids, vectors, meta = corpus
    filled.remove(ids[::3].tolist())
    where = SearchFilter(langs=("zh-hant",), date_from="2023")
    filled.save(tmp_path / "index.tmp")  # (HNSW: rebuilds the graph without the removed third)
    before = filled.search(vectors[:30], 5), filled.search(vectors[:30], 5, where=where)
    (tmp_path / "index.tmp").rename(tmp_path / "index")  # what the pipeline does
    opened = reopen(tmp_path / "index")
    assert len(opened) == len(filled)
    after = opened.search(vectors[:30], 5), opened.search(vectors[:30], 5, where=where)
    for old, new in zip(before, after, strict=True):
        assert [[i for i, _ in r] for r in old] == [[i for i, _ in r] for r in new]
        np.testing.assert_allclose([[s for _, s in r] for r in old], [[s for _, s in r] for r in new], atol=1e-5)
    # the saved store still works after save, and is not affected by changes to the opened one, except on a server,
    # where both are the one collection that changes in place (documented in rag/store/milvus_store.py)
    count = len(opened)
    opened.add(ids[:3], vectors[:3], meta[:3])
    assert len(opened) == count + 1  # ids[0] had been removed; ids[1], ids[2] are replaced
    assert len(filled) == (count + 1 if backend[0] == "milvus-server" else count)
    assert filled.search(vectors[1], 1)[0][0][0] == ids[1]
    again = reopen(tmp_path / "index")
    assert len(again) == len(filled)


def test_save_writes_only_inside_the_directory(filled, tmp_path):
    target = tmp_path / "out"
    filled.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    manifest = json.loads((target / "store.json").read_text(encoding="utf-8"))
    assert manifest["dim"] == DIM and manifest["backend"] in ("faiss", "milvus")


def test_readding_changed_ids_replaces_their_vectors_and_metadata(filled, corpus):
    ids, vectors, meta = corpus
    rng = np.random.default_rng(11)
    changed = ids[10:20]
    new_vectors = unit(rng.standard_normal((10, DIM)))
    new_meta = [VectorMeta(doc_id="doc-updated", lang="en", source="Southeast Net", date="2025-01-01",
                           path=SEED_FILES[0]) for _ in range(10)]
    filled.add(changed, new_vectors, new_meta)
    assert len(filled) == N
    assert [r[0][0] for r in filled.search(new_vectors, 1)] == changed.tolist()
    assert all(r[0][0] not in set(changed.tolist()) for r in filled.search(vectors[10:20], 1))
    updated = filled.search(vectors[0], 20, where=SearchFilter(doc_ids=("doc-updated",)))[0]
    assert sorted(i for i, _ in updated) == sorted(changed.tolist())


def test_concurrent_searches_and_writes(filled, corpus):
    ids, vectors, meta = corpus
    queries = vectors[:60]
    serial = filled.search(queries, 3)
    errors: list[BaseException] = []
    results: dict[int, list] = {}

    def reader(n: int) -> None:
        try:
            out = []
            for i in range(n, 60, 4):
                out.append((i, filled.search(queries[i], 3)[0]))
                filled.search(queries[i], 3, where=SearchFilter(langs=("en",), date_from="2023"))
            results[n] = out
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def writer() -> None:
        try:
            extra = unit(np.random.default_rng(3).standard_normal((20, DIM)))
            for round_ in range(3):
                new_ids = np.arange(20) + 90_000 + 100 * round_
                filled.add(new_ids, extra, meta[:20])
                filled.remove(new_ids.tolist())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)] + [threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for out in results.values():
        for i, result in out:
            assert result[0][0] == serial[i][0][0] == ids[i]
    assert len(filled) == N


def test_an_index_type_the_milvus_server_lacks_is_a_clear_error(milvus_server):
    with pytest.raises(ValueError, match="has no HNSW_SQ index"):
        create_store("milvus", DIM, milvus_uri=milvus_server, collection="refused", milvus_index="hnswsq")
    from pymilvus import MilvusClient

    assert not MilvusClient(uri=milvus_server).has_collection("refused")  # nothing left behind


def test_empty_store_returns_empty_lists(make, corpus):
    ids, vectors, meta = corpus
    store = make()
    assert len(store) == 0
    assert store.search(vectors[:3], 5) == [[], [], []]
    assert store.search(vectors[:1], 5, where=SearchFilter(langs=("en",))) == [[]]
    assert store.search(vectors[:2], 0) == [[], []]


def test_dimension_mismatch_is_a_clear_error(make, corpus):
    ids, vectors, meta = corpus
    store = make()
    wrong = unit(np.ones((2, DIM + 1)))
    with pytest.raises(ValueError, match=f"{DIM}-d"):
        store.add(ids[:2], wrong, meta[:2])
    with pytest.raises(ValueError, match=f"{DIM}-d"):
        store.search(wrong, 3)
    with pytest.raises(ValueError, match="L2-normalised"):
        store.add(ids[:2], vectors[:2] * 2, meta[:2])
    with pytest.raises(ValueError, match="ids"):
        store.add(ids[:3], vectors[:2], meta[:2])


def test_auto_index_turns_approximate_at_the_threshold(corpus):
    ids, vectors, meta = corpus
    store = create_store("faiss", DIM, faiss_index="auto", ann_threshold=300)
    store.add(ids[:299], vectors[:299], meta[:299])
    assert store.kind == "flat"
    store.add(ids[299:], vectors[299:], meta[299:])
    assert store.kind == AUTO_ANN
    assert [r[0][0] for r in store.search(vectors[::50], 1)] == ids[::50].tolist()


def test_hnsw_removals_are_rebuilt_away_on_save(corpus, reopen, tmp_path):
    ids, vectors, meta = corpus
    store = create_store("faiss", DIM, faiss_index="hnsw")
    store.add(ids, vectors, meta)
    store.remove(ids[:50].tolist())  # 12.5%: below compact_fraction, the graph keeps tombstones
    store.save(tmp_path / "a")
    assert faiss.read_index(str(tmp_path / "a" / "index.faiss")).ntotal == N
    store.remove(ids[50:120].tolist())  # 30%: save() rebuilds the graph without them
    store.save(tmp_path / "b")
    assert faiss.read_index(str(tmp_path / "b" / "index.faiss")).ntotal == N - 120
    opened = reopen(tmp_path / "b", mmap=False)
    assert [r[0][0] for r in opened.search(vectors[120:130], 1)] == ids[120:130].tolist()


def _saved_store(corpus, folder: Path, n: int, kind: str = "flat") -> Path:
    """A FAISS store of `kind` over the corpus's first `n` vectors, saved into `folder`; the file of its index."""
    ids, vectors, meta = corpus
    store = create_store("faiss", DIM, faiss_index=kind)
    store.add(ids[:n], vectors[:n], meta[:n])
    store.save(folder)
    return folder / (VECTORS_FILE if kind == "flat" else INDEX_FILE)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_memory_mapped_store_can_still_be_changed(corpus, reopen, tmp_path, kind):
    ids, vectors, meta = corpus
    index_file = _saved_store(corpus, tmp_path / "s", 100, kind)
    saved = index_file.read_bytes()
    mapped = reopen(tmp_path / "s", mmap=True)
    mapped.add(ids[100:200], vectors[100:200], meta[100:200])
    mapped.remove(ids[:10].tolist())
    assert len(mapped) == 190
    assert mapped.search(vectors[150], 1)[0][0][0] == ids[150]
    assert index_file.read_bytes() == saved


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_a_mapped_store_whose_folder_was_removed_can_still_be_changed(corpus, reopen, tmp_path, kind):
    ids, vectors, meta = corpus
    _saved_store(corpus, tmp_path / "s", 100, kind)
    mapped = reopen(tmp_path / "s", mmap=True)
    shutil.rmtree(tmp_path / "s")  # a newer generation replaced it and a writer cleaned it up
    mapped.add(ids[100:200], vectors[100:200], meta[100:200])
    assert len(mapped) == 200
    assert [mapped.search(vectors[i], 1)[0][0][0] for i in (5, 150)] == [ids[5], ids[150]]


def test_a_flat_store_saved_as_a_faiss_index_still_opens(corpus, reopen, tmp_path):
    ids, vectors, _ = corpus
    vectors_file = _saved_store(corpus, tmp_path / "s", 100)
    written = faiss.IndexFlatIP(DIM)  # how a flat store was saved before vectors.npy
    written.add(np.load(vectors_file))
    faiss.write_index(written, str(tmp_path / "s" / INDEX_FILE))
    vectors_file.unlink()
    opened = reopen(tmp_path / "s")
    assert len(opened) == 100
    assert [opened.search(vectors[i], 1)[0][0][0] for i in (3, 97)] == [ids[3], ids[97]]


def test_milvus_filter_expressions_quote_and_bound_dates():
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert filter_expression(None) == ""
    assert filter_expression(SearchFilter(langs=())) is None
    assert filter_expression(SearchFilter(sources=('x"y',), date_from="2023", date_to="2023-03")) == (
        'source in ["x\\"y"] and date != "" and date >= "2023" and date < "2023-04"')


def test_bad_configuration_is_reported():
    with pytest.raises(ValueError, match="unknown store"):
        create_store("annoy", DIM)
    with pytest.raises(ValueError, match="unknown FAISS index type"):
        create_store("faiss", DIM, faiss_index="lsh")
    with pytest.raises(TypeError, match="unknown store tunable"):
        create_store("faiss", DIM, hnsw_ef=10)


def test_open_store_without_a_saved_store_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="build the index"):
        open_store(tmp_path)


def test_settings_carry_every_index_tunable():
    settings = Settings()
    assert settings_tunables(settings) == asdict(IndexParams())
    store = create_store_from_settings(settings.with_(faiss_index="hnsw", store_hnsw_ef_search=40), DIM)
    assert store.kind == "hnsw" and store.params.hnsw_ef_search == 40


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_saving_a_mapped_store_over_its_own_directory_is_safe(corpus, reopen, tmp_path, kind):
    ids, vectors, meta = corpus
    _saved_store(corpus, tmp_path / "s", 50, kind)
    mapped = reopen(tmp_path / "s", mmap=True)
    mapped.save(tmp_path / "s")
    assert mapped.search(vectors[7], 1)[0][0][0] == ids[7]
    assert reopen(tmp_path / "s").search(vectors[8], 1)[0][0][0] == ids[8]
