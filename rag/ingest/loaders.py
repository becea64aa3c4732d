"""Read each supported format into text; refuse files that are too big, binary or unreadable.

In: a path. Out: `LoadedText` (the file's text, plus a title/date when the format's metadata
states them) for .txt, .md, .html/.htm, .pdf, .docx; `JsonlRecord`s or `JsonlLineError`s, one per
line, for .jsonl, streamed. Problems raise `IngestError(path, reason)`.

- Encodings are detected from the bytes, not guessed from the extension: a BOM (UTF-8, UTF-16),
  else strict UTF-8, else charset-normalizer (GB18030/GBK, Big5, ...).
- The size limit is checked before anything is read (`max_file_mb`, `RAG_MAX_FILE_MB`).
- HTML: trafilatura keeps the main text (menus, footers and link lists go) as Markdown, so
  headings stay headings.
- PDF: pypdf's text, pages separated by a blank line, page-number lines dropped; the line-break
  damage is repaired later by `rag.ingest.clean`.
- DOCX: python-docx paragraphs and tables in order; "Title"/"Heading N" styles become Markdown
  headings and table rows Markdown rows (`| a | b |`), as trafilatura writes HTML tables.
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.ingest.errors import IngestError
from rag.lang.text import valid_unicode

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx", ".jsonl"}

_SAMPLE_BYTES = 64 * 1024
_PAGE_NUMBER = re.compile(r"^[-—–\s]*(?:第\s*)?\d{1,4}(?:\s*[页頁])?(?:\s*(?:/|of)\s*\d{1,4})?[-—–\s]*$|^Page \d+")


@dataclass
class LoadedText:
    """A file's text; `title`/`date` come from the format's metadata (HTML) when present."""

    text: str
    title: str | None = None
    date: str | None = None


@dataclass
class JsonlRecord:
    """One article line of a .jsonl corpus; `span` is the line's (start, end) in the decoded file."""

    line_no: int
    span: tuple[int, int]
    id: str | None
    title: str
    text: str
    date: str | None = None
    source: str | None = None
    lang: str | None = None
    url: str | None = None


@dataclass
class JsonlLineError:
    line_no: int
    reason: str


def check_size(path: Path, max_file_mb: float) -> None:
    """Refuse a file over `max_file_mb` (before reading it) and an empty one."""
    size = path.stat().st_size
    if size == 0:
        raise IngestError(path, "empty file")
    if size > max_file_mb * 1024 * 1024:
        raise IngestError(
            path,
            f"file is {size / 1024 / 1024:.1f} MB, over the {max_file_mb:g} MB limit; split it, or raise "
            f"the limit with max_file_mb in rag.toml or the RAG_MAX_FILE_MB environment variable",
        )


def _bom_encoding(data: bytes) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _looks_binary(text: str) -> bool:
    """More than 1% control/unassigned/private-use characters: not text in any encoding."""
    sample = text[:20000]
    bad = sum(
        1 for ch in sample if unicodedata.category(ch) in {"Cc", "Cn", "Co", "Cs"} and ch not in "\n\r\t\f"
    )
    return bad > max(1, len(sample) // 100)


def detect_encoding(data: bytes) -> str:
    """The codec name for `data`: BOM, else UTF-8 if it decodes strictly, else charset-normalizer.

    Raises ValueError with a reason when the bytes are binary or in no recognisable encoding.
    `data` may be a prefix of a file: a multi-byte character cut at its end is tolerated.
    """
    bom = _bom_encoding(data)
    if bom:
        return bom
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes), not text")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ValueError("unknown text encoding (not UTF-8, GB18030/GBK or Big5); re-save the file as UTF-8")
    # GB2312 and GBK are subsets of GB18030: decode with the superset so rarer characters survive.
    return "gb18030" if best.encoding in {"gb2312", "gbk", "gb18030"} else best.encoding


def decode_bytes(data: bytes) -> str:
    """Decode a whole file's bytes (see detect_encoding); ValueError with a reason if impossible."""
    encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(f"cannot decode as {encoding} ({exc.reason} at byte {exc.start})") from exc
    if _looks_binary(text):
        raise ValueError("binary file or unknown encoding (control characters in the decoded text)")
    return text


def _read_decoded(path: Path) -> str:
    try:
        return decode_bytes(path.read_bytes())
    except ValueError as exc:
        raise IngestError(path, str(exc)) from exc


def read_text(path: Path) -> LoadedText:
    """.txt / .md: the decoded text as it stands."""
    return LoadedText(_read_decoded(path))


def read_html(path: Path) -> LoadedText:
    """.html / .htm: the main text as Markdown (trafilatura), with the page's title and date."""
    import trafilatura

    html = _without_navigation(_read_decoded(path))
    text = trafilatura.extract(html, output_format="markdown", include_comments=False, include_tables=True)
    if not text or not text.strip():
        raise IngestError(path, "no article text found in the HTML page")
    meta = trafilatura.extract_metadata(html)
    return LoadedText(text, title=meta.title if meta else None, date=meta.date if meta else None)


