"""Quote-basket export: every passage verbatim with its citation, in .docx and Markdown."""

from __future__ import annotations

import io
from datetime import date

import pytest

from kb.errors import InvalidInput
from kb.export import export_passages

ITEMS = [
    {"text": "第四条 作出重大行政决策应当履行公众参与、专家论证等法定程序。\n决策机关应当进行合法性审查。",
     "citation": "《重大行政决策程序暂行条例》第一章 总则 第四条（2019-04-20）",
     "title": "重大行政决策程序暂行条例", "date": "2019-04-20", "section": ["第一章 总则", "第四条"]},
    {"text": "推进政务服务“一网通办”。", "citation": "《某市优化营商环境条例》第十条",
     "title": "某市优化营商环境条例", "date": "", "section": "第三章 政务服务"},
]
DAY = date(2024, 5, 6)


def docx_text(content: bytes) -> tuple[list[str], list]:
    from docx import Document

    doc = Document(io.BytesIO(content))
    return [p.text for p in doc.paragraphs], doc.paragraphs


def test_docx_holds_passages_citations_heading_and_date():
    content, media, name = export_passages(ITEMS, "docx", today=DAY)
    assert media.startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert name == "摘录汇编-20240506.docx"
    texts, paras = docx_text(content)
    from docx import Document
    from docx.oxml.ns import qn

    normal = Document(io.BytesIO(content)).styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "宋体"  # Chinese glyphs get a Chinese font in Word
    assert texts[0] == "摘录汇编" and paras[0].style.name.startswith("Heading")
    assert "导出日期：2024-05-06" in texts
    for item in ITEMS:
        assert item["text"] in texts  # one paragraph per passage, verbatim (line breaks kept)
        cite = next(p for p in paras if item["citation"] in p.text)
        assert all(r.italic for r in cite.runs) and cite.runs[0].font.size.pt < 11
    # order: the first passage comes before the second, each citation after its passage
    i0, i1 = texts.index(ITEMS[0]["text"]), texts.index(ITEMS[1]["text"])
    assert i0 < i1 and ITEMS[0]["citation"] in texts[i0 + 1]
    assert texts[i0 - 1].startswith("1. 《重大行政决策程序暂行条例》 · 第一章 总则 → 第四条")


def test_markdown_is_a_numbered_list_of_quotes():
    content, media, name = export_passages(ITEMS, "md", today=DAY)
    md = content.decode("utf-8")
    assert media.startswith("text/markdown") and name.endswith(".md")
    assert md.startswith("# 摘录汇编\n\n导出日期：2024-05-06\n")
    assert "1. 《重大行政决策程序暂行条例》 · 第一章 总则 → 第四条 · 2019-04-20\n" in md
    assert "   > 第四条 作出重大行政决策应当履行公众参与、专家论证等法定程序。\n   > 决策机关应当进行合法性审查。\n" in md
    assert "2. 《某市优化营商环境条例》 · 第三章 政务服务\n" in md
    for item in ITEMS:
        assert f"—— {item['citation']}" in md


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
