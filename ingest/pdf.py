"""PDF → text with the page of every character: pypdf's text layer, and OCR (ingest/ocr.py) for
the pages whose layer is missing or garbled (scans, print-to-PDF without a font map)."""

from __future__ import annotations

import io
import logging

from ingest.load import Loaded
from ingest.records import IngestError

MAX_PAGES = 5000
MAX_TREE_DEPTH = 64  # page-tree nesting deeper than this is treated as a damaged (or hostile) file


def load_pdf(data: bytes, path: str, *, max_pages: int = MAX_PAGES) -> Loaded:
    from pypdf import PasswordType, PdfReader
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
                opened = PasswordType.NOT_DECRYPTED
            if not opened:
                raise IngestError(path, "PDF is encrypted (a password is needed to open it)")
        # Counted without building page objects (len(reader.pages) would build every one of them).
        count = _page_count(reader, max_pages)
        if count > max_pages + 1:
            raise IngestError(path, f"PDF has {count:,} pages (limit {max_pages:,})")
        if count > max_pages:
            raise IngestError(path, f"PDF has more than {max_pages:,} pages (limit {max_pages:,})")
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

    from ingest import ocr

    bad = {n: why for n, text in enumerate(texts, 1) if (why := ocr.judge(text))}
    found = ocr.recover(data, bad, len(texts), path) if bad else ocr.Recovered()
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    offset = 0
    for number, text in enumerate(texts, 1):
        text = found.texts.get(number, "") if number in bad else text
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        if not text.endswith("\n"):
            text += "\n"
        parts.append(text)
        pages.append((offset, offset + len(text), number))
        offset += len(text)
    full = "".join(parts)
    if not full.strip():
        raise IngestError(path, "PDF has no text layer and OCR found no text")
    return Loaded(text=full, fmt="pdf", pages=pages, page_count=len(texts), pages_ocr=found.pages_ocr,
                  pages_failed=found.pages_failed, ocr_confidence=found.confidence, warnings=found.warnings)


def _page_count(reader, limit: int) -> int:
    """The number of pages, or any number over `limit` once it is clear there are more.

    A declared /Count over the limit is believed (it is only used to refuse the file). Otherwise
    the /Kids tree is walked without building page objects, since /Count may understate; the walk
    stops as soon as the limit is passed, and raises RecursionError past MAX_TREE_DEPTH levels
    (which also ends reference cycles). Leaves are classified the way pypdf does when flattening.
    """
    from pypdf.generic import ArrayObject, DictionaryObject

    root = reader.root_object["/Pages"].get_object()
    if not isinstance(root, DictionaryObject):
        raise ValueError("invalid /Pages object")
    declared = root.get("/Count")
    declared = declared.get_object() if declared is not None else None
    if isinstance(declared, int) and not isinstance(declared, bool) and declared > limit:
        return int(declared)
    count = 0
    # One iterator over /Kids per open /Pages node: kids are resolved one at a time, as reached.
    stack = [iter([root])]
    while stack:
        kid = next(stack[-1], None)
        if kid is None:
            stack.pop()
            continue
        node = kid.get_object()
        if not isinstance(node, DictionaryObject):
            continue
        kind = node.get("/Type")
        kind = kind.get_object() if kind is not None else ("/Pages" if "/Kids" in node else "/Page")
        if kind == "/Page":
            count += 1
            if count > limit:
                return count
        elif kind == "/Pages":
            kids = node.get("/Kids")
            kids = kids.get_object() if kids is not None else None
            if isinstance(kids, ArrayObject):
                if len(stack) > MAX_TREE_DEPTH:
                    raise RecursionError("page tree too deep")
                stack.append(iter(kids))
    return count


def _one_line(e: Exception) -> str:
    msg = " ".join(str(e).split()) or type(e).__name__
    return msg[:160]
