import json
from pathlib import Path

from eval.script_variants import write_variants


def test_variants_convert_one_side_and_keep_the_ids(tmp_path: Path):
    source = tmp_path / "toy"
    source.mkdir()
    (source / "corpus.jsonl").write_text(json.dumps(
        {"id": "d1", "title": "社会工作", "text": "厦门持证社工11265人。", "lang": "zh"}, ensure_ascii=False) + "\n")
    (source / "queries.jsonl").write_text(json.dumps(
        {"id": "q1", "question": "厦门有多少持证社工？", "gold_ids": ["d1"], "lang": "zh"}, ensure_ascii=False) + "\n")
    questions, corpus = write_variants(source, tmp_path / "out")

    read = lambda path: [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]  # noqa: E731
    [query] = read(questions / "queries.jsonl")
    assert query["question"] == "廈門有多少持證社工？" and query["gold_ids"] == ["d1"] and query["lang"] == "zh-hant"
    assert read(questions / "corpus.jsonl") == read(source / "corpus.jsonl")
    [doc] = read(corpus / "corpus.jsonl")
    assert (doc["id"], doc["title"], doc["text"]) == ("d1", "社會工作", "廈門持證社工11265人。")
    assert read(corpus / "queries.jsonl") == read(source / "queries.jsonl")
