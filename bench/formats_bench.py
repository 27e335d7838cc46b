"""Ingest speed per file format, and OCR speed and accuracy on rendered scans.

    python -m bench.formats_bench [--docs 10] [--ocr-pages 4]

The same shipped corpus texts are written as .txt, .docx (python-docx), .doc and text .pdf
(LibreOffice, converted in one batch before timing), .ofd (tests/ofd_writer.py) and image-only
.pdf pages (tests/scans.py). Timed: parse_file (load → clean → structure → metadata → chunks),
no embedding. OCR: seconds per page and the character error rate against the rendered truth.
Needs LibreOffice, Tesseract with chi_sim, Pillow and a CJK font (the README's test command).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import log, save_result
from ingest import parse_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.ofd_writer import line, make_ofd  # noqa: E402
from tests.scans import cer, image_pdf  # noqa: E402

LINE_CHARS = 32  # characters per rendered line (OFD, scans)


def _texts(n: int) -> list[tuple[str, str]]:
    files = sorted((ROOT / "corpus" / "laws").rglob("*.md"))[:n]
    return [(f.stem, f.read_text(encoding="utf-8")) for f in files]


def _wrap(text: str, width: int = LINE_CHARS) -> list[str]:
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip().lstrip("#").strip()
        while para:
            out.append(para[:width])
            para = para[width:]
    return out


def _ofd(text: str) -> bytes:
    lines = _wrap(text)
    pages = [[line(25, 30 + 9 * i, t, 5.0) for i, t in enumerate(lines[p:p + 28])] for p in range(0, len(lines), 28)]
    return make_ofd(pages or [[]])


def build(folder: Path, n: int) -> dict[str, list[Path]]:
    import docx

    out: dict[str, list[Path]] = {k: [] for k in ("txt", "docx", "doc", "pdf", "ofd")}
    for stem, text in _texts(n):
        (folder / "txt").mkdir(exist_ok=True)
        p = folder / "txt" / f"{stem}.txt"
        p.write_text(text, encoding="utf-8")
        out["txt"].append(p)
        d = docx.Document()
        for para in text.split("\n"):
            if para.startswith("#"):
                d.add_paragraph(para.lstrip("#").strip(), style="Heading 1")
            elif para.strip():
                d.add_paragraph(para)
        (folder / "docx").mkdir(exist_ok=True)
        p = folder / "docx" / f"{stem}.docx"
        d.save(p)
        out["docx"].append(p)
        (folder / "ofd").mkdir(exist_ok=True)
        p = folder / "ofd" / f"{stem}.ofd"
        p.write_bytes(_ofd(text))
        out["ofd"].append(p)
    for fmt in ("doc", "pdf"):
        (folder / fmt).mkdir(exist_ok=True)
        subprocess.run(["soffice", f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                        "--convert-to", fmt, "--outdir", str(folder / fmt), *map(str, out["docx"])],
                       check=True, capture_output=True, timeout=1800)
        out[fmt] = sorted((folder / fmt).glob(f"*.{fmt}"))
    return out


def time_format(paths: list[Path]) -> dict:
    parse_file(paths[0])  # imports and first-use caches are not the format's cost
    chars = 0
    start = time.perf_counter()
    for p in paths:
        chars += len(parse_file(p).text)
    secs = time.perf_counter() - start
    return {"files": len(paths), "seconds": round(secs, 2), "files_per_s": round(len(paths) / secs, 2),
            "chars_per_s": round(chars / secs), "chars": chars}


def ocr_run(pages: int) -> dict:
    from tests.scans import PAGES

    text = _texts(1)[0][1]
    real = [_wrap(text, 34)[i:i + 30] for i in range(0, 30 * pages, 30)][:pages]
    cases = {"公文 16 pt (2 pages)": (PAGES, 200, 16), "law 12 pt, full pages": (real, 300, 12)}
    out = {}
    for name, (pages_text, dpi, pt) in cases.items():
        data = image_pdf(pages_text, dpi, pt)
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(data)
            f.flush()
            start = time.perf_counter()
            doc = parse_file(Path(f.name))
            secs = time.perf_counter() - start
        truth = "\n".join("\n".join(p) for p in pages_text)
        out[name] = {"pages": len(pages_text), "s_per_page": round(secs / len(pages_text), 2),
                     "cer": round(cer(truth, doc.text), 4), "confidence": doc.report.ocr_confidence,
                     "truth_chars": len("".join(truth.split()))}
        log(f"OCR {name}: {out[name]}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=10)
    ap.add_argument("--ocr-pages", type=int, default=3)
    args = ap.parse_args()
    if not shutil.which("soffice"):
        sys.exit("LibreOffice is needed (apt-get install libreoffice-writer-nogui)")
    result: dict = {"formats": {}}
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp), args.docs)
        for fmt, paths in files.items():
            result["formats"][fmt] = time_format(paths)
            log(f"{fmt}: {result['formats'][fmt]}")
    result["ocr"] = ocr_run(args.ocr_pages)
    save_result("formats", result)


if __name__ == "__main__":
    main()
