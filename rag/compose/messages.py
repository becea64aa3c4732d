"""The fixed strings an answer is framed with, in the question's language.

In: the question's language ("en" | "zh-hans" | "zh-hant" | "other") and the pieces of an answer.
Out: text. Traditional Chinese framing is the Simplified framing through OpenCC s2t; quoted
evidence is inserted after conversion, so it is never converted. Questions in other languages get
English framing.
"""

from __future__ import annotations

from rag.lang.text import is_chinese, to_traditional

ABSTAIN = {
    "en": "The indexed articles do not answer this.",
    "zh-hans": "未在已索引的文章中找到答案。",
}

_SOURCE_LANGUAGE = {
    "en": {"en": "English", "zh": "Chinese", "other": "foreign-language"},
    "zh": {"en": "英文", "zh": "中文", "other": "外文"},
}
_KEY_LABEL = {
    "en": {"number": "key figure", "date": "key date", "person": "key name", "place": "key place", "answer": "answer"},
    "zh": {"number": "关键数字", "date": "关键日期", "person": "关键人物", "place": "关键地点", "answer": "答案"},
}


_STOPS = "。.！!？?；;，,、:："
_FULL_STOPS = "。.！!？?"
_CLOSING = "”’\"'）)」』】"


def _family(language: str) -> str:
    return "zh" if is_chinese(language) else "en" if language == "en" else "other"


def _localise(text: str, language: str) -> str:
    return to_traditional(text) if language == "zh-hant" else text


def abstain_text(language: str) -> str:
    if language == "zh-hant":
        return to_traditional(ABSTAIN["zh-hans"])
    return ABSTAIN["zh-hans"] if is_chinese(language) else ABSTAIN["en"]


def marker(n: int) -> str:
    return f"[{n}]"


def same_language_claim(quote: str, n: int, language: str) -> str:
    """`quote [n]` / `quote[n]`: a whole sentence is quoted verbatim, its own stop included, the marker after it
    ("…回归甲组。[1]"); a clause cut from one ends with the marker and a full stop ("…94人[1]。", "… 94 [1].")."""
    chinese = is_chinese(language)
    body = quote.rstrip()
    if body and (body[-1] in _FULL_STOPS or (len(body) >= 2 and body[-1] in _CLOSING and body[-2] in _STOPS)):
        return f"{body}{marker(n)}" if chinese else f"{body} {marker(n)}"
    body = body.rstrip(_STOPS).rstrip()
    return f"{body}{marker(n)}。" if chinese else f"{body} {marker(n)}."


def cross_language_claim(
    quote: str, n: int, language: str, evidence_language: str, source: str | None,
    key_kind: str | None = None, key: str = "",
) -> str:
    """Frame evidence in another language: `According to [1] (Chinese source, 河南日报): … — key figure: 125.`"""
    family = "zh" if is_chinese(language) else "en"
    evidence = _SOURCE_LANGUAGE[family][_family(evidence_language)]
    quote = quote.strip().rstrip("，,、;；:：")
    label = _KEY_LABEL[family].get(key_kind or "") if key else None
    if family == "zh":
        head = _localise(f"据{marker(n)}({evidence}来源{', ' + source if source else ''}):", language)
        tail = f" — {_localise(label, language)}:{key}。" if label else "。"
        return f'{head}"{quote}"{tail}'
    head = f"According to {marker(n)} ({evidence} source{', ' + source if source else ''}): "
    tail = f" — {label}: {key}." if label else ""
    if not tail and (not quote or quote[-1] not in _FULL_STOPS):
        tail = "."
    return f"{head}{quote}{tail}"


def join_claims(claims: list[str], language: str) -> str:
    return ("" if is_chinese(language) else " ").join(claims)


def language_name(language: str) -> str:
    """How the generative prompt names the answer language."""
    return {"en": "English", "zh-hans": "Simplified Chinese", "zh-hant": "Traditional Chinese"}.get(
        language, "the language of the question"
    )
