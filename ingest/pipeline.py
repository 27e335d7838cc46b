"""parse_file / parse_bytes: the whole ingest stage in one call (load → clean → structure →
metadata → chunks). Every failure on bad input is an IngestError with one clear line."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ingest import chunk, clean, metadata, structure, validity
from ingest.load import format_for, load
from ingest.records import Document, IngestError, LoadReport

MAX_BYTES = 50_000_000
# Bumped whenever parsing changes what a stored document holds: files read by an older parser are
# read again on the next ingest (their unchanged chunks cost no embedding: vectors are cached by text).
# 4: validity facts; 规范性文件 articles after a no-break space; Markdown heading marks left out of the
# text; table rows as lines (列名：值).
PARSER_VERSION = "4"


def parse_file(path: Path, rel_path: str | None = None, *, max_bytes: int = MAX_BYTES) -> Document:
    """Parse one file; ``rel_path`` (default: the file name) becomes Document.path."""
    path = Path(path)
    name = rel_path or path.name
    fmt = format_for(path.name, name)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise IngestError(name, "is a directory, not a file")
        if size > max_bytes:
            raise IngestError(
                name, f"file is larger than the {_size(max_bytes)} limit ({_size(size, exact=True)})"
            )
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise IngestError(name, "no such file") from None
    except PermissionError:
        raise IngestError(name, "permission denied") from None
    except IsADirectoryError:
        raise IngestError(name, "is a directory, not a file") from None
    except OSError as e:
        raise IngestError(name, f"cannot read file: {e.strerror or e}") from None
    if len(data) > max_bytes:  # the file grew while we looked at it
        raise IngestError(name, f"file is larger than the {_size(max_bytes)} limit")
    return _parse(data, fmt, name)


def parse_bytes(data: bytes, name: str, *, max_bytes: int = MAX_BYTES) -> Document:
    """Parse an upload; ``name`` gives the suffix and becomes Document.path."""
    fmt = format_for(name, name)
    if len(data) > max_bytes:
        raise IngestError(
            name, f"file is larger than the {_size(max_bytes)} limit ({_size(len(data), exact=True)})"
        )
    return _parse(bytes(data), fmt, name)


def _parse(data: bytes, fmt: str, name: str) -> Document:
    if not data:
        raise IngestError(name, "empty file")
    try:
        loaded = load(data, fmt, name)
        cleaned = clean.clean(loaded.text)
        text = cleaned.text
        if not text.strip():
            raise IngestError(name, "no text found (the file holds only markup, whitespace or site chrome)")
        pages = cleaned.map_pages(loaded.pages) if loaded.pages else []
        mapped = [(cleaned.map_exact(off), level) for off, level in loaded.headings]
        explicit = [(off, level) for off, level in mapped if off is not None and _line_start(text, off)]
        table_lines = {off for line in loaded.table_lines if (off := cleaned.map_exact(line)) is not None}
        sections = structure.find_sections(text, explicit, not_headings=table_lines)
        meta = metadata.extract(loaded.text, text, name, loaded.meta, sections)
        facts = validity.extract(loaded.text, text, meta)
        # fixed-layout formats break lines where the page did, not where a sentence ends
        chunks = chunk.make_chunks(text, sections, pages, soft_newlines=fmt in ("pdf", "ofd"))
    except IngestError:
        raise
    except RecursionError:
        raise IngestError(name, "document structure is too deeply nested to read") from None
    except Exception as e:  # a parser library tripping over malformed input is still bad input
        raise IngestError(
            name, f"cannot parse {fmt}: {type(e).__name__}: {' '.join(str(e).split())[:160]}"
        ) from None
    fields: dict[str, Any] = {**meta, **facts}  # metadata (strings) and validity facts (also lists)
    return Document(
        path=name,
        text=text,
        source_format=fmt,
        content_hash=hashlib.sha256(data).hexdigest(),
        sections=sections,
        chunks=chunks,
        pages=pages,
        report=LoadReport(pages=loaded.page_count, pages_ocr=loaded.pages_ocr, pages_failed=loaded.pages_failed,
                          chars=len(text), warnings=loaded.warnings, ocr_confidence=loaded.ocr_confidence),
        **fields,
    )


def _line_start(text: str, off: int) -> bool:
    return off == 0 or text[off - 1] == "\n"


def _size(n: int, *, exact: bool = False) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} MB" if exact else f"{n / 1e6:g} MB"
    if n >= 1000:
        return f"{n / 1e3:.1f} KB" if exact else f"{n / 1e3:g} KB"
    return f"{n:,} bytes"
