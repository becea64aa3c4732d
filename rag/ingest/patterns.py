"""Line-level recognisers shared by cleaning and segmentation.

In: one line of text (already stripped of pinyin annotations and NFKC-normalised, see
`rag.ingest.clean.normalize_line`). Out: what the line is: a navigation line, a Markdown
heading or table row, an image caption, a byline, a title-like short line, a line ending a
sentence, and the outlet named by a source trailer such as `(据《河南日报》)`.
"""

from __future__ import annotations

import re

from rag.lang.text import HAN, has_han

# Navigation and page chrome of news web pages / e-paper layouts.
_NAV_PATTERNS = [
    re.compile(r"^第\s*\d{1,3}\s*[版頁页](?:\s*[:：]\s*\S{1,15})?$"),  # 第01版:頭版
    re.compile(r"上一[期篇页頁章]|下一[期篇页頁章]"),  # 上一期下一期
    re.compile(
        r"^(?:版面目[录錄]|版面[导導]航|[标標][题題][导導]航|新[闻聞]内容|新聞內容|本版[标標][题題]|"
        r"返回目[录錄]|返回[顶頂]部|返回首[页頁]|回到[顶頂]部|打印本?[页頁]?|[关關]闭窗口|[关關]閉窗口|"
        r"[责責]任[编編][辑輯][:：].{0,10}|分享到.{0,20}|[当當]前位置[:：].*|"
        r"Home|Menu|Skip to (?:main )?content|Back to top)$",
        re.IGNORECASE,
    ),
]
# "首頁 | 版面導航 | 標題導航", "首页 > 新闻 > 正文": short items joined by | or >.
_MENU_ITEMS = re.compile(r"\s*[|｜>›»]\s*")

_MAX_NAV_CHARS = 80

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")

# Image captions: "(图片来源:中国社会工作联合会)", "(王向前/摄)", "(摄影:张三)".
_CAPTION = re.compile(
    r"[(（]\s*(?:(?:图片|圖片)?(?:来源|來源)\s*[:：][^()（）]{1,40}"
    r"|[^()（）]{0,20}[/／]\s*[摄攝](?:影)?"
    r"|(?:摄影|攝影|记者|記者)\s*[:：]?\s*[^()（）]{1,20}[摄攝])\s*[)）]\s*$"
)

# Source trailer: "(据《潮州日报》、中国社会工作联合会)", "(據東南網)", "(来源:人民网)".
# PDF layouts sometimes put a few characters of the last line after it: "(据《湖州日报》) 县区)。".
_TRAILER = re.compile(
    r"[(（]\s*(?:据|據|来源\s*[:：]|來源\s*[:：]|Source\s*:)\s*(?P<src>[^()（）]{2,60}?)\s*[)）]"
    r"(?P<rest>[^()（）]{0,8}[)）]?[。.]?)\s*$",
    re.IGNORECASE,
)
_NOT_OUTLET = re.compile(r"^(?:了解|悉|说|統計|统计|不完全统计|不完全統計|报道|報道|介绍|介紹|调查|調查|测算|測算)")

_BYLINE = re.compile(
    r"^[■□●◆◇▲△★☆▪•]?\s*(?:本报记者|本報記者|本报通讯员|本報通訊員|特约记者|特約記者|记者|記者|"
    r"通讯员|通訊員|作者|撰文|文[/|／]|[图圖][/|／]|By\s+[A-Z])"
)

# Chinese sentence/clause ends, optionally followed by closing quotes or brackets.
_CLOSERS = "”’\"')）」』】》]"
_SENTENCE_END = re.compile(r"(?:[。！？!?；;…]|(?<![A-Z])\.)[" + re.escape(_CLOSERS) + r"]*$")
_CLAUSE_PUNCT = re.compile(r"[,，;；]")
_INNER_END = re.compile(r"[。！？]")
_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|\"[^\"]*\"|《[^》]*》")

