"""eval.holdout: calibration questions come from the reader's held-out training slice only; a public test set is
reported on, never swept."""

from __future__ import annotations

import pytest

from eval import holdout
from training.train_reader import DATA, heldout


def test_a_public_dataset_is_only_reported_on(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        holdout.main([str(tmp_path)])
    assert stop.value.code == 2 and "test set" in capsys.readouterr().err


@pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/datasets/qa-train")
def test_calibration_questions_are_the_held_out_slice_with_their_paragraphs() -> None:
    corpus, queries = holdout.qa_train_calibration()
    texts = {p["id"]: p["text"] for p in corpus}
    assert {p["lang"] for p in corpus} == {"en", "zh-hans"}
    assert all(heldout(text) for text in texts.values())  # never a paragraph the reader was trained on
    for q in queries[:: max(1, len(queries) // 200)]:
        [gold] = q["gold_ids"]
        assert any(answer in texts[gold] for answer in q["answers"])
        assert holdout.article_of(gold) == gold.rsplit("-", 1)[0]
