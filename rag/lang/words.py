"""Chinese words: jieba's segmenter and part-of-speech tagger over its default dictionary, opened in milliseconds.

In: nothing (jieba's bundled dict.txt). Out: `segmenter()`, a `jieba.Tokenizer` (`cut`, `cut_for_search`, `lcut`);
`tagger()`, a `jieba.posseg.POSTokenizer` over it (`cut` yields words with flags); `frequencies()` and `word_tags()`,
the dictionary's word counts and tags as read-only mappings.

Why: jieba loads its prefix dictionary (500k entries) from a marshal file in ~0.6 s and parses dict.txt again for the
tags in ~0.4 s, in every process: most of a cold `rag ask`. Here both tables are built once per machine into the
cache as marisa tries, keyed by the dictionary's hash, and memory-mapped: they open at once, and a lookup costs
~1.5 us instead of ~0.3. The words and tags are jieba's own, so every segmentation is the same as plain jieba's.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

import jieba
import marisa_trie

from rag.paths import cache_root, write_aside

jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at INFO
log = logging.getLogger(__name__)
FORMAT = 1  # part of the cached tables' names: change it when what they hold changes


class _TrieKeys:
    """Membership, iteration and size of a mapping kept in a marisa trie (`_trie`)."""

    _trie: marisa_trie.RecordTrie | marisa_trie.BytesTrie

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._trie

    def __iter__(self) -> Iterator[str]:
        return iter(self._trie.keys())

    def __len__(self) -> int:
        return len(self._trie)


class _Frequencies(_TrieKeys, Mapping[str, int]):
    """word or word prefix -> count (0 for a prefix that is no word), what `jieba.Tokenizer.FREQ` holds."""

    def __init__(self, trie: marisa_trie.RecordTrie) -> None:
        self._trie = trie

    def __getitem__(self, word: str) -> int:
        found = self._trie.get(word)
        if found is None:
            raise KeyError(word)
        return found[0][0]

    def get(self, word: str, default: int | None = None) -> int | None:  # type: ignore[override]
        found = self._trie.get(word)
        return default if found is None else found[0][0]


class _Tags(_TrieKeys, Mapping[str, str]):
    """word -> jieba part-of-speech flag, what `jieba.posseg.POSTokenizer.word_tag_tab` holds."""

    def __init__(self, trie: marisa_trie.BytesTrie) -> None:
        self._trie = trie

    def __getitem__(self, word: str) -> str:
        found = self._trie.get(word)
        if not found:
            raise KeyError(word)
        return found[0].decode()

    def get(self, word: str, default: str | None = None) -> str | None:  # type: ignore[override]
        found = self._trie.get(word)
        return found[0].decode() if found else default


def frequencies() -> Mapping[str, int]:
    return _tables()[0]


def word_tags() -> Mapping[str, str]:
    return _tables()[2]


@lru_cache(maxsize=1)
def segmenter() -> jieba.Tokenizer:
    """A jieba tokenizer over the default dictionary whose tables are the mapped ones (no load on first use)."""
    freq, total, _ = _tables()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = freq, total, True
    return tokenizer


@lru_cache(maxsize=1)
def tagger():  # noqa: ANN201 - jieba.posseg.POSTokenizer has no type stubs
    """jieba's part-of-speech tagger over `segmenter()`, with the mapped tags."""
    posseg = _import_posseg()
    tagger = object.__new__(posseg.POSTokenizer)  # its __init__ would parse dict.txt for the tags again
    tagger.tokenizer, tagger.word_tag_tab = segmenter(), word_tags()
    return tagger


def _import_posseg():  # noqa: ANN202
    """`jieba.posseg`, imported without its module-level tagger parsing dict.txt (~0.4 s) for tags we map anyway:
    that tagger reads `jieba.dt`'s dictionary file, pointed at an empty one for the import."""
    import sys

    if "jieba.posseg" in sys.modules:
        return sys.modules["jieba.posseg"]
    empty = cache_root() / "words" / "empty-dict.txt"
    empty.parent.mkdir(parents=True, exist_ok=True)
    empty.touch()
    dictionary = jieba.dt.dictionary
    jieba.dt.dictionary = str(empty)
    try:
        import jieba.posseg as posseg
    finally:
        jieba.dt.dictionary = dictionary
    return posseg


def _dictionary_file() -> Path:
    return Path(jieba.__file__).resolve().parent / jieba.DEFAULT_DICT_NAME


@lru_cache(maxsize=1)
def _tables() -> tuple[_Frequencies, int, _Tags]:
    source = _dictionary_file()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    folder = cache_root() / "words"
    freq_file, tags_file = folder / f"jieba-{FORMAT}-{digest}.freq", folder / f"jieba-{FORMAT}-{digest}.tags"
    total_file = folder / f"jieba-{FORMAT}-{digest}.total"
    try:
        return _open(freq_file, total_file, tags_file)
    except (OSError, ValueError, RuntimeError):
        pass
    log.info("Mapping jieba's dictionary for fast starts (once per machine, a few seconds)")
    freq, total = jieba.Tokenizer().gen_pfdict(source.open("rb"))
    tags = {}
    with source.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3:
                tags[parts[0]] = parts[2]
    try:
        # The total last: its presence means the tries are whole.
        write_aside(freq_file, lambda part: marisa_trie.RecordTrie("<I", ((w, (n,)) for w, n in freq.items()))
                    .save(str(part)))
        write_aside(tags_file, lambda part: marisa_trie.BytesTrie((w, t.encode()) for w, t in tags.items())
                    .save(str(part)))
        write_aside(total_file, lambda part: part.write_text(str(total), encoding="utf-8"))
        return _open(freq_file, total_file, tags_file)
    except (OSError, ValueError, RuntimeError) as exc:  # no writable cache: serve from memory
        log.info("could not cache jieba's mapped dictionary in %s (%s)", folder, exc)
        in_memory = marisa_trie.RecordTrie("<I", ((w, (n,)) for w, n in freq.items()))
        return _Frequencies(in_memory), total, _Tags(marisa_trie.BytesTrie((w, t.encode()) for w, t in tags.items()))


def _open(freq_file: Path, total_file: Path, tags_file: Path) -> tuple[_Frequencies, int, _Tags]:
    total = int(total_file.read_text(encoding="utf-8"))  # written last: its presence means the tries are whole
    freq = marisa_trie.RecordTrie("<I").mmap(str(freq_file))
    tags = marisa_trie.BytesTrie().mmap(str(tags_file))
    return _Frequencies(freq), total, _Tags(tags)


@lru_cache(maxsize=4096)
def jieba_tags(text: str) -> tuple[tuple[str, str], ...]:
    """(word, part-of-speech tag) for each word of `text`, remembered: questions and quotes come back."""
    return tuple((p.word, p.flag) for p in tagger().cut(text))
