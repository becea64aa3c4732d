"""How a source is named to a reader: outlet, date (and whether it was inferred), title; a citation to paste.

In: a `Citation`, `Passage` or `StoryCopy` (anything with .title .source .date .date_inferred) and the language of
the question ("en", "zh-hans", "zh-hant"). Out: plain strings in that language and script, for the UI, the
notebook view and the command line:
- `date_text(item, lang)`: "2023-02-28", or "2023-02-28 (inferred from a copy of the story)";
- `outlet_and_date(item, lang)`: what a source card shows beside its title;
- `reference(item, lang)`: `Southeast Net, 2023-03-22, "Title"` / `东南网，2023-02-28，《标题》`;
- `quotation(text, item, lang)`: the quote followed by its reference, ready to paste into an article.
Nothing here shows a document id or a file name: those mean nothing to a reader.
"""

from __future__ import annotations

from typing import Protocol

from rag.lang.text import in_chinese_script, is_chinese

_INFERRED = {
    "en": {"lead": "from its lead", "copy": "from a copy of the story", "listing": "from the page that lists it"},
    "zh": {"lead": "据导语推断", "copy": "据同一报道的另一版本推断", "listing": "据刊载该文的版面目录推断"},
}
_UNKNOWN_OUTLET = {"en": "unknown outlet", "zh": "来源不详"}
_UNDATED = {"en": "undated", "zh": "日期不详"}


class Sourced(Protocol):
    title: str
    source: str | None
    date: str | None
    date_inferred: str


def _key(lang: str) -> str:
    return "zh" if is_chinese(lang) else "en"


def _joined(parts: list[str], lang: str) -> str:
    return ("，" if is_chinese(lang) else ", ").join(parts)


def outlet_text(item: Sourced, lang: str) -> str:
    """The outlet, or "unknown outlet" in the question's language."""
    return item.source or in_chinese_script(_UNKNOWN_OUTLET[_key(lang)], lang)


def date_text(item: Sourced, lang: str, undated: bool = False) -> str:
    """The date, with where it was inferred from when the article does not state it; "" (or "undated" when
    `undated`) without a date."""
    key = _key(lang)
    if not item.date:
        return in_chinese_script(_UNDATED[key], lang) if undated else ""
    how = _INFERRED[key].get(item.date_inferred)
    if not how:
        return item.date
    return in_chinese_script(f"{item.date}（{how}）", lang) if key == "zh" else f"{item.date} (inferred {how})"


def outlet_and_date(item: Sourced, lang: str, undated: bool = False) -> str:
    """Outlet and date (the date left out when there is none, unless `undated` asks to say so)."""
    return _joined([part for part in (outlet_text(item, lang), date_text(item, lang, undated)) if part], lang)


def reference(item: Sourced, lang: str) -> str:
    """Outlet, date and title, as a reader would cite the article."""
    title = f"《{item.title}》" if is_chinese(lang) else f"\u201c{item.title}\u201d"
    return _joined([outlet_and_date(item, lang, undated=True), title], lang)


def quotation(text: str, item: Sourced, lang: str) -> str:
    """`text` quoted, then its reference: what the copy buttons put on the clipboard."""
    text = " ".join(text.split())
    if is_chinese(lang):
        return f"\u201c{text}\u201d（{reference(item, lang)}）"
    return f"\u201c{text}\u201d ({reference(item, lang)})"
