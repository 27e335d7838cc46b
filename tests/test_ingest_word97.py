"""Word 97–2003 .doc and WPS .wps through LibreOffice: heading styles → sections, tables as text,
and a clear failure naming the package when LibreOffice is missing.

Fixtures (tests/data/word) were written once by LibreOffice from .docx files made with python-docx;
notice.wps is the same Word binary format under WPS's suffix, with Chinese style names (标题 1)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ingest import IngestError, parse_bytes, parse_file, word97

DATA = Path(__file__).resolve().parent / "data" / "word"
needs_libreoffice = pytest.mark.skipif(word97.converter() is None,
                                       reason="LibreOffice is not installed (apt-get install libreoffice-writer-nogui)")


@needs_libreoffice
def test_doc_heading_styles_become_sections_and_tables_stay():
    doc = parse_file(DATA / "plan.doc")
    assert doc.source_format == "doc"
    assert doc.title == "某某县2023年法治政府建设工作要点"
    assert [s.path for s in doc.sections] == [
        ["一、加强组织领导"], ["一、加强组织领导", "压实责任"], ["一、加强组织领导", "健全考核机制"], ["二、规范行政决策"]]
    assert "序号：2；任务：公开决策事项目录；责任单位：县政府办" in doc.text.split("\n")
    row = next(c for c in doc.chunks if "县政府办" in c.text)
    assert row.section == ["二、规范行政决策"]  # a passage inside a table cites its section
    assert doc.report.chars == len(doc.text) and doc.report.pages is None


@needs_libreoffice
def test_wps_official_document():
    doc = parse_file(DATA / "notice.wps")
    assert doc.source_format == "wps"
    assert doc.doc_number == "某司发〔2024〕3号"
    assert doc.issuer == "某某市司法局" and doc.date == "2024-04-08"
    assert doc.title == "某某市司法局关于做好行政复议工作的通知"
    assert [s.path for s in doc.sections] == [["畅通复议渠道"], ["提高办案质量"], ["提高办案质量", "严格审查"]]
    chunk = next(c for c in doc.chunks if "全面审查" in c.text)
    assert chunk.section == ["提高办案质量", "严格审查"]


def test_missing_libreoffice_names_the_package(monkeypatch):
    monkeypatch.setattr(word97, "SOFFICE", ("no-such-soffice-here",))
    for name in ("plan.doc", "notice.wps"):
        with pytest.raises(IngestError) as e:
            parse_file(DATA / name)
        suffix = name.rsplit(".", 1)[1]
        assert e.value.reason == (f"cannot read .{suffix} files: LibreOffice is not installed "
                                  "(apt-get install libreoffice-writer-nogui)")
        assert e.value.path == name


def test_not_a_word_file():
    with pytest.raises(IngestError, match=r"not a Word 97–2003 \.doc file"):
        parse_bytes("这是一段纯文本，不是Word文件。".encode(), "假.doc")
    with pytest.raises(IngestError, match=r"not a Word 97–2003 \.wps file"):
        parse_bytes(b"\x00\x01\x02 random", "假.wps")


@needs_libreoffice
def test_damaged_doc_fails_clearly():
    data = (DATA / "plan.doc").read_bytes()
    with pytest.raises(IngestError) as e:
        parse_bytes(data[:2048], "截断.doc")
    assert e.value.reason == ("LibreOffice could not convert this .doc file (damaged or password-protected?): "
                              "Error: source file could not be loaded")


def test_docx_saved_as_doc_needs_no_converter(monkeypatch):
    docx = pytest.importorskip("docx")
    monkeypatch.setattr(word97, "SOFFICE", ("no-such-soffice-here",))
    d = docx.Document()
    d.add_paragraph("健全行政执法制度", style="Heading 1")
    d.add_paragraph("全面推行行政执法公示制度。")
    buf = io.BytesIO()
    d.save(buf)
    doc = parse_bytes(buf.getvalue(), "其实是docx.doc")
    assert doc.source_format == "doc" and [s.path for s in doc.sections] == [["健全行政执法制度"]]
