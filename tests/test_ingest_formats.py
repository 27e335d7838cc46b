"""HTML main-content extraction and Word heading styles."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from ingest import parse_bytes, parse_file

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "ingest"
CORPUS = ROOT / "corpus"
STATE_COUNCIL = "gov/other/全国_2018_国务院办公厅关于全面推行行政规范性文件合法性审核机制的指导意见.html"
SAVED_PAGE = "gov/other/广州市_2021_广州市老年人优待办法.html"


def _visible(html: str) -> str:
    """Characters of the HTML outside tags, whitespace removed (how the eval compares)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S | re.I)
    return re.sub(r"\s", "", re.sub(r"<[^>]+>", "", html))


def test_saved_page_keeps_the_article_only():
    doc = parse_file(DATA / "saved_page.html")
    assert doc.source_format == "html"
    for chrome in (
        "脚本里的文字",
        "统计代码",
        "样式里的文字",
        "政务服务",
        "手机版",
        "您的当前位置",
        "分享到",
        "侧栏里的链接文字",
        "版权所有",
        "ICP备",
        "主办单位",
    ):
        assert chrome not in doc.text, chrome
    assert "为深入推进严格规范公正文明执法，结合本区实际，提出如下意见。" in doc.text
    # each <p> is a line; inline elements stay inside their line; <br> breaks the line
    assert (
        "（二）规范事中公示。执法人员在执法过程中应当主动出示执法证件，出具行政执法文书。"
        in doc.text.split("\n")
    )
    assert "进行记录。\n记录应当全面、客观、公正。" in doc.text
    assert doc.title == "某某区关于推进严格规范公正文明执法的实施意见"
    assert doc.date == "2023-05-16"
    assert doc.issuer == "某某区司法局"
    assert [s.path for s in doc.sections][:2] == [
        ["一、全面推行行政执法公示制度"],
        ["一、全面推行行政执法公示制度", "（一）强化事前公开"],
    ]


def test_state_council_page_uses_content_and_metadata_table():
    raw = (CORPUS / STATE_COUNCIL).read_text(encoding="utf-8")
    doc = parse_file(CORPUS / STATE_COUNCIL, STATE_COUNCIL)
    assert doc.title == "国务院办公厅关于全面推行行政规范性文件合法性审核机制的指导意见"
    assert doc.issuer == "国务院办公厅"
    assert doc.date == "2018-12-04"  # 成文日期
    assert doc.doc_number == "国办发〔2018〕115号"
    assert doc.region == "全国"
    # the index table (索引号, 主题分类) is page furniture, not the document
    assert "索引号" not in doc.text and "主题分类" not in doc.text
    # characters are unchanged: every line of the text occurs in the page's visible text
    visible = _visible(raw)
    for line in doc.text.split("\n"):
        assert re.sub(r"\s", "", line) in visible
    assert re.sub(r"\s", "", doc.text).startswith(
        "国务院办公厅关于全面推行行政规范性文件合法性审核机制的指导意见"
    )
    # （一）…（十） run on across 一、二、三、: every item becomes a section
    assert ["二、严格落实工作措施", "（三）明确审核范围"] in [s.path for s in doc.sections]


def test_real_saved_page_with_scripts_and_menus():
    raw = (CORPUS / SAVED_PAGE).read_text(encoding="utf-8")
    assert raw.count("<script") > 10 and "mainnav" in raw
    doc = parse_file(CORPUS / SAVED_PAGE, SAVED_PAGE)
    assert "function" not in doc.text and "var " not in doc.text
    assert "第一条 为保障老年人合法权益" in doc.text
    assert doc.doc_type == "rule"  # 广州市人民政府令第179号
    assert doc.region == "广东省广州市"
    visible = _visible(raw)
    for line in doc.text.split("\n"):
        assert re.sub(r"\s", "", line) in visible