def _without_navigation(html: str) -> str:
    """The page without its navigation (`<nav>`, `role="navigation"`): trafilatura keeps a menu on a short page,
    and takes its links ("首页——新闻中心") for the title when the page has no <title>."""
    import lxml.html

    try:
        tree = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):  # an empty or unparsable page: trafilatura reports it
        return html
    menus = tree.xpath("//nav | //*[@role='navigation']")
    if not menus:
        return html
    for menu in menus:
        menu.drop_tree()
    return lxml.html.tostring(tree, encoding="unicode")


def _strip_page_numbers(page: str) -> str:
    lines = page.strip("\n").split("\n")
    while lines and _PAGE_NUMBER.match(lines[0].strip()):
        lines.pop(0)
    while lines and _PAGE_NUMBER.match(lines[-1].strip()):
        lines.pop()
    return "\n".join(lines)


def read_pdf(path: Path) -> LoadedText:
    """.pdf: the text of every page (pypdf); scanned PDFs without a text layer are refused."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(path, "encrypted PDF; save an unprotected copy")
        pages = [_strip_page_numbers(page.extract_text() or "") for page in reader.pages]
    except IngestError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise IngestError(path, f"cannot read PDF (truncated or damaged?): {type(exc).__name__}: {exc}") from exc
    text = "\n\n".join(p for p in pages if p.strip())
    if not text.strip():
        raise IngestError(path, "PDF has no text layer (a scan?); run OCR on it first")
    return LoadedText(text)


def read_docx(path: Path) -> LoadedText:
    """.docx: paragraphs and table rows in document order; heading styles become `#` headings."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, SyntaxError, OSError) as exc:
        raise IngestError(path, f"cannot read .docx (not a Word 2007+ file, or damaged): {exc}") from exc
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [" ".join(c.text.split()) for c in row.cells]
                if any(cells):
                    lines.append("| " + " | ".join(cells) + " |")
            continue
        text = block.text.strip()
        if not text:
            continue
        style = block.style.name if block.style is not None else ""
        m = re.match(r"Heading (\d)", style)
        level = 1 if style == "Title" else int(m.group(1)) if m else 0
        lines.append(f"{'#' * level} {text}" if level else text)
    text = "\n\n".join(lines)
    if not text.strip():
        raise IngestError(path, "the Word document has no text")
    return LoadedText(text)


def _record(line_no: int, span: tuple[int, int], data: object) -> JsonlRecord:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError('no "text" field (a non-empty string is required)')
    text = valid_unicode(text)
    fields = {}
    for key in ("id", "title", "date", "source", "lang", "url"):
        value = data.get(key)
        if value is not None and not isinstance(value, str | int):
            raise ValueError(f'"{key}" must be a string')
        fields[key] = valid_unicode(str(value)) if value is not None else None
    return JsonlRecord(
        line_no=line_no,
        span=span,
        id=fields["id"],
        title=fields["title"] or "",
        text=text,
        date=fields["date"],
        source=fields["source"],
        lang=fields["lang"],
        url=fields["url"],
    )


def iter_jsonl(path: Path) -> Iterator[JsonlRecord | JsonlLineError]:
    """Stream a .jsonl corpus line by line: a record per good line, an error per bad one."""
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        try:
            encoding = detect_encoding(sample)
        except ValueError as exc:
            raise IngestError(path, str(exc)) from exc
        if encoding == "utf-16":
            raise IngestError(path, "UTF-16 .jsonl is not supported; re-save it as UTF-8")
        fh.seek(0)
        pos = 0
        for line_no, raw in enumerate(fh, start=1):
            if line_no == 1 and encoding == "utf-8-sig":
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                line = raw.decode(encoding, errors="replace")
                yield JsonlLineError(line_no, f"cannot decode as {encoding}: {exc.reason}")
                pos += len(line)
                continue
            span = (pos, pos + len(line.rstrip("\r\n")))
            pos += len(line)
            if not line.strip():
                continue
            try:
                yield _record(line_no, span, json.loads(line))
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                yield JsonlLineError(line_no, str(exc))
            except RecursionError:
                yield JsonlLineError(line_no, "nested too deeply to be an article")


def read(path: Path) -> LoadedText:
    """Dispatch on the suffix to the reader of that format (not for .jsonl)."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_text(path)
    if suffix in HTML_SUFFIXES:
        return read_html(path)
    if suffix == ".pdf":
        return read_pdf(path)
    if suffix == ".docx":
        return read_docx(path)
    raise IngestError(path, f"unsupported format {suffix!r}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
