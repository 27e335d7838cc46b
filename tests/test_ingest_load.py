"""Loading: encodings, formats, and one clear IngestError for every kind of bad input."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from ingest import SUPPORTED_SUFFIXES, IngestError, parse_bytes, parse_file
from ingest.pdf import load_pdf

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "ingest"
CORPUS = ROOT / "corpus"
PDF = CORPUS / "laws" / "pdf" / "全国_2018_中华人民共和国宪法.pdf"


def _reason(excinfo) -> str:
    assert isinstance(excinfo.value, IngestError)
    assert "\n" not in str(excinfo.value)
    return excinfo.value.reason


def test_supported_suffixes():
    assert set(SUPPORTED_SUFFIXES) == {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".doc", ".wps", ".ofd"}


def test_path_and_hash(tmp_path):
    data = "第一条 为了规范行政执法行为，制定本规定。\n".encode()
    f = tmp_path / "a.txt"
    f.write_bytes(data)
    assert parse_file(f).path == "a.txt"
    doc = parse_file(f, "sub/dir/a.txt")
    assert doc.path == "sub/dir/a.txt"
    assert doc.content_hash == hashlib.sha256(data).hexdigest()
    assert doc.source_format == "txt"
    assert parse_bytes(data, "上传.md").path == "上传.md"


def test_empty_file(tmp_path):
    f = tmp_path / "empty.txt"
    f.write_bytes(b"")
    with pytest.raises(IngestError) as e:
        parse_file(f)
    assert _reason(e) == "empty file"
    with pytest.raises(IngestError, match="empty file"):
        parse_bytes(b"", "x.md")


def test_whitespace_only_is_refused(tmp_path):
    with pytest.raises(IngestError, match="no text"):
        parse_bytes(" \n\u3000\n".encode(), "blank.txt")


def test_binary_named_txt(tmp_path):
    f = tmp_path / "image.txt"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(IngestError) as e:
        parse_file(f)
    assert _reason(e) == "binary content, not text (NUL bytes)"


def test_gbk_file_is_decoded():
    doc = parse_file(DATA / "gbk_report.txt")
    assert doc.title == "酉阳土家族苗族自治县清泉乡人民政府2022年度法治政府建设情况报告"
    assert "清泉乡人民政府在县委、县政府的指导下" in doc.text
    assert "\r" not in doc.text
    assert doc.date == "2023-02-28"


def test_utf8_bom_and_crlf_are_normalised():
    data = "\ufeff一、总体要求\r\n坚持依法行政。\r\n".encode()
    doc = parse_bytes(data, "bom.txt")
    assert doc.text == "一、总体要求\n坚持依法行政。"
    assert doc.sections[0].path == ["一、总体要求"]


def test_file_over_the_size_limit(tmp_path):
    f = tmp_path / "big.txt"
    f.write_bytes("法治政府建设。".encode() * 100)
    with pytest.raises(IngestError) as e:
        parse_file(f, max_bytes=1000)
    assert _reason(e) == "file is larger than the 1 KB limit (2.1 KB)"
    with pytest.raises(IngestError) as e:  # the default limit; refused before anything is decoded
        parse_bytes(bytes(63_200_000), "huge.txt")
    assert _reason(e) == "file is larger than the 50 MB limit (63.2 MB)"
    # the message names the limit actually in force
    with pytest.raises(IngestError, match=r"^big\.txt: file is larger than the 5 bytes limit \(10 bytes\)$"):
        parse_bytes(b"x" * 10, "big.txt", max_bytes=5)


def test_missing_file(tmp_path):
    with pytest.raises(IngestError) as e:
        parse_file(tmp_path / "nope.txt", "nope.txt")
    assert _reason(e) == "no such file"
    assert e.value.path == "nope.txt"


def test_unsupported_type(tmp_path):
    f = tmp_path / "table.xls"
    f.write_bytes(b"whatever")
    with pytest.raises(IngestError) as e:
        parse_file(f)
    assert _reason(e) == "unsupported file type .xls (supported: .txt .md .html .htm .pdf .docx .doc .wps .ofd)"
    with pytest.raises(IngestError, match="unsupported file type"):
        parse_bytes(b"x", "README")


def test_directory(tmp_path):
    d = tmp_path / "folder.txt"
    d.mkdir()
    with pytest.raises(IngestError, match="is a directory"):
        parse_file(d)


def test_permission_denied(tmp_path):
    f = tmp_path / "secret.txt"
    f.write_text("内部文件。", encoding="utf-8")
    f.chmod(0)
    try:
        if os.access(f, os.R_OK):
            pytest.skip("running as a user who can read mode-000 files (root)")
        with pytest.raises(IngestError) as e:
            parse_file(f)
        assert _reason(e) == "permission denied"
    finally:
        f.chmod(0o644)


def test_truncated_pdf():
    data = PDF.read_bytes()
    with pytest.raises(IngestError) as e:
        parse_bytes(data[: len(data) // 2], "cut.pdf")
    assert _reason(e).startswith("PDF is truncated or damaged")


def test_not_a_pdf():
    with pytest.raises(IngestError, match="not a PDF file"):
        parse_bytes("这不是PDF".encode(), "fake.pdf")


def _pdf_bytes(**encrypt) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if encrypt:
        writer.encrypt(**encrypt)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_encrypted_pdf():
    data = _pdf_bytes(user_password="secret", owner_password="owner")
    with pytest.raises(IngestError) as e:
        parse_bytes(data, "locked.pdf")
    assert _reason(e) == "PDF is encrypted (a password is needed to open it)"


def test_pdf_without_text_layer():
    with pytest.raises(IngestError, match="no text layer"):
        parse_bytes(_pdf_bytes(), "scan.pdf")


def test_pdf_page_limit_is_checked_before_extraction():
    with pytest.raises(IngestError) as e:
        load_pdf(PDF.read_bytes(), "constitution.pdf", max_pages=10)
    assert _reason(e) == "PDF has 25 pages (limit 10)"


def test_pdf_pages_are_tracked():
    doc = parse_file(PDF, "laws/pdf/全国_2018_中华人民共和国宪法.pdf")
    assert doc.source_format == "pdf"
    assert doc.title == "中华人民共和国宪法"
    assert doc.doc_type == "law" and doc.region == "全国"
    # contiguous spans over the whole canonical text, pages in order
    assert doc.pages[0][0] == 0 and doc.pages[-1][1] == len(doc.text)
    assert all(a[1] == b[0] and a[2] < b[2] for a, b in zip(doc.pages, doc.pages[1:], strict=False))
    assert doc.pages[-1][2] == 25
    for c in doc.chunks:
        page = next(p for s, e, p in doc.pages if s <= c.start < e)
        assert c.page == page
    last = next(c for c in doc.chunks if "中华人民共和国首都是北京" in c.text)
    assert last.page == 25 and last.section[-1] == "第一百四十三条"
    # the 目录 lists the chapters once more; only the real chapter headings become sections
    chapters = [s.path[0] for s in doc.sections if s.level == 1]
    assert chapters.count("第一章 总纲") == 1


def test_damaged_docx():
    with pytest.raises(IngestError, match="not a Word .docx file"):
        parse_bytes(b"PK\x03\x04 not really a zip", "broken.docx")
    with pytest.raises(IngestError, match="not a Word .docx file"):
        parse_bytes("纯文本".encode(), "plain.docx")