# "福建: 推动社会工作助力乡村振兴", "河南漯河:" - a place name introducing a headline.
_PLACE_KICKER = re.compile(f"^(?P<place>[{HAN}]{{2,8}})[:：]\\s*(?P<rest>.*)$")
_NOT_PLACE = re.compile(
    r"^(?:[一二三四五六七八九十]+是|其[一二三四五六七八九十]|第[一二三四五六七八九十\d]+|记者|記者|通讯员|"
    r"通訊員|作者|编者按|編者按|编辑|編輯|责编|責編|来源|來源|摄影|攝影|图片|圖片|日期|时间|時間|地址|电话|電話)"
)

MAX_TITLE_HAN = 64
MAX_TITLE_WORDS = 20


def is_navigation_line(line: str) -> bool:
    """True for menu items, e-paper page lists and "previous/next issue" links."""
    s = line.strip()
    if not s or len(s) > _MAX_NAV_CHARS or ends_sentence(s) or is_table_row(s):
        return False
    if any(p.search(s) for p in _NAV_PATTERNS):
        return True
    items = [part for part in _MENU_ITEMS.split(s) if part]
    return len(items) >= 3 and _MENU_ITEMS.search(s) is not None and all(len(i) <= 12 for i in items)


def is_table_row(line: str) -> bool:
    """True for a Markdown table row `| a | b |` (how HTML and DOCX tables are written out)."""
    s = line.strip()
    return len(s) >= 2 and s.startswith("|") and s.endswith("|")


def md_heading(line: str) -> tuple[int, str] | None:
    """(level, text) of a Markdown ATX heading line (`# `, `## `...), else None."""
    m = _MD_HEADING.match(line.strip())
    if not m or not m.group(2):
        return None
    return len(m.group(1)), m.group(2)


def is_caption(line: str) -> bool:
    """True for an image caption line ending in `(图片来源:...)` or `(.../摄)`."""
    return _CAPTION.search(line.strip()) is not None


def is_byline(line: str) -> bool:
    """True for a reporter line such as `■ 本报记者 皮磊`."""
    s = line.strip()
    return len(s) <= 40 and _BYLINE.match(s) is not None


def source_trailer(line: str) -> str | None:
    """The outlet named by a `(据...)` trailer ending the line, brackets 《》 removed; else None."""
    m = _TRAILER.search(line.strip())
    if not m:
        return None
    src = re.sub(r"[《》「」〈〉]", "", m.group("src")).strip(" ,，、")
    if not src or _NOT_OUTLET.match(src):
        return None
    return src


def trailer_match(line: str) -> re.Match[str] | None:
    """The raw `(据...)` trailer match of a line (with any displaced residue after it)."""
    m = _TRAILER.search(line)
    if m and source_trailer(m.group(0)):
        return m
    return None


def ends_sentence(line: str) -> bool:
    """True when the line ends with sentence-final punctuation (closing quotes allowed after it)."""
    return _SENTENCE_END.search(line.rstrip()) is not None


def ends_with_colon(line: str) -> bool:
    return line.rstrip().endswith((":", "："))


def is_title_like(line: str) -> bool:
    """A short line that could be a headline: no sentence end, no clause commas (outside quotes).

    Captions, source trailers, bylines and navigation lines are not title-like.
    """
    s = line.strip()
    if not s or ends_sentence(s) or s.endswith(("、", ",", "，")):
        return False
    if is_caption(s) or source_trailer(s) or is_byline(s) or is_navigation_line(s) or md_heading(s):
        return False
    if is_table_row(s):
        return False
    if has_han(s):
        if len(s) > MAX_TITLE_HAN:
            return False
        return _CLAUSE_PUNCT.search(_QUOTED.sub("", s)) is None and not _INNER_END.search(s)
    words = s.split()
    return len(words) <= MAX_TITLE_WORDS and not s.endswith((":", ";")) and (s[0].isupper() or s[0].isdigit())


def place_kicker(line: str) -> str | None:
    """For a title-like `地名: 标题` or `地名:` line, the rest after the colon ("" if none); else None."""
    s = line.strip()
    m = _PLACE_KICKER.match(s)
    if not m or _NOT_PLACE.match(s) or not is_title_like(s):
        return None
    return m.group("rest").strip()
