"""PDF → text with the page of every character (pypdf text layer; scanned PDFs have none)."""

from __future__ import annotations

import io
import logging

from ingest.load import Loaded
from ingest.records import IngestError

MAX_PAGES = 5000


def load_pdf(data: bytes, path: str, *, max_pages: int = MAX_PAGES) -> Loaded:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    # pypdf logs every repaired cross-reference; the caller only needs a usable text or one error.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise IngestError(path, "not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # owner-password-only PDFs open without a password
            except (DependencyError, NotImplementedError):
                opened = 0
            if not opened:
                raise IngestError(path, "PDF is encrypted (a password is needed to open it)")
        count = len(reader.pages)  # read from the page tree's /Count, before any text is extracted
        if count > max_pages:
            raise IngestError(path, f"PDF has {count:,} pages (limit {max_pages:,})")
        if count == 0:
            raise IngestError(path, "PDF has no pages")
        texts = [page.extract_text() or "" for page in reader.pages]
    except IngestError:
        raise
    except FileNotDecryptedError:
        raise IngestError(path, "PDF is encrypted (a password is needed to open it)") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as e:
        raise IngestError(path, f"PDF is truncated or damaged: {_one_line(e)}") from None
    except RecursionError:
        raise IngestError(path, "PDF is truncated or damaged: object tree too deep") from None

    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    offset = 0
    for number, text in enumerate(texts, 1):
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        if not text.endswith("\n"):
            text += "\n"
        parts.append(text)
        pages.append((offset, offset + len(text), number))
        offset += len(text)
    full = "".join(parts)
    if not full.strip():
        raise IngestError(path, "PDF has no text layer (scanned images need OCR first)")
    return Loaded(text=full, fmt="pdf", pages=pages)


def _one_line(e: Exception) -> str:
    msg = " ".join(str(e).split()) or type(e).__name__
    return msg[:160]
