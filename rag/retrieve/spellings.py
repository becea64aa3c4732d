"""Name spellings: pinyin spelling -> the Han terms of the keyword vocabulary spelled so ("weining" -> 威宁).

In: the vocabulary in id order (it only grows). Out: `NameSpellings` over its first `spelled` terms: extended with new
terms only, and saved with the postings (`spellings.json` in the generation's lexical/ folder), so that no process
spells a whole vocabulary again to answer an English question that names a place (0.3 s at 31k terms; seconds at a
large corpus's hundreds of thousands). A saved table spelled with another pypinyin's readings is spelled again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.lang.pinyin import pinyin_keys, readings_version
from rag.lang.text import all_han

log = logging.getLogger(__name__)

SPELLINGS_FILE = "spellings.json"
_PLACE_SUFFIXES = frozenset("省市县区镇乡村州盟旗")


@dataclass(frozen=True)
class NameSpellings:
    """Spelling -> Han terms (in vocabulary order) of the vocabulary's terms [0, spelled). Immutable: `extended`
    returns the next one, so an index and the one updated from it never share a change."""

    han_by_pinyin: dict[str, list[str]] = field(default_factory=dict)
    spelled: int = 0

    def get(self, spelling: str) -> list[str]:
        return self.han_by_pinyin.get(spelling, [])

    def extended(self, terms: Sequence[str]) -> NameSpellings:
        """These spellings and those of `terms[spelled:]` (Han terms of 2-5 characters)."""
        table = dict(self.han_by_pinyin)  # lists are copied where a new term joins them
        for token in terms[self.spelled:]:
            if all_han(token) and 2 <= len(token) <= 5:
                # "漯河市" is also spelled "Luohe": index the name without its place suffix too.
                stems = {token, token[:-1]} if token[-1] in _PLACE_SUFFIXES and len(token) >= 3 else {token}
                for key in set().union(*(pinyin_keys(stem) for stem in stems)):
                    table[key] = [*table.get(key, ()), token]
        return NameSpellings(table, len(terms))

    def save(self, folder: Path) -> None:
        document = {"readings": readings_version(), "spelled": self.spelled, "table": self.han_by_pinyin}
        (folder / SPELLINGS_FILE).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> NameSpellings | None:
        """What `save` wrote into `folder`; None when there is none, or it was spelled with other readings."""
        try:
            document = json.loads((folder / SPELLINGS_FILE).read_text(encoding="utf-8"))
            if document["readings"] != readings_version():
                return None
            return cls(document["table"], int(document["spelled"]))
        except FileNotFoundError:  # an index saved before spellings were
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the name spellings in %s are unreadable (%s): spelling the vocabulary again", folder, exc)
            return None
