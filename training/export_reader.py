"""Export a trained reader for `rag.reader`: an int8 ONNX graph, its no-answer threshold calibrated on held-out data.

    python -m training.export_reader --run training/runs/reader [--out rag/data/reader] [--calibrate 3000]

In:  RUN/checkpoint.pt and RUN/heldout.jsonl from `training/train_reader.py`, RUN/train.json (what was run), and the
     encoder it started from (as RUN/train.json records it, or --encoder).
Out: OUT/reader.onnx (encoder layers + QA head; inputs `inputs_embeds` (batch, tokens, 384) and `attention_mask`,
     outputs `start_logits`, `end_logits`; weights dynamically quantised to int8) and OUT/reader.json (window sizes,
     `no_answer_threshold`, the held-out scores and the training record).

Calibration: held-out examples (never trained on: CMRC 2018 train, its Traditional copies, SQuAD 1.1 / 2.0,
SQuADShifts, and, from a run with `--across`, their questions put into the other language; as many of each language
pair), each also asked of another paragraph in its language that lacks its answer; the threshold is the margin of best
span over no-answer that keeps 96% of the answerable ones in their paragraph's language answered, and the report
gives F1 and abstention on both, per language pair (an unanswerable example scores 1 when the reader returns
nothing). Nothing from ../shared/datasets/xquad-* or cmrc-trial is read."""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from rag.evaluation.metrics import f1_score
from rag.reader import CONFIG_FILE, MODEL_FILE, Reader, ReaderConfig
from training.train_reader import context_language

ROOT = Path(__file__).resolve().parent.parent
ANSWERABLE_ABSTAIN = 0.04


