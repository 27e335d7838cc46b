"""The quote basket → a .docx or Markdown file for speech drafting.

Each passage is reproduced verbatim (it is a quotation) with its citation under it,
so a drafter can paste it and still trace every sentence to its source.
"""

from __future__ import annotations

import io
from datetime import date

from kb.errors import InvalidInput

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
}
HEADING = "摘录汇编"


def export_passages(items: list[dict], fmt: str, *, today: date | None = None) -> tuple[bytes, str, str]:
    """Render passages as (content, media type, file name).

    ``items`` need ``text`` and ``citation``; ``title``, ``date`` and ``section``
    (list of headings or a string) are used when present.
    """
    if fmt not in FORMATS:
        raise InvalidInput(f"format: unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")
    if not items:
        raise InvalidInput("items: the basket is empty; add at least one passage to export")
    for i, item in enumerate(items):
        for key in ("text", "citation"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise InvalidInput(f"items[{i}].{key}: missing or empty")
    today = today or date.today()
    content = _docx(items, today) if fmt == "docx" else _markdown(items, today).encode("utf-8")
    return content, FORMATS[fmt], f"{HEADING}-{today:%Y%m%d}.{fmt}"


def _section(item: dict) -> str:
    section = item.get("section") or []
    return " → ".join(section) if isinstance(section, list) else str(section)


def _source_line(item: dict) -> str:
    """Title · section · date, for the small line above a passage (skipping what is unknown)."""
    title = item.get("title") or ""
    parts = [f"《{title}》" if title and not title.startswith("《") else title, _section(item), item.get("date") or ""]
    return " · ".join(p for p in parts if p)


def _markdown(items: list[dict], today: date) -> str:
    lines = [f"# {HEADING}", "", f"导出日期：{today:%Y-%m-%d}", ""]
    for n, item in enumerate(items, 1):
        source = _source_line(item)
        lines.append(f"{n}. {source}" if source else f"{n}.")
        lines.append("")
        # every line of the passage quoted, indented under its list item
        lines.extend(f"   > {line}".rstrip() for line in item["text"].strip().splitlines())
        lines.append("")
        lines.append(f"   —— {item['citation']}")
        lines.append("")
    return "\n".join(lines)


def _east_asian_font(style, name: str) -> None:
    """Word picks Chinese glyphs from the eastAsia font slot, which the default template leaves unset."""
    from docx.oxml.ns import qn

    style.font.name = name
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _docx(items: list[dict], today: date) -> bytes:
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
    _east_asian_font(doc.styles["Normal"], "宋体")
    _east_asian_font(doc.styles["Heading 1"], "黑体")
    doc.add_heading(HEADING, level=1)
    doc.add_paragraph(f"导出日期：{today:%Y-%m-%d}")
    for n, item in enumerate(items, 1):
        source = _source_line(item)
        head = doc.add_paragraph()
        head.add_run(f"{n}. {source}" if source else f"{n}.").bold = True
        body = doc.add_paragraph(item["text"].strip())
        body.paragraph_format.left_indent = Pt(18)
        cite = doc.add_paragraph()
        cite.paragraph_format.left_indent = Pt(18)
        run = cite.add_run(f"—— {item['citation']}")
        run.italic = True
        run.font.size = Pt(9)
        run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
