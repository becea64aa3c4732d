"""The citation check: does the cited passage really say what the answer claims?

In: `Claim`s (the words an answer asserts, the passage each cites) and the passages' texts.
Out: the claims that hold, and a note for each one dropped.

A verbatim claim (an extractive quote) must occur in the passage, whitespace- and script-
insensitively. Every claim's numbers must be in the passage: the same digits (`11,265` ==
`11265`) or the same value (`3.3万` == `33,000`). A generated claim's names (places, people,
organisations) must be in the passage too, across scripts through pinyin ("Xiamen" ~ "厦门"),
and, when claim and passage share a script, at least one of its key terms.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rag.compose.terms import Haystack, analyze, entity_in, names_en, places_zh
from rag.text import detect_language, fold, is_chinese, numbers_in

log = logging.getLogger(__name__)

_SPACE = re.compile(r"\s+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_VALUE = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(万|亿|thousand|million|billion)?", re.I)
_SCALE = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "thousand": Decimal(1_000),
          "million": Decimal(1_000_000), "billion": Decimal(1_000_000_000)}


@dataclass
class Claim:
    """Something an answer asserts, citing `passage` (an index into the passages checked against).

    `verbatim` claims are quotes that must occur in the passage; `key` is a figure or name the
    answer surfaces next to the claim, checked like the claim's own numbers and names.
    """

    text: str
    passage: int
    verbatim: bool = True
    key: str = ""


def number_values(text: str) -> set[Decimal]:
    """The values of the figures in `text`, both as written and scaled by 万/亿/thousand/million."""
    values: set[Decimal] = set()
    for m in _VALUE.finditer(text):
        try:
            value = Decimal(m.group(1).replace(",", ""))
        except InvalidOperation:
            continue
        values.add(value)
        if m.group(2):
            values.add(value * _SCALE[m.group(2).lower()])
    return values


def unsupported_numbers(claim_text: str, passage: Haystack) -> list[str]:
    """Numbers in `claim_text` that the passage does not state (by digits or by value)."""
    passage_values = number_values(passage.text)
    missing: list[str] = []
    for m in _VALUE.finditer(claim_text):
        digits = m.group(1).replace(",", "")
        if digits in passage.numbers:
            continue
        if number_values(m.group()) & passage_values:
            continue
        missing.append(m.group(1))
    return missing


def unsupported_names(claim_text: str, passage: Haystack) -> list[str]:
    """Names (places, people, organisations) in `claim_text` that the passage does not mention."""
    names = [claim_text[s:e] for s, e in places_zh(claim_text)] if _HAN.search(claim_text) else []
    names += [e for e in analyze(claim_text, detect_language(claim_text)).entities if e not in names]
    names += [n for n in names_en(claim_text) if n not in names]
    return [name for name in names if entity_in(name, passage) is False]


def check_claim(claim: Claim, passage_text: str) -> str | None:
    """None if `passage_text` supports the claim, else why not (for Answer.notes)."""
    passage = Haystack(passage_text)
    if claim.verbatim and _squash(claim.text) not in passage.nospace:
        return "the quoted text is not in the passage"
    missing = unsupported_numbers(f"{claim.text} {claim.key}", passage)
    if missing:
        return f"number(s) {', '.join(missing)} not in the passage"
    if claim.verbatim:
        if claim.key and _squash(claim.key) not in passage.nospace:
            return f"'{claim.key}' is not in the passage"
        return None
    names = unsupported_names(claim.text, passage)
    if names:
        return f"name(s) {', '.join(names)} not in the passage"
    if _same_script(claim.text, passage_text) and not numbers_in(claim.text):
        info = analyze(claim.text, detect_language(claim.text))
        if info.terms and not any(passage.has(t.text) for t in info.terms):
            return "none of its key terms are in the passage"
    return None


def verify_claims(claims: list[Claim], passage_texts: list[str]) -> tuple[list[Claim], list[str]]:
    """Keep the claims their cited passage supports; a note for each one dropped."""
    kept: list[Claim] = []
    notes: list[str] = []
    for claim in claims:
        if not 0 <= claim.passage < len(passage_texts):
            reason: str | None = "it cites a passage that was not given"
        else:
            reason = check_claim(claim, passage_texts[claim.passage])
        if reason is None:
            kept.append(claim)
        else:
            log.info("Dropped claim %r: %s", claim.text[:80], reason)
            notes.append(f"Dropped an unsupported claim ({reason}): {claim.text[:120]}")
    return kept, notes


def _squash(text: str) -> str:
    return _SPACE.sub("", fold(text))


def _same_script(a: str, b: str) -> bool:
    return is_chinese(detect_language(a)) == is_chinese(detect_language(b))
