"""OFD (GB/T 33190): the text layer in reading order, the page of every passage, 公文 fields.

Fixtures come from two independent writers: tests/ofd_writer.py (written from the standard) and
files in tests/data/ofd made once by the PyPI package easyofd (from a PDF that LibreOffice printed)
and by pdf2ofd (which draws glyphs as outlines: no text layer)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from ofd_writer import column_lines, line, make_ofd

from ingest import IngestError, parse_bytes

DATA = Path(__file__).resolve().parent / "data" / "ofd"


def _squash(s: str) -> str:
    return re.sub(r"\s", "", s)


def test_one_page():
    data = make_ofd([[line(30, 40, "某某区司法局关于开展法治宣传活动的通知"),
                      line(30, 55, "一、活动内容"),
                      line(30, 65, "围绕宪法和民法典开展集中宣传。"),
                      line(30, 80, "二、工作要求"),
                      line(30, 90, "各单位要高度重视，认真组织实施。")]])
    doc = parse_bytes(data, "通知.ofd")
    assert doc.source_format == "ofd"
    assert doc.text.split("\n")[:3] == ["某某区司法局关于开展法治宣传活动的通知", "一、活动内容", "围绕宪法和民法典开展集中宣传。"]
    assert [s.path for s in doc.sections] == [["一、活动内容"], ["二、工作要求"]]
    assert doc.pages == [(0, len(doc.text), 1)]
    assert all(c.page == 1 for c in doc.chunks)
    assert doc.report.pages == 1 and doc.report.chars == len(doc.text) and not doc.report.pages_ocr


def test_two_pages_keep_page_numbers_and_reading_order_from_positions():
    page1 = [line(30, 40 + 10 * i, f"第{n}条 本条规定第{n}项行政执法要求，执法人员应当遵守。")
             for i, n in enumerate("一二三四")]
    page2 = [line(30, 40 + 10 * i, f"第{n}条 本条规定第{n}项行政执法要求，执法人员应当遵守。")
             for i, n in enumerate("五六七八")]
    doc = parse_bytes(make_ofd([page1, page2], shuffle=True), "办法.ofd")  # objects written bottom-up
    lines = doc.text.split("\n")
    assert [ln[:3] for ln in lines if ln] == [f"第{n}条" for n in "一二三四五六七八"]
    assert [p for _, _, p in doc.pages] == [1, 2]
    for c in doc.chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.page == (1 if "第五条" not in c.text and c.start < doc.pages[1][0] else 2)
    fifth = next(c for c in doc.chunks if c.section == ["第五条"])
    assert fifth.page == 2
    assert doc.report.pages == 2


def test_two_columns_are_read_one_after_the_other():
    left = ["左栏第一行讲的是行政复议的受理条件", "左栏第二行讲的是行政复议的申请期限", "左栏第三行讲的是行政复议的审理方式"]
    right = ["右栏第一行讲的是行政诉讼的起诉条件", "右栏第二行讲的是行政诉讼的管辖法院", "右栏第三行讲的是行政诉讼的审理程序"]
    page = [line(40, 30, "行政复议与行政诉讼对照说明", 6.0)] + column_lines(20, 50, left) + column_lines(115, 50, right) \
        + [line(20, 90, "本说明的全文横跨两栏排印，作为两栏之后的结语部分，供各单位学习参考使用。", 4.2)]
    doc = parse_bytes(make_ofd([page], shuffle=True), "对照.ofd")
    assert [ln for ln in doc.text.split("\n") if ln] == ["行政复议与行政诉讼对照说明", *left, *right,
                                                         "本说明的全文横跨两栏排印，作为两栏之后的结语部分，供各单位学习参考使用。"]


def test_a_table_of_short_cells_is_read_row_by_row():
    rows = [("序号", "事项", "责任单位"), ("1", "合法性审核", "司法局"), ("2", "决策公开", "政府办")]
    page = [line(x, 40 + 10 * i, cell, 4.2) for i, row in enumerate(rows) for x, cell in zip((20, 60, 140), row,
                                                                                             strict=True)]
    doc = parse_bytes(make_ofd([page]), "表.ofd")
    assert doc.text.split("\n")[:3] == ["序号 事项 责任单位", "1 合法性审核 司法局", "2 决策公开 政府办"]


def test_official_document_fields_from_the_text_and_doc_info():
    template = [line(60, 40, "某某市人民政府办公室文件", 8.0)]  # 版头 on a template page
    body = [line(75, 60, "某政办发〔2023〕7号"),
            line(30, 80, "某某市人民政府办公室关于加强行政规范性文件管理的通知", 6.0),
            line(30, 95, "各区人民政府，市政府各部门："),
            line(38, 105, "为加强行政规范性文件管理，现就有关事项通知如下。"),
            line(30, 115, "一、严格合法性审核"),
            line(38, 125, "规范性文件未经合法性审核的，不得提交审议。"),
            line(120, 150, "某某市人民政府办公室"),
            line(122, 160, "2023年3月15日")]
    doc = parse_bytes(make_ofd([body], template=template, custom={"发文机关": "某某市人民政府办公室"}), "通知.ofd")
    assert doc.text.startswith("某某市人民政府办公室文件\n某政办发〔2023〕7号\n")
    assert doc.doc_number == "某政办发〔2023〕7号"
    assert doc.issuer == "某某市人民政府办公室"
    assert doc.date == "2023-03-15"
    assert doc.title == "某某市人民政府办公室关于加强行政规范性文件管理的通知"
    chunk = next(c for c in doc.chunks if "不得提交审议" in c.text)
    assert chunk.section == ["一、严格合法性审核"] and chunk.page == 1


def test_easyofd_file_from_another_writer():
    path = DATA / "easyofd_plan.ofd"
    doc = parse_bytes(path.read_bytes(), path.name)
    flat = _squash(doc.text)
    for sentence in ("为全面推进依法行政，制定本要点。", "党政主要负责人要切实履行推进法治建设第一责任人职责。",
                     "严格落实重大行政决策程序。", "以上任务年底前完成。"):
        assert sentence in flat, sentence
    assert [p for _, _, p in doc.pages] == [1, 2]
    assert ["二、规范行政决策"] in [s.path for s in doc.sections]
    last = next(c for c in doc.chunks if "以上任务年底前完成" in _squash(c.text))
    assert last.page == 2


def test_outlines_only_ofd_fails_clearly():
    path = DATA / "pdf2ofd_outlines.ofd"
    with pytest.raises(IngestError, match="OFD has no text layer"):
        parse_bytes(path.read_bytes(), path.name)


@pytest.mark.parametrize(("data", "reason"), [
    (b"PK\x03\x04 not a zip", "not an OFD file"),
    ("纯文本".encode(), "not an OFD file"),
])
def test_not_an_ofd(data, reason):
    with pytest.raises(IngestError, match=reason):
        parse_bytes(data, "x.ofd")


def test_damaged_ofd_parts_fail_clearly():
    good = make_ofd([[line(30, 40, "正文内容在这里，足够长的一行文字。")]])
    for drop, reason in (("OFD.xml", "OFD is damaged: it names OFD.xml"),
                         ("Doc_0/Pages/Page_0/Content.xml", "OFD is damaged: it names Doc_0/Pages/Page_0/Content.xml")):
        buf = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buf, "w") as dst:
            for info in src.infolist():
                if info.filename != drop:
                    dst.writestr(info, src.read(info))
        with pytest.raises(IngestError) as e:
            parse_bytes(buf.getvalue(), "坏.ofd")
        assert e.value.reason.startswith(reason), e.value.reason
    broken = good.replace(b"</ofd:Layer>", b"</ofd:Lay")
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info, body.replace(b"</ofd:Layer>", b"</ofd:Lay") if "Content" in info.filename else body)
    assert broken  # the XML of the page is cut
    with pytest.raises(IngestError, match="OFD is damaged: Doc_0/Pages/Page_0/Content.xml"):
        parse_bytes(buf.getvalue(), "坏.ofd")
