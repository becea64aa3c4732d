"""Pinyin: Chinese names matched in English text and English spellings matched in Chinese text.

In: a Han word or character, or a romanised name. Out: `pinyin_readings(char)` (every toneless reading, "重" ->
zhong, chong), `pinyin_keys(word)` (every spelling, "漯河" -> luohe, tahe), `is_pinyin(word)`, `han_pattern(name)`
(a regex over the Han spellings of "Weining") and `latin_pattern(core)` (a regex over the pinyin of "威宁").
Readings come from pypinyin's table, copied once per pypinyin version into the cache: importing pypinyin costs a
third of a second per process, reading the copy 20 ms. `EXONYMS`: places whose English name is not their pinyin.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache

from rag.paths import cache_root, write_aside

log = logging.getLogger(__name__)

EXONYMS = {"hong kong": "香港", "macau": "澳门", "macao": "澳门", "tibet": "西藏", "inner mongolia": "内蒙古"}


def pinyin_keys(word: str, limit: int = 16) -> set[str]:
    """Toneless pinyin spellings of a Han word ("漯河" -> {"luohe", "tahe"}), every reading of each character."""
    combos = [""]
    for char in word:  # per character: a phrase reading would keep only one reading of 漯 ("ta", not "luo")
        combos = [c + r for c in combos for r in pinyin_readings(char)][:limit]
    return set(combos)


@lru_cache(maxsize=65536)
def pinyin_readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of a Han character ("重" -> ("zhong", "chong")); ("",) for any other character."""
    return tuple(reading_table().get(char, "").split(","))


@lru_cache(maxsize=1)
def readings_version() -> str:
    """The version of pypinyin whose readings `pinyin_keys` spells with (what a saved spelling depends on)."""
    import importlib.metadata

    return importlib.metadata.version("pypinyin")


@lru_cache(maxsize=1)
def reading_table() -> dict[str, str]:
    """Han character -> its toneless pypinyin readings (every heteronym), built once per pypinyin version into the
    cache: importing pypinyin's tables costs ~0.35 s per process, reading this copy ~20 ms. Readings are joined
    by commas."""
    cached = cache_root() / "pinyin" / f"readings-1-{readings_version()}.json"
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    from pypinyin import Style, pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    table: dict[str, str] = {}
    for code in pinyin_dict:
        readings = pinyin(chr(code), style=Style.NORMAL, heteronym=True, errors="ignore")
        if readings and readings[0]:
            table[chr(code)] = ",".join(readings[0])
    try:
        write_aside(cached, lambda part: part.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8"))
    except OSError as exc:
        log.info("could not cache pinyin readings in %s (%s)", cached.parent, exc)
    return table


@lru_cache(maxsize=1)
def _syllable_chars() -> dict[str, str]:
    """Toneless pinyin syllable -> the Han characters that can be read that way, from the cached reading table
    (not pypinyin's own, a third of a second to import). ü counts as v and as u: 吕 is "Lu" in English news."""
    table: dict[str, set[str]] = {}
    for char, readings in reading_table().items():
        for reading in readings.split(","):
            for syllable in {reading, reading.replace("v", "u")}:
                table.setdefault(syllable, set()).add(char)
    return {k: "".join(sorted(v)) for k, v in table.items() if k.isascii() and k.isalpha()}


@lru_cache(maxsize=2048)
def _segmentations(word: str) -> tuple[tuple[str, ...], ...]:
    """All ways (at most 4) to read `word` (lower-case letters) as pinyin syllables."""
    syllables = _syllable_chars()
    results: list[tuple[str, ...]] = []

    def walk(pos: int, acc: tuple[str, ...]) -> None:
        if len(results) >= 4:
            return
        if pos == len(word):
            results.append(acc)
            return
        for size in range(min(6, len(word) - pos), 0, -1):
            piece = word[pos : pos + size]
            if piece in syllables and (size > 1 or piece in "aeo"):
                walk(pos + size, acc + (piece,))

    walk(0, ())
    return tuple(results)


def is_pinyin(word: str) -> bool:
    letters = re.sub(r"['’-]", "", word.lower())
    return len(letters) >= 4 and letters.isalpha() and letters.isascii() and bool(_segmentations(letters))


@lru_cache(maxsize=2048)
def han_pattern(name: str) -> re.Pattern[str] | None:
    """A regex matching Han spellings of a romanised name ("Weining" -> [威微...][宁凝...])."""
    lowered = name.lower()
    if lowered in EXONYMS:
        return re.compile(re.escape(EXONYMS[lowered]))
    letters = re.sub(r"[\s'’-]", "", lowered)
    if not (len(letters) >= 4 and letters.isascii() and letters.isalpha()):
        return None
    chars = _syllable_chars()
    options = ["".join(f"[{chars[s]}]" for s in seg) for seg in _segmentations(letters)]
    return re.compile("|".join(options)) if options else None


@lru_cache(maxsize=2048)
def latin_pattern(core: str) -> re.Pattern[str] | None:
    """A regex matching the pinyin spelling of a Chinese name in Simplified, without its place suffix ("威宁" ->
    r"\\bwei[\\s'-]?ning"), any reading of each character ("重庆" -> (?:zhong|chong)qing): names often take a
    character's rarer reading."""
    for english, chinese in EXONYMS.items():
        if core == chinese:
            return re.compile(r"\b" + re.escape(english), re.I)
    syllables = [readings for char in core if all(readings := pinyin_readings(char))]
    if len(syllables) < 2:
        return None
    return re.compile(r"\b" + r"[\s'’-]?".join(f"(?:{'|'.join(r)})" for r in syllables) + r"\b", re.I)
