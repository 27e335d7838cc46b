"""Scanned and garbled PDFs: every page's text layer is judged; the failures go through Tesseract
with their page numbers kept, or the file fails naming the package to install.

The scans are rendered in the test from known text (tests/scans.py), so the OCR output is
compared with the truth by character error rate."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from scans import PAGES, cer, font_path, image_pdf

from ingest import IngestError, ocr, parse_bytes, parse_file

ROOT = Path(__file__).resolve().parent.parent
TEXT_PDF = ROOT / "corpus" / "laws" / "pdf" / "全国_2018_中华人民共和国宪法.pdf"
needs_tesseract = pytest.mark.skipif(ocr.missing() is not None,
                                     reason=f"{ocr.missing()} (apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
needs_font = pytest.mark.skipif(font_path() is None, reason="no CJK font (apt-get install fonts-wqy-microhei)")
MAX_CER = 0.05  # measured 0.02–0.03 on these pages (docs/benchmarks.md)


@pytest.fixture
def no_tesseract(monkeypatch):
    monkeypatch.setattr(ocr, "TESSERACT", "no-such-tesseract-here")
    ocr.missing.cache_clear()
    yield
    ocr.missing.cache_clear()


def _boxes_pdf(pages: int) -> bytes:
    """Image-only pages with something drawn on them (no font needed)."""
    from PIL import Image, ImageDraw

    images = []
    for _ in range(pages):
        img = Image.new("L", (400, 560), 255)
        ImageDraw.Draw(img).rectangle((40, 40, 300, 80), fill=0)
        images.append(img)
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", resolution=50, save_all=True, append_images=images[1:])
    return buf.getvalue()


def _merge(*parts: tuple[bytes, list[int]]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data, numbers in parts:
        reader = PdfReader(io.BytesIO(data))
        for n in numbers:
            writer.add_page(reader.pages[n])
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@pytest.mark.parametrize(("text", "verdict"), [
    ("第一条 为了规范行政执法行为，制定本办法。", None),
    ("", "no text"),
    ("  - 3 -  \n", "no text"),
    ("\x01\x02\x03\x04\x05\x06\x07\x08" * 20, "garbled"),
    ("\ue001\ue002\ue003\ue004" * 30, "garbled"),
    ("ÉÏº£ÊÐÈËÃñÕþ¸®¹ØÓÚ" * 10 + "2023", "garbled"),
    ("依法行政 ×2 ° · 第三条" * 5, None),
])
def test_text_layer_judgement(text, verdict):
    assert ocr.judge(text) == verdict


def test_scanned_pdf_without_tesseract_fails_naming_the_package(no_tesseract):
    with pytest.raises(IngestError) as e:
        parse_bytes(_boxes_pdf(2), "扫描件.pdf")
    assert e.value.reason == "scanned PDF: 2 of 2 pages have no text layer (install tesseract-ocr-chi-sim to OCR them)"


def test_partly_scanned_pdf_without_tesseract_counts_the_scanned_pages(no_tesseract):
    data = _merge((TEXT_PDF.read_bytes(), [0, 1]), (_boxes_pdf(1), [0]))
    with pytest.raises(IngestError) as e:
        parse_bytes(data, "混合.pdf")
    assert e.value.reason == "scanned PDF: 1 of 3 pages have no text layer (install tesseract-ocr-chi-sim to OCR them)"


def test_blank_pages_are_not_sent_to_ocr(no_tesseract):
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(200, 200)
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(IngestError) as e:
        parse_bytes(buf.getvalue(), "空白.pdf")
    assert e.value.reason == "PDF has no text layer and nothing to OCR (3 blank pages)"


@needs_tesseract
@needs_font
def test_scanned_pdf_is_ocred_with_pages_and_confidence():
    doc = parse_bytes(image_pdf(PAGES), "扫描件.pdf")
    truth = "\n".join("\n".join(p) for p in PAGES)
    assert cer(truth, doc.text) <= MAX_CER, doc.text
    assert doc.report.pages == 2 and doc.report.pages_ocr == [1, 2] and doc.report.pages_failed == []
    assert doc.report.ocr_confidence is not None and 50 < doc.report.ocr_confidence <= 100
    assert doc.report.warnings[0].startswith("OCR'd pages 1–2 (mean confidence ")
    assert [p for _, _, p in doc.pages] == [1, 2]
    fifth = next(c for c in doc.chunks if "法制审核" in c.text)
    assert fifth.page == 2 and fifth.section == ["第五条"]
    first = next(c for c in doc.chunks if "合法权益" in c.text)
    assert first.page == 1 and first.section == ["第一条"]


@needs_tesseract
@needs_font
def test_partly_scanned_pdf_keeps_its_text_pages():
    text_only = parse_bytes(_merge((TEXT_PDF.read_bytes(), [0])), "p1.pdf")
    data = _merge((TEXT_PDF.read_bytes(), [0]), (image_pdf(PAGES[1:]), [0]))
    doc = parse_bytes(data, "混合.pdf")
    assert doc.report.pages == 2 and doc.report.pages_ocr == [2]
    page1 = next((s, e) for s, e, p in doc.pages if p == 1)
    assert doc.text[page1[0]:page1[1]].strip() == text_only.text.strip()  # the text layer, untouched
    page2 = next((s, e) for s, e, p in doc.pages if p == 2)
    assert cer("".join(PAGES[1]), doc.text[page2[0]:page2[1]]) <= MAX_CER


@needs_tesseract
def test_image_without_text_is_reported_as_a_failed_page():
    data = _merge((TEXT_PDF.read_bytes(), [0]), (_boxes_pdf(1), [0]))
    doc = parse_bytes(data, "带图.pdf")
    assert doc.report.pages_ocr == [2] and doc.report.pages_failed == [2]
    assert "no text found on page 2" in doc.report.warnings


def test_text_pdf_has_an_honest_report():
    doc = parse_file(TEXT_PDF, "宪法.pdf")
    assert doc.report.pages == 25 and doc.report.pages_ocr == [] and doc.report.pages_failed == []
    assert doc.report.chars == len(doc.text) and doc.report.warnings == [] and doc.report.ocr_confidence is None
