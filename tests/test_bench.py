"""eval/bench.py (speed and size report) and eval/report_readme.py (README numbers from the reports)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import rag.api as api
from rag.chunk import chunk_document
from rag.ingest import load_documents
from rag.retrieve import RetrievalParams
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `eval` is a folder of scripts, not an installed package

from eval import bench, report_readme  # noqa: E402

SEED_FILE = ROOT / "seeds" / "001_b68a85b33c870ddc.txt"  # the smallest seed: one article, 5 chunks


# ---- bench pieces, no embedding ---------------------------------------------------------------

def test_stage_timer_charges_nested_calls_to_the_outer_stage() -> None:
    timer = bench.StageTimer()
    inner = timer.wrap("embed", lambda: None)
    outer = timer.wrap("anchors", lambda: inner())
    outer()
    inner()
    assert timer.calls == {"anchors": 1, "embed": 1}
    assert set(timer.seconds) == {"anchors", "embed"}


def test_instrumentation_restores_the_pipeline_and_flags_stages_it_never_saw() -> None:
    chunk, save = api.chunk_document, api.RAG._save
    with pytest.raises(RuntimeError, match="no longer reached stage"):
        with bench.instrumented_pipeline(bench.StageTimer()):
            assert api.chunk_document is not chunk and api.RAG._save is not save
    assert api.chunk_document is chunk and api.RAG._save is save


def test_gold_questions_are_distinct_bilingual_and_repeatable() -> None:
    questions = bench.gold_questions(60)
    assert len(questions) == 61 == len({q for q, _ in questions})
    assert {"en", "zh-hans"} <= {lang for _, lang in questions}
    assert bench.gold_questions(60) == questions


def test_random_unit_vectors_are_unit_and_seeded() -> None:
    vectors = bench.random_unit_vectors(50, 384)
    assert vectors.dtype == np.float32 and vectors.shape == (50, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, bench.random_unit_vectors(50, 384))


def test_retrieval_params_follow_the_settings_of_the_same_name() -> None:
    params = RetrievalParams.from_settings(Settings(candidates=7, prf_weight=3.5, passages_per_doc=1))
    assert (params.candidates, params.prf_weight, params.passages_per_doc) == (7, 3.5, 1)


def test_synthetic_corpus_spans_point_into_articles_and_grow_by_prefix() -> None:
    pool = bench.sentence_pool(ROOT / "seeds", ROOT / "no-datasets-here")
    assert pool["zh"] and pool["en"]
    docs, chunks = bench.synthetic_corpus(30, pool, 360)
    assert len(chunks) == 30
    by_id = {d.id: d for d in docs}
    for chunk in chunks:
        a, b = chunk.span
        assert by_id[chunk.doc_id].text[a:b] == chunk.text
        assert chunk.lang == by_id[chunk.doc_id].lang
    _, fewer = bench.synthetic_corpus(12, pool, 360)
    assert [c.text for c in fewer] == [c.text for c in chunks[:12]]


def test_synthetic_corpus_is_written_in_shards_that_ingest_back_whole(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(bench, "SHARD_ARTICLES", 2)
    [folder] = bench.write_synthetic_corpus(40, ROOT / "seeds", ROOT / "no-datasets-here", Settings(),
                                            tmp_path / "synthetic")
    docs, _ = bench.synthetic_corpus(40, bench.sentence_pool(ROOT / "seeds", ROOT / "no-datasets-here"), 360)
    assert len(list(Path(folder).glob("*.jsonl"))) == -(-len(docs) // 2)
    loaded = load_documents([folder]).documents
    assert sorted(d.title for d in loaded) == sorted(d.title.strip() for d in docs)  # every article, none skipped


def test_embedding_throughput_rows_cover_the_embedder_and_its_cache(capsys: pytest.CaptureFixture[str]) -> None:
    from eval import bench_embed

    assert bench_embed.main(["--chunks", "6", "--datasets", str(ROOT / "no-datasets-here")]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| embedder")]
    assert [r.split(" | ")[0] for r in rows] == ["| embedder", "| embedder + cache (RAG.build)"]
    assert all(float(r.split(" | ")[2].replace(",", "")) > 0 for r in rows)  # chunks/s


def test_mixed_corpus_adds_dataset_paragraphs_up_to_the_chunk_target(tmp_path: Path) -> None:
    # A dataset folder in the public layout, with paragraphs taken from the seed articles.
    datasets = tmp_path / "datasets"
    (datasets / "toy").mkdir(parents=True)
    articles = load_documents([ROOT / "seeds"]).documents
    rows = [{"id": f"p{i}", "title": d.title, "text": d.text, "lang": d.lang} for i, d in enumerate(articles)]
    (datasets / "toy" / "corpus.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows),
                                                    encoding="utf-8")
    settings = Settings()
    seed_chunks = sum(len(chunk_document(d, 360, 60, 120)) for d in load_documents([SEED_FILE]).documents)
    out = tmp_path / "mixed.jsonl"
    paths = bench.write_mixed_corpus(seed_chunks + 20, SEED_FILE, datasets, settings, out)
    assert paths == [str(SEED_FILE), str(out)]
    added = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    chunks = [len(chunk_document(d, 360, 60, 120)) for d in load_documents([out]).documents]
    assert seed_chunks + sum(chunks) >= seed_chunks + 20 > seed_chunks + sum(chunks[:-1])
    assert len(added) == len(chunks)
    bench.write_mixed_corpus(seed_chunks + 20, SEED_FILE, datasets, settings, tmp_path / "again.jsonl")
    assert (tmp_path / "again.jsonl").read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


# ---- report_readme ----------------------------------------------------------------------------

def _eval_run_report(folder: Path, name: str, overall: dict, groups: bool = False) -> None:
    summary = {"overall": overall, "latency_ms": {"p50": 1.0, "p95": 2.0}}
    summary.update({"by_group": {"all": overall}} if groups else {"by_type": {}, "by_lang": {}})
    (folder / f"{name}.json").write_text(json.dumps({"rows": [], "summary": summary}), encoding="utf-8")
    (folder / f"{name}.md").write_text(f"# {name}\n_2026-11-20 10:00_\n", encoding="utf-8")


def test_readme_section_is_appended_once_then_replaced_in_place() -> None:
    readme = "# Tool\n\nIntro.\n"
    first = report_readme.rewrite(readme, "table v1\n")
    assert first.startswith(readme.rstrip("\n")) and first.count(report_readme.START) == 1
    second = report_readme.rewrite(first + "\n## After\n", "table v2\n")
    assert "table v1" not in second and "table v2" in second and second.endswith("## After\n")
    assert report_readme.rewrite(second, "table v2\n") == second
    with pytest.raises(ValueError, match="broken"):
        report_readme.rewrite(f"{report_readme.END}\n{report_readme.START}\n", "x\n")


def test_reports_are_sorted_into_gold_datasets_and_speed(tmp_path: Path) -> None:
    gold = {"n": 163, "recall@1": 0.73, "recall@5": 0.94, "answer_hit": 0.57, "citation_hit": 0.59,
            "abstention_recall": 0.89, "abstention_precision": 0.24}
    _eval_run_report(tmp_path, "gold", gold)
    _eval_run_report(tmp_path, "gold-dense", {**gold, "answer_hit": 0.1})
    _eval_run_report(tmp_path, "xquad-mixed", {"n": 2380, "recall@1": 0.61, "recall@5": 0.83}, groups=True)
    found = report_readme.find_reports(tmp_path)
    assert found.gold is not None and found.gold.name == "gold" and found.gold.date == "2026-11-20"
    assert [r.name for r in found.datasets] == ["xquad-mixed"]
    assert found.speed is None
    section = report_readme.render_section(found)
    assert "| AnswerHit (a gold string in the answer) | 0.570 |" in section
    assert "| xquad-mixed | 2380 | 0.610 | 0.830 | 2026-11-20 |" in section
    assert "No speed report yet" in section


# ---- the whole benchmark on a toy size (embeds for real: slow) --------------------------------

@pytest.mark.slow
def test_bench_runs_on_a_toy_size_and_feeds_the_readme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reports" / "bench.json"
    assert bench.main(["--seeds", str(SEED_FILE), "--sizes", "40", "--embed-max", "5", "--questions", "3",
                       "--mixed-chunks", "0", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    for heading in ("## 0. Cold start", "## 1. Ingestion and indexing", "## 2. Index size and memory",
                    "## 3. Query latency", "## 4. Search latency as the corpus grows"):
        assert heading in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    [build] = data["builds"]
    articles = load_documents([SEED_FILE]).documents
    assert build["articles"] == len(articles)
    assert build["chunks"] == sum(len(chunk_document(d, 360, 60, 120)) for d in articles)
    assert build["chars"] == sum(len(d.text) for d in articles)
    assert set(build["stages_s"]) == {*bench.BUILD_STAGES, "other"}
    assert build["stages_s"]["embed"] > 0 and build["disk_bytes"] > 0
    assert build["peak_rss_mb"] >= build["base_rss_mb"] > 0
    assert [lat["call"] for lat in data["latency"]] == ["search k=10", "ask k=5"]
    cold = data["cold_start"]
    assert len(cold["bare_s"]) == len(cold["ask_s"]) == 3 and min(cold["ask_s"]) > 0 and cold["ratio"] > 0
    assert all(lat["n"] == 3 and lat["stages_ms"]["embed"][0] > 0 for lat in data["latency"])
    assert "compose" in data["latency"][1]["stages_ms"]
    assert [row["chunks"] for row in data["scale"]] == [40] and data["scale"][0]["embedded"] == 5
    assert data["scale"][0]["add_s"] > data["scale"][0]["add_embed_s"] > 0  # a new article, embedded for real

    readme = tmp_path / "README.md"
    readme.write_text("# Tool\n", encoding="utf-8")
    assert report_readme.main(["--reports", str(out.parent), "--readme", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert f"| search() p50 / p95, seeds (3 questions) | {data['latency'][0]['p50_ms']:.0f} / " in text
    assert report_readme.main(["--reports", str(out.parent), "--readme", str(readme), "--check"]) == 0


def test_encoder_pieces_send_every_character_once_in_chunk_size_pieces() -> None:
    texts = ["a" * 25, "", "bc" * 7]
    pieces = bench.encoder_pieces(texts, 10)
    assert "".join(pieces) == "".join(texts) and max(map(len, pieces)) == 10
    assert [len(p) for p in pieces] == [10, 10, 5, 10, 4]
