"""Scanned and garbled PDF pages: judge each page's text layer, OCR the failures with Tesseract.

A page goes to OCR when its text layer is missing (fewer meaningful characters than a page number)
or garbled (mostly control, private-use or Latin-1 mojibake characters; data/text_layer.tsv).
Pages are rendered by pdfium (pypdfium2) and read by the `tesseract` command (Debian's
tesseract-ocr with tesseract-ocr-chi-sim); without it such a file fails with a reason that names
the package. No network service is involved.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from functools import cache

from ingest.data import rows
from ingest.records import IngestError

TESSERACT = "tesseract"
LANGS = "chi_sim"  # its model reads digits and Latin letters too; +eng cost ~40% more time for no gain
INSTALL = "install tesseract-ocr-chi-sim to OCR them"
DPI = 200  # measured on rendered 12–16 pt pages: fewer errors than 300 dpi, and ~30% faster
PAGE_TIMEOUT_S = 120
MAX_OCR_PAGES = 1000  # ~1 h of OCR on one core: more is a job for a dedicated OCR service
LOW_CONFIDENCE = 70  # mean word confidence below this earns a warning to check the text
SPACE_GAP = 1.55  # adjacent CJK centres sit ~1.0–1.3 em apart (after ，), ~1.7 across a space
_PDFIUM = threading.Lock()  # pdfium is not thread-safe; the API parses uploads in a thread pool
_CJK_PUNCT = frozenset("，、。；：？！”’）》〕】")
_MEANINGFUL = re.compile(r"[\w\u3400-\u9fff]")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]$")


@cache
def _rules() -> tuple[int, float, tuple[tuple[int, int], ...]]:
    min_chars, max_bad, ranges = 10, 0.3, []
    for kind, value, *_ in rows("text_layer.tsv"):
        if kind == "min_chars":
            min_chars = int(value)
        elif kind == "max_bad":
            max_bad = float(value)
        elif kind == "suspect":
            lo, _, hi = value.partition("-")
            ranges.append((int(lo, 16), int(hi or lo, 16)))
        else:
            raise ValueError(f"text_layer.tsv: unknown kind {kind!r}")
    return min_chars, max_bad, tuple(ranges)


def judge(text: str) -> str | None:
    """Why this page's text layer cannot be used ("no text", "garbled"), or None when it can."""
    min_chars, max_bad, ranges = _rules()
    chars = [c for c in text if not c.isspace()]
    suspect = sum(1 for c in chars if any(lo <= ord(c) <= hi for lo, hi in ranges))
    if sum(1 for c in chars if _MEANINGFUL.match(c)) - suspect < min_chars:
        return "no text" if suspect < max(1, len(chars) // 2) else "garbled"
    return "garbled" if suspect > max_bad * len(chars) else None


@cache
def missing() -> str | None:
    """Why OCR cannot run here (no tesseract, no Chinese model), or None."""
    exe = shutil.which(TESSERACT)
    if exe is None:
        return "tesseract is not installed"
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return f"tesseract does not run: {e}"
    if "chi_sim" not in out.stdout.split():
        return "tesseract has no chi_sim (Simplified Chinese) model"
    return None


@dataclass
class Recovered:
    """Text for the pages whose layer failed, and what it took."""

    texts: dict[int, str] = field(default_factory=dict)  # page → OCR text (pages that gave any)
    pages_ocr: list[int] = field(default_factory=list)
    pages_failed: list[int] = field(default_factory=list)  # no text even after OCR
    blank: list[int] = field(default_factory=list)  # nothing drawn on the page: not OCR'd
    confidence: float | None = None
    warnings: list[str] = field(default_factory=list)


def recover(data: bytes, bad: dict[int, str], total: int, path: str) -> Recovered:
    """OCR the pages in ``bad`` (page → why); IngestError when that is impossible or finds nothing."""
    with _PDFIUM:  # OCR is CPU-bound anyway: one document's pages at a time
        return _recover(data, bad, total, path)


def _recover(data: bytes, bad: dict[int, str], total: int, path: str) -> Recovered:
    import pypdfium2 as pdfium

    out = Recovered()
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise IngestError(path, f"PDF pages cannot be rendered for OCR: {e}") from None
    try:
        todo: list[int] = []
        for number in sorted(bad):
            page = pdf[number - 1]
            (out.blank if _is_blank(page) else todo).append(number)
            page.close()
        if not todo:
            if len(out.blank) == total:
                raise IngestError(path, f"PDF has no text layer and nothing to OCR ({total} blank pages)")
            return out
        why = missing()
        if why is not None:
            what = "no text layer" if all(bad[n] == "no text" for n in todo) else "no usable text layer"
            raise IngestError(path, f"scanned PDF: {len(todo)} of {total} pages have {what} ({INSTALL})")
        if len(todo) > MAX_OCR_PAGES:
            raise IngestError(path, f"scanned PDF: {len(todo)} pages need OCR (limit {MAX_OCR_PAGES})")
        confs: list[float] = []
        for number in todo:
            page = pdf[number - 1]
            try:
                text, words = _ocr_page(page)
            except (OSError, subprocess.SubprocessError, RuntimeError) as e:
                out.pages_failed.append(number)
                out.warnings.append(f"page {number}: OCR failed ({' '.join(str(e).split())[:120]})")
                continue
            finally:
                page.close()
            out.pages_ocr.append(number)
            if text.strip():
                out.texts[number] = text
                confs += words
            else:
                out.pages_failed.append(number)
    finally:
        pdf.close()
    if not out.texts and len(bad) == total:
        raise IngestError(path, f"scanned PDF: OCR found no text on its {len(todo)} pages without a text layer")
    out.confidence = round(sum(confs) / len(confs), 1) if confs else None
    if out.pages_ocr:
        out.warnings.insert(0, f"OCR'd {_pages(out.pages_ocr)} (mean confidence {out.confidence})")
    if out.confidence is not None and out.confidence < LOW_CONFIDENCE:
        out.warnings.append(f"low OCR confidence ({out.confidence}): check the text against the scan")
    if out.pages_failed:
        out.warnings.append(f"no text found on {_pages(out.pages_failed)}")
    return out


def _is_blank(page) -> bool:
    return next(iter(page.get_objects(max_depth=1)), None) is None


def _ocr_page(page) -> tuple[str, list[float]]:
    """(text, word confidences) of one page: rendered to grey, read by tesseract as PGM on stdin."""
    bitmap = page.render(scale=DPI / 72, grayscale=True)
    width, height, stride = bitmap.width, bitmap.height, bitmap.stride
    buf = memoryview(bitmap.buffer)
    pixels = b"".join(buf[r * stride:r * stride + width] for r in range(height)) if stride != width else bytes(buf)
    pgm = b"P5\n%d %d\n255\n" % (width, height) + pixels
    proc = subprocess.run([TESSERACT, "stdin", "stdout", "-l", LANGS, "--dpi", str(DPI), "tsv"], input=pgm,
                          capture_output=True, timeout=PAGE_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or "tesseract failed")
    return tsv_text(proc.stdout.decode("utf-8", "replace"))


def tsv_text(tsv: str) -> tuple[str, list[float]]:
    """Tesseract TSV → (text, word confidences): a line per OCR line, a blank line between
    paragraphs. Tesseract drops the spaces between Chinese words, so a space is put back where
    two characters' centres lie further apart than SPACE_GAP glyphs (第一条 为了…)."""
    lines: dict[tuple[int, int, int], list[tuple[int, int, int, str]]] = {}
    confs: list[float] = []
    for row in tsv.splitlines()[1:]:
        f = row.split("\t")
        if len(f) < 12 or f[0] != "5" or not f[11].strip():
            continue
        left, width, height = int(f[6]), int(f[8]), int(f[9])
        lines.setdefault((int(f[2]), int(f[3]), int(f[4])), []).append((left, width, height, f[11].strip()))
        if float(f[10]) >= 0:
            confs.append(float(f[10]))
    out: list[str] = []
    last_par = None
    for (block, par, _line), words in lines.items():
        if last_par is not None and (block, par) != last_par:
            out.append("")
        em = sorted(h for _, _, h, _ in words)[len(words) // 2]  # a CJK glyph's height ≈ its advance
        text, last_center = "", None
        for left, width, _, word in words:
            half = width / (2 * len(word))  # half a character of this word
            wide_gap = (last_center is not None and left + half - last_center > SPACE_GAP * em
                        and text[-1] not in _CJK_PUNCT)  # full-width marks sit left in their box
            latin = _ASCII_WORD.search(text) and word[0].isascii() and word[0].isalnum()
            text += (" " if text and (wide_gap or latin) else "") + word
            last_center = left + width - half
        out.append(text)
        last_par = (block, par)
    return "\n".join(out) + "\n", confs


def _pages(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    spans: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return "pages " + ", ".join(spans)