def export_onnx(run: Path, encoder: Path, out: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import BertForQuestionAnswering

    model = BertForQuestionAnswering.from_pretrained(encoder)
    state = torch.load(run / "checkpoint.pt", weights_only=False)["model"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any("word_embeddings" not in m for m in missing):
        raise ValueError(f"checkpoint does not fit the encoder: missing {missing}, unexpected {unexpected}")
    model.eval()

    class FromEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qa = model

        def forward(self, inputs_embeds, attention_mask):  # noqa: ANN001, ANN202
            out = self.qa(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
            return out.start_logits, out.end_logits

    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "reader-fp32.onnx"
        example = (torch.zeros(2, 16, model.config.hidden_size), torch.ones(2, 16, dtype=torch.int64))
        torch.onnx.export(FromEmbeddings(), example, str(plain), input_names=["inputs_embeds", "attention_mask"],
                          output_names=["start_logits", "end_logits"], opset_version=17, dynamo=False,
                          dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        "start_logits": {0: "batch", 1: "tokens"},
                                        "end_logits": {0: "batch", 1: "tokens"}})
        out.mkdir(parents=True, exist_ok=True)
        quantize_dynamic(str(plain), str(out / MODEL_FILE), weight_type=QuantType.QInt8)


def calibration_set(run: Path, n: int, seed: int) -> list[dict]:
    """n held-out examples spread over the sources, plus each one's question on another paragraph in the same
    language (unanswerable)."""
    rows = [json.loads(line) for line in (run / "heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    rng.shuffle(rows)
    languages = sorted({r["lang"] for r in rows})
    picked = [r for lang in languages for r in [r for r in rows if r["lang"] == lang][: n // len(languages)]]
    contexts: dict[str, list[str]] = {}
    for r in rows:
        contexts.setdefault(context_language(r["lang"]), []).append(r["context"])
    made = []
    for r in picked:
        if r["start"] < 0:
            continue
        other = rng.choice(contexts[context_language(r["lang"])])
        if other != r["context"] and r["answer"] not in other:
            made.append({**r, "context": other, "answer": "", "start": -1})
    rng.shuffle(made)  # made in language order: a third of them, of every language
    return picked + made[: len(picked) // 3]


def calibrate(reader: Reader, examples: list[dict]) -> dict:
    """Each example's best margin and F1; the threshold, from the questions in their paragraph's language; scores per
    language pair at it (questions in the other language reported, not calibrated on: see `ANSWERABLE_ABSTAIN`)."""
    margins, f1s, started = [], [], time.perf_counter()
    free = ReaderConfig(**{**reader.config.__dict__, "no_answer_threshold": -1e9})
    probe = Reader(reader.model_dir, free)
    for e in examples:
        spans = probe.read(e["question"], [e["context"]], k=1)
        margin = spans[0].score - 1e9 if spans else -1e9  # the margin over no-answer (threshold was -1e9)
        margins.append(margin)
        f1s.append(f1_score(spans[0].text, [e["answer"]], e["lang"].startswith("zh")) if spans and e["answer"] else 0.0)
    seconds = time.perf_counter() - started
    margins_a, f1_a = np.array(margins), np.array(f1s)
    answerable = np.array([bool(e["answer"]) for e in examples])
    within = np.array([context_language(e["lang"]) == e["lang"] for e in examples])

    # The answer must not be lost for the sake of abstaining: the threshold lets through all but the weakest
    # ANSWERABLE_ABSTAIN of the answerable examples (the target is <= 5% answerable abstain), and the held-out
    # unanswerable ones then say how much abstention that buys. Questions put into the other language word by word
    # do not set it: a threshold of their own (-4.8 against 4.2 for the shipped reader) kept 96% of them answered but
    # also answered 94% of held-out English questions asked over Chinese passages only (`eval.holdout`).
    best = float(np.quantile(margins_a[answerable & within], ANSWERABLE_ABSTAIN))
    kept = margins_a >= best
    report = {"threshold": round(best, 4),
              "mean_f1_at_threshold": round(float(np.mean(np.where(answerable, np.where(kept, f1_a, 0.0), ~kept)
                                                          [within])), 4),
              "examples": len(examples), "seconds": round(seconds, 1)}
    for lang in sorted({e["lang"] for e in examples}):
        rows = [i for i, e in enumerate(examples) if e["lang"] == lang and e["answer"]]
        nones = [i for i, e in enumerate(examples) if e["lang"] == lang and not e["answer"]]
        report[lang] = {
            "f1_answerable_no_threshold": round(100 * float(np.mean(f1_a[rows])), 1) if rows else None,
            "f1_answerable": round(100 * float(np.mean([f1_a[i] if kept[i] else 0 for i in rows])), 1)
            if rows else None,
            "answerable_abstain": round(float(np.mean([not kept[i] for i in rows])), 3) if rows else None,
            "unanswerable_abstain": round(float(np.mean([not kept[i] for i in nones])), 3) if nones else None,
            "n": len(rows), "n_unanswerable": len(nones)}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "training" / "runs" / "reader")
    parser.add_argument("--encoder", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "rag" / "data" / "reader")
    parser.add_argument("--calibrate", type=int, default=3000, help="held-out examples to calibrate on")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    record = json.loads((args.run / "train.json").read_text(encoding="utf-8"))
    encoder = args.encoder or Path(record.get("encoder") or args.run / "e5")  # where train_reader made it
    staging = args.out.with_name(args.out.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    export_onnx(args.run, encoder, staging)
    config = ReaderConfig(max_len=record["max_len"], stride=record["max_len"] // 3)
    (staging / CONFIG_FILE).write_text(json.dumps(config.__dict__), encoding="utf-8")
    report = calibrate(Reader.load(staging), calibration_set(args.run, args.calibrate, args.seed))
    config = ReaderConfig(**{**config.__dict__, "no_answer_threshold": report["threshold"]})
    (staging / CONFIG_FILE).write_text(json.dumps({**config.__dict__, "calibration": report, "training": record},
                                                  ensure_ascii=False, indent=1), encoding="utf-8")
    shutil.rmtree(args.out, ignore_errors=True)
    staging.rename(args.out)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
