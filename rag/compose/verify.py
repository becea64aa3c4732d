"""The citation check: does the cited passage really say what the answer claims?

In: `Claim`s (the words an answer asserts, the passage each cites) and the passages' texts.
Out: the claims that hold, and a note for each one dropped.

A verbatim claim (an extractive quote) must occur in the passage, whitespace- and script-
insensitively. Every claim's numbers must be in the passage: the same digits (`11,265` ==
`11265`) or the same value (`3.3万` == `33,000`, `一百万` == `1,000,000`, `twelve thousand` ==
`12,000`); a figure with a unit of scale must match in value (`11,265万` is not `11,265`). Numbers
written in words are read by `rag.lang.text.han_numeral_value` and text2num. A generated claim's names (places, people,
organisations) must be in the passage too, across scripts through pinyin ("Xiamen" ~ "厦门"),
and at least one of its key terms (across languages, through the CC-CEDICT dictionary).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rag.lang.text import FIGURE, WHITE_SPACE, detect_language, fold, han_numeral_value, has_han, is_chinese, numbers_in
from rag.query.analyze import analyze, names_en
from rag.query.place_names import places_zh
from rag.query.text_view import TextView, entity_in

log = logging.getLogger(__name__)

_VALUE = re.compile(rf"({FIGURE})\s*(万|亿|thousand|million|billion)?", re.I)
# A run of Chinese numerals is a number only with a unit of ten or more in it: 一百万, 三十, not 统一 or 一直.
_HAN_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万亿]{2,}")
_HAN_UNIT = re.compile(r"[十百千万亿]")
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
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
    """The values of the figures in `text`: as written and scaled by 万/亿/thousand/million, and those spelled out."""
    values: set[Decimal] = set()
    for m in _VALUE.finditer(text):
        value = _decimal(m.group(1))
        if value is None:
            continue
        values.add(value)
        if m.group(2):
            values.add(value * _SCALE[m.group(2).lower()])
    return values | {value for _, value in spelled_numbers(text)}


def spelled_numbers(text: str) -> list[tuple[str, Decimal]]:
    """Numbers written in words, as (words, value): Chinese numerals (一百万, 一万二千) and English number words
    (twelve thousand). Figures written with digits are left to `_VALUE`, scale words included ("1.5 million")."""
    found: list[tuple[str, Decimal]] = []
    for m in _HAN_NUMERAL.finditer(text):
        value = han_numeral_value(m.group()) if _HAN_UNIT.search(m.group()) else None
        if value is not None:  # None: 万一 and the like, numerals that are no number
            found.append((m.group(), Decimal(value)))
    masked = _VALUE.sub(" ", text)
    if _LATIN_WORD.search(masked):
        from text_to_num import alpha2digit

        converted = alpha2digit(masked, "en")
        if converted != masked:
            for m in _VALUE.finditer(converted):
                value = _decimal(m.group(1))  # every figure here was words: `masked` holds no digits
                if value is not None:
                    found.append((m.group(1), value))
    return found


def unsupported_numbers(claim_text: str, passage: TextView) -> list[str]:
    """Numbers in `claim_text` that the passage does not state. A figure written with digits alone may match the
    passage's digits (`11,265` == `11265`) or a value there (`33,000` == `3.3万`); one with a unit of scale, or
    written in words, must match a value there (`11,265万` does not match `11,265`)."""
    passage_values = number_values(passage.text)
    missing: list[str] = []
    for m in _VALUE.finditer(claim_text):
        value = _decimal(m.group(1))
        if m.group(2) and value is not None:
            if value * _SCALE[m.group(2).lower()] not in passage_values:
                missing.append(m.group().strip())
            continue
        if m.group(1).replace(",", "") in passage.numbers or value in passage_values:
            continue
        missing.append(m.group(1))
    missing += [words for words, value in spelled_numbers(claim_text) if value not in passage_values]
    return missing


def _decimal(digits: str) -> Decimal | None:
    try:
        return Decimal(digits.replace(",", ""))
    except InvalidOperation:
        return None


def unsupported_names(claim_text: str, passage: TextView) -> list[str]:
    """Names (places, people, organisations) in `claim_text` that the passage does not mention."""
    names = [claim_text[s:e] for s, e in places_zh(claim_text)] if has_han(claim_text) else []
    names += [e for e in analyze(claim_text, detect_language(claim_text)).entities if e not in names]
    names += [n for n in names_en(claim_text) if n not in names]
    return [name for name in names if entity_in(name, passage) is False]


def check_claim(claim: Claim, passage_text: str) -> str | None:
    """None if `passage_text` supports the claim, else why not (for Answer.notes)."""
    passage = TextView(passage_text)
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
    if not numbers_in(claim.text):
        info = analyze(claim.text, detect_language(claim.text))
        if not info.terms:
            return None
        if _same_script(claim.text, passage_text):
            if not any(passage.has(t.text) for t in info.terms):
                return "none of its key terms are in the passage"
        elif not any(passage.has(word) for t in info.terms for word in (t.text, *t.translations) if len(word) > 1):
            # Across languages a claim with no figure or name was not checked at all before: its key terms are
            # looked up in the passage through the dictionary ("moon" -> 月亮, 月球; 社工 -> social worker). A
            # one-character rendering (月 for "moon") is in too many passages to tell anything.
            return "none of its key terms, in either language, are in the passage"
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
    return WHITE_SPACE.sub("", fold(text))


def _same_script(a: str, b: str) -> bool:
    return is_chinese(detect_language(a)) == is_chinese(detect_language(b))