def _docx_bytes() -> bytes:
    docx = pytest.importorskip("docx")
    from docx.enum.style import WD_STYLE_TYPE

    d = docx.Document()
    d.add_paragraph("某某县2023年法治政府建设工作要点", style="Title")
    d.add_paragraph("为全面推进依法行政，制定本要点。")
    d.add_paragraph("加强组织领导", style="Heading 1")
    d.add_paragraph("压实责任", style="Heading 2")
    d.add_paragraph("党政主要负责人要切实履行推进法治建设第一责任人职责。")
    d.add_paragraph("健全考核机制", style="Heading 2")
    d.add_paragraph("把法治建设成效纳入政绩考核指标体系。")
    # Chinese Word names its heading styles 标题 1, 标题 2 …
    d.styles.add_style("标题 1", WD_STYLE_TYPE.PARAGRAPH)
    d.add_paragraph("规范行政决策", style="标题 1")
    d.add_paragraph("严格落实重大行政决策程序。")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "责任单位"
    table.rows[0].cells[1].text = "县司法局"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_heading_styles():
    doc = parse_bytes(_docx_bytes(), "要点.docx")
    assert doc.source_format == "docx"
    assert doc.title == "某某县2023年法治政府建设工作要点"
    assert [s.path for s in doc.sections] == [
        ["加强组织领导"],
        ["加强组织领导", "压实责任"],
        ["加强组织领导", "健全考核机制"],
        ["规范行政决策"],
    ]
    assert [s.level for s in doc.sections] == [1, 2, 2, 1]
    chunk = next(c for c in doc.chunks if "第一责任人职责" in c.text)
    assert chunk.section == ["加强组织领导", "压实责任"]
    assert "责任单位 县司法局" in doc.text
    assert doc.doc_type == "plan"


# ---- tables: one row a line, 列名：值 under a header row, never a heading -----------------------
TABLE_PAGE = """<html><body><div class="article-content"><h2>某某区行政执法公示工作方案</h2>
<p>一、工作任务</p><p>各单位按下表分工落实行政执法公示各项任务，确保按期完成。</p>
<table><thead><tr><th>序号</th><th>任务</th><th>责任单位</th></tr></thead><tbody>
<tr><td>一、</td><td><p>开展执法公示</p></td><td>区司法局</td></tr>
<tr><td>二、</td><td colspan="2">全过程记录</td></tr></tbody></table>
<table><tr><td>一、组织领导</td><td>区政府办</td></tr><tr><td>二、督促检查</td><td>区司法局</td></tr></table>
<p>二、保障措施</p><p>加强组织领导。</p></div></body></html>"""


def test_html_table_rows_with_their_header_and_section():
    doc = parse_bytes(TABLE_PAGE.encode(), "方案.html")
    lines = doc.text.split("\n")
    assert "序号 任务 责任单位" in lines
    assert "序号：一、；任务：开展执法公示；责任单位：区司法局" in lines
    assert "序号：二、；任务：全过程记录" in lines  # a merged cell is written once
    assert lines[lines.index("一、组织领导 区政府办") + 1] == "二、督促检查 区司法局"  # no header: cells joined
    # rows starting with 一、 are table rows, not headings: passages in the tables cite 一、工作任务
    assert [s.path for s in doc.sections] == [["一、工作任务"], ["二、保障措施"]]
    row = next(c for c in doc.chunks if "督促检查" in c.text)
    assert row.section == ["一、工作任务"]


def test_docx_table_with_a_header_row():
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("推进依法行政", style="Heading 1")
    d.add_paragraph("各项任务分工如下。")
    t = d.add_table(rows=3, cols=3)
    for r, row in enumerate([["序号", "任务", "完成时限"], ["1", "清理规范性文件", "2023年6月"],
                             ["2", "公布权责清单", "2023年9月"]]):
        for c, v in enumerate(row):
            t.rows[r].cells[c].text = v
    d.add_paragraph("落实保障", style="Heading 1")
    d.add_paragraph("加强经费保障。")
    buf = io.BytesIO()
    d.save(buf)
    doc = parse_bytes(buf.getvalue(), "分工.docx")
    assert "序号：2；任务：公布权责清单；完成时限：2023年9月" in doc.text.split("\n")
    row = next(c for c in doc.chunks if "公布权责清单" in c.text)
    assert row.section == ["推进依法行政"]
