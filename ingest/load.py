"""Bytes → text. Plain text is decoded here (UTF-8, GB18030/GBK, UTF-16); other formats go to
their own loader (html.py, pdf.py, docx.py, word97.py for .doc/.wps, ofd.py). Every failure is an IngestError with one clear line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.records import IngestError

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".doc", ".wps", ".ofd")
FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx",
           ".doc": "doc", ".wps": "wps", ".ofd": "ofd"}


@dataclass
class Loaded:
    """What a loader hands on: text before cleaning, plus what the format itself tells us."""

    text: str
    fmt: str
    pages: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, page) of ``text``
    headings: list[tuple[int, int]] = field(default_factory=list)  # (line offset, level): Word styles, Markdown '#'
    meta: dict[str, str] = field(default_factory=dict)  # title/date/issuer/doc_number stated by the file
    page_count: int | None = None  # paged formats: pages in the file
    pages_ocr: list[int] = field(default_factory=list)  # pages whose text came from OCR
    pages_failed: list[int] = field(default_factory=list)  # pages that gave no text
    ocr_confidence: float | None = None
    warnings: list[str] = field(default_factory=list)
    table_lines: list[int] = field(default_factory=list)  # line offsets of table rows: never headings


def format_for(name: str, path: str) -> str:
    """The format of a file name, or IngestError naming the supported suffixes."""
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > 0 else ""
    if suffix not in FORMATS:
        shown = suffix or "(no suffix)"
        raise IngestError(path, f"unsupported file type {shown} (supported: {' '.join(SUPPORTED_SUFFIXES)})")
    return FORMATS[suffix]


def load(data: bytes, fmt: str, path: str) -> Loaded:
    if not data:
        raise IngestError(path, "empty file")
    if fmt == "txt":
        return Loaded(text=normalise_newlines(decode_text(data, path)), fmt=fmt)
    if fmt == "md":
        from ingest.markdown import load_markdown

        return load_markdown(normalise_newlines(decode_text(data, path)))
    if fmt == "html":
        from ingest.html import load_html

        return load_html(decode_text(data, path, html=True), path)
    if fmt == "pdf":
        from ingest.pdf import load_pdf

        return load_pdf(data, path)
    if fmt in ("doc", "wps"):
        from ingest.word97 import load_word97

        return load_word97(data, fmt, path)
    if fmt == "ofd":
        from ingest.ofd import load_ofd

        return load_ofd(data, path)
    from ingest.docx import load_docx

    return load_docx(data, path)


def decode_text(data: bytes, path: str, *, html: bool = False) -> str:
    """Decode officials' text files: UTF-8 (BOM stripped), GB18030 (a superset of GBK/GB2312), UTF-16."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _check_text(data.decode("utf-16"), path)
        except UnicodeDecodeError:
            raise IngestError(path, "cannot decode text: UTF-16 byte-order mark but invalid UTF-16") from None
    if b"\x00" in data[:65536]:
        raise IngestError(path, "binary content, not text (NUL bytes)")
    for encoding in ("utf-8", "gb18030"):
        try:
            return _check_text(data.decode(encoding), path)
        except UnicodeDecodeError:
            continue
    # Neither decodes cleanly: let charset-normalizer guess (Big5, a damaged GBK file, …).
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        raise IngestError(path, "cannot decode text (not UTF-8 or GB18030/GBK)")
    return _check_text(data.decode(best.encoding, errors="replace"), path)


def _check_text(text: str, path: str) -> str:
    # Binary files that happen to decode show up as many control characters.
    sample = text[:20000]
    controls = len(_CONTROL.findall(sample))
    if sample and controls > max(8, len(sample) // 100):
        raise IngestError(path, "binary content, not text (control characters)")
    return text


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
