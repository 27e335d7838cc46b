"""Quote-basket export: every passage verbatim with its citation and a numbered 出处 list; the .docx in
the 公文 layout of GB/T 9704 (page, margins, fonts, sizes, fixed line spacing), opened with python-docx;
a rendered page (LibreOffice → PDF → PNG) is saved to KB_TEST_OUTPUT when those tools are installed."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date

import pytest

from kb.errors import InvalidInput, StaleQuote
from kb.export import export_passages, source_entry, stored_quotes

ITEMS = [
    {"text": "第四条 作出重大行政决策应当履行公众参与、专家论证等法定程序。\n决策机关应当进行合法性审查。",
     "citation": "《重大行政决策程序暂行条例》第四条", "doc_type": "regulation", "issuer": "国务院",
     "doc_number": "国务院令第713号", "title": "重大行政决策程序暂行条例", "date": "2019-04-20",
     "section": ["第一章 总则", "第四条"], "page": 3, "status": "现行有效"},
    {"text": "推进政务服务“一网通办”。", "citation": "《某市优化营商环境条例》第十条至第十二条", "doc_type": "local_regulation",
     "title": "某市优化营商环境条例", "date": "", "section": "第三章 政务服务"},
]
DAY = date(2024, 5, 6)


def open_docx(content: bytes):
    from docx import Document

    return Document(io.BytesIO(content))


def east_asian(style) -> str:
    from docx.oxml.ns import qn

    return style.element.rPr.rFonts.get(qn("w:eastAsia"))


def test_docx_follows_gb_t_9704():
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml.ns import qn

    content, media, name = export_passages(ITEMS, "docx", today=DAY)
    assert media.startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert name == "摘录汇编-20240506.docx"
    doc = open_docx(content)
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)  # A4
    assert [round(getattr(sec, f"{s}_margin").mm) for s in ("top", "bottom", "left", "right")] == [37, 35, 28, 26]
    expected = {"公文标题": ("方正小标宋简体", 22), "Normal": ("仿宋_GB2312", 16), "Heading 1": ("黑体", 16),
                "Heading 2": ("楷体_GB2312", 16)}
    for style_name, (font, size) in expected.items():
        style = doc.styles[style_name]
        assert east_asian(style) == font and style.font.size.pt == size, style_name
        rfonts = style.element.rPr.rFonts
        assert rfonts.get(qn("w:asciiTheme")) is None and rfonts.get(qn("w:eastAsiaTheme")) is None  # no theme override
        fmt = style.paragraph_format
        assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY and 28 <= fmt.line_spacing.pt <= 29
    paras = doc.paragraphs
    assert paras[0].text == "摘录汇编" and paras[0].style.name == "公文标题"
    assert paras[0].alignment is None and doc.styles["公文标题"].paragraph_format.alignment == 1  # centred
    assert any(p.style.name == "Heading 1" and p.text == "出处" for p in paras)
    assert [p.text for p in paras if p.style.name == "Heading 2"][:2] == [
        "（一）《重大行政决策程序暂行条例》 · 第一章 总则 › 第四条 · 2019-04-20", "（二）《某市优化营商环境条例》 · 第三章 政务服务"]


def test_docx_quotes_are_verbatim_each_followed_by_its_citation_and_source():
    texts = [p.text for p in open_docx(export_passages(ITEMS, "docx", today=DAY)[0]).paragraphs]
    for n, item in enumerate(ITEMS, 1):
        i = texts.index(item["text"])  # one paragraph per passage, line breaks kept
        assert texts[i + 1] == f"——{item['citation']}［{n}］"
    sources = texts[texts.index("出处") + 1:]
    assert sources == [
        "1. 《重大行政决策程序暂行条例》（国务院令第713号），国务院，2019-04-20，第一章 总则 › 第四条，第 3 页，现行有效。",
        "2. 《某市优化营商环境条例》，第三章 政务服务 › 第十条至第十二条。"]


def test_source_entry_skips_what_is_unknown():
    assert source_entry({"citation": "《无题》", "title": ""}) == "《无题》。"


def test_markdown_is_a_numbered_list_of_quotes_and_sources():
    content, media, name = export_passages(ITEMS, "md", today=DAY)
    md = content.decode("utf-8")
    assert media.startswith("text/markdown") and name.endswith(".md")
    assert md.startswith("# 摘录汇编\n\n导出日期：2024-05-06\n")
    assert "1. 《重大行政决策程序暂行条例》 · 第一章 总则 › 第四条 · 2019-04-20\n" in md
    assert "   > 第四条 作出重大行政决策应当履行公众参与、专家论证等法定程序。\n   > 决策机关应当进行合法性审查。\n" in md
    assert "   —— 《重大行政决策程序暂行条例》第四条［1］" in md
    assert md.split("## 出处\n\n")[1].startswith("1. 《重大行政决策程序暂行条例》（国务院令第713号）")


@pytest.mark.parametrize("items, fmt, field", [
    (ITEMS, "pdf", "format"),
    ([], "md", "items"),
    ([{"text": "", "citation": "x"}], "md", "items[0].text"),
    ([{"text": "x"}], "docx", "items[0].citation"),
])
def test_bad_input_names_the_field(items, fmt, field):
    with pytest.raises(InvalidInput) as err:
        export_passages(items, fmt)
    assert err.value.detail.startswith(field)


def test_stored_quotes_refuse_a_quotation_that_no_longer_matches(fake_kb):
    hit = fake_kb.search("重大行政决策 合法性审查", k=1)[0]
    item = {"doc_id": hit.doc_id, "start": hit.start, "end": hit.end, "text": hit.text}
    [passage] = stored_quotes(fake_kb, [item])
    assert passage["text"] == hit.text and passage["issuer"] is not None and "doc_number" in passage
    with pytest.raises(StaleQuote) as err:
        stored_quotes(fake_kb, [item, {**item, "text": "＊" + hit.text[1:]}])
    assert err.value.status == 409 and err.value.detail.startswith("items[1].text") and "again" in err.value.detail


def test_a_selected_sentence_is_cited_by_its_article(fake_kb):
    doc = fake_kb.document("laws/全国/行政法规/重大行政决策程序暂行条例(2019-04-20).md")
    start = doc.text.index("不得以征求意见等方式代替合法性审查。")
    p = fake_kb.passage(doc.doc_id, start, start + len("不得以征求意见等方式代替合法性审查。"))
    assert p["citation"] == "《重大行政决策程序暂行条例》第二十五条"
    assert p["section"][-1] == "第二十五条" and p["issuer"] == "国务院"
    across = fake_kb.passage(doc.doc_id, start, doc.text.index("第二十七条") + 5)
    assert across["citation"] == "《重大行政决策程序暂行条例》第二十五条至第二十七条"
    assert across["section"] == ["第三章 合法性审查和集体讨论决定", "第一节 合法性审查"]


def test_rendered_page_screenshot(output_dir, tmp_path):
    """The first page as LibreOffice renders it, for a person to look at (fonts substituted where missing)."""
    office, pdftoppm = shutil.which("libreoffice") or shutil.which("soffice"), shutil.which("pdftoppm")
    if not (office and pdftoppm):
        pytest.skip("rendering needs libreoffice and pdftoppm (apt-get install libreoffice-writer-nogui poppler-utils)")
    src = tmp_path / "摘录汇编.docx"
    src.write_bytes(export_passages(ITEMS * 3, "docx", today=DAY)[0])
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(src)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "摘录汇编.pdf"
    assert pdf.stat().st_size > 1000
    shots = output_dir if os.environ.get("KB_TEST_OUTPUT") else output_dir / "screenshots"  # as test_web.py
    shots.mkdir(parents=True, exist_ok=True)
    subprocess.run([pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(shots / "export-gongwen")], check=True, timeout=120)
    assert (shots / "export-gongwen.png").stat().st_size > 5000
