"""Word documents in the 公文 layout of GB/T 9704, for drafts an official pastes into:
A4, margins 37/35/28/26 mm (top/bottom/left/right), title 方正小标宋简体 二号, body 仿宋_GB2312 三号,
level-1 headings 黑体, level-2 楷体_GB2312, lines at a fixed 28.95 pt (22 lines on the 225 mm type area).

Fonts are named, not embedded: Word substitutes where one is missing. Chinese glyphs come from the
w:eastAsia font slot, and the default template's theme fonts would override the names, so every
style gets explicit names in all four slots and no theme attributes.
"""

from __future__ import annotations

import io
import re

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
LINE = Pt(28.95)
TABLE_LINE = Pt(20)
INDENT = Pt(32)  # two characters of 三号
# style name → (font, size in pt, line spacing): 二号 22 pt, 三号 16 pt, 四号 14 pt, 小四 12 pt
STYLES = {
    "公文标题": ("方正小标宋简体", 22, LINE),
    "Normal": ("仿宋_GB2312", 16, LINE),
    "Heading 1": ("黑体", 16, LINE),
    "Heading 2": ("楷体_GB2312", 16, LINE),
    "表格文字": ("仿宋_GB2312", 12, TABLE_LINE),  # a table's cells: 小四, so several columns fit the page
    "出处": ("仿宋_GB2312", 14, Pt(24)),  # the numbered source list: 四号
}
# characters XML 1.0 cannot hold (control characters, lone surrogates): a stray one in a stored text or
# a query must not make the whole file fail; they are invisible, so they are left out
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_THEME = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def name_font(rpr_owner, name: str) -> None:
    """Name ``name`` in every font slot of a style's or a run's properties, theme fonts removed."""
    rfonts = rpr_owner.get_or_add_rPr().get_or_add_rFonts()
    for attr in _THEME:
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)


def new_document():
    """An empty document with the page set up and the styles of STYLES."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    for side, mm in MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(mm))
    styles = doc.styles
    if "公文标题" not in [s.name for s in styles]:
        from docx.enum.style import WD_STYLE_TYPE

        for name in ("公文标题", "表格文字", "出处"):
            styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH).base_style = styles["Normal"]
    for name, (font, size, line) in STYLES.items():
        style = styles[name]
        name_font(style.element, font)
        style.font.size = Pt(size)
        style.font.bold = False
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        fmt = style.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = line
        fmt.space_before = fmt.space_after = Pt(0)
    styles["公文标题"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return doc


def title(doc, text: str) -> None:
    doc.add_paragraph(xml_safe(text), style="公文标题")
    doc.add_paragraph("")  # GB/T 9704: one empty line between the title and the body


def heading(doc, text: str, level: int = 1) -> None:
    doc.add_paragraph(xml_safe(text), style=f"Heading {level}")


def body(doc, text: str, indent: bool = True):
    """A body paragraph; line breaks inside ``text`` stay line breaks (quotations are verbatim)."""
    p = doc.add_paragraph(xml_safe(text), style="Normal")
    if indent:
        p.paragraph_format.first_line_indent = INDENT
    return p


def table(doc, rows: int, cols: int):
    t = doc.add_table(rows=rows, cols=cols)
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    return t


def cell_paragraph(cell, text: str):
    """A further paragraph in a table cell, in 表格文字."""
    return cell.add_paragraph(xml_safe(text), style="表格文字")


def cell_text(cell, text: str, bold_font: str | None = None):
    """Put ``text`` in a table cell (its first paragraph), in 表格文字; ``bold_font`` e.g. 黑体 for headers."""
    p = cell.paragraphs[0]
    p.style = "表格文字"
    run = p.add_run(xml_safe(text))
    if bold_font:
        name_font(run._element, bold_font)
    return p


def sources(doc, entries: list[str], head: str = "出处") -> None:
    """The numbered source list at the end: 1. 《…》（文号），issuer，date，section，page。"""
    heading(doc, head, 1)
    for n, entry in enumerate(entries, 1):
        doc.add_paragraph(xml_safe(f"{n}. {entry}"), style="出处")


def cn_numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 105 → 一百零五 (for （一） numbering, 1–999)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + digits[rest] if rest < 10 else
                                 ("一" + cn_numeral(rest) if rest < 20 else cn_numeral(rest)))
    return digits[n // 100] + "百" + tail


def to_bytes(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
