"""The quote basket → a .docx in the 公文 layout (kb/gongwen.py) or a Markdown file.

Each passage is reproduced verbatim (it is a quotation, checked against the stored text when the
file is made) and followed by its citation; a numbered 出处 list at the end gives each source's
title, 文号, issuer, date, section path or article, page, and version/status where known.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from kb.cite import LEGAL_TYPES
from kb.errors import InvalidInput, StaleQuote

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
}
HEADING = "摘录汇编"


def stored_quotes(kb: KnowledgeBase, items: list[dict]) -> list[dict]:
    """The stored passages of basket items {doc_id, start, end, text?}. A quotation must be verbatim:
    an item that brings the text it was added with is refused when the stored text differs (the
    document was changed or re-ingested since), naming the item."""
    out = []
    for i, item in enumerate(items):
        passage = kb.passage(item["doc_id"], item["start"], item["end"])
        given = item.get("text")
        if given is not None and given != passage["text"]:
            raise StaleQuote(
                f"items[{i}].text: the quotation from {passage['citation']} no longer matches the stored text "
                f"at [{item['start']}, {item['end']}) — the document has changed since it was added; "
                "add the passage to the basket again")
        out.append(passage)
    return out


def export_passages(items: list[dict], fmt: str, *, today: date | None = None) -> tuple[bytes, str, str]:
    """Render passages as (content, media type, file name).

    ``items`` need ``text`` and ``citation``; ``title``, ``date``, ``section`` (list of headings or a
    string), ``doc_type``, ``doc_number``, ``issuer``, ``page``, ``version`` and ``status`` are used
    when present.
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


def section_text(item: dict) -> str:
    section = item.get("section") or []
    return " › ".join(section) if isinstance(section, list) else str(section)


def source_entry(item: dict) -> str:
    """One 出处 line: 《title》（文号），issuer，date，section path or article，第 n 页，version/status。"""
    title = (item.get("title") or "").strip().strip("《》")
    head = f"《{title}》" if title else item["citation"]
    if item.get("doc_number"):
        head += f"（{item['doc_number']}）"
    where = section_text(item)
    cited = item.get("citation") or ""
    if item.get("doc_type") in LEGAL_TYPES and title and cited.startswith(f"《{title}》"):
        article = cited[len(title) + 2:].strip()  # 第二十五条, 第四条至第九条
        if article and article not in where:
            where = f"{where} › {article}" if where else article
    parts = [head, item.get("issuer") or "", item.get("date") or "", where,
             f"第 {item['page']} 页" if item.get("page") else "", item.get("version") or "", item.get("status") or ""]
    return "，".join(p for p in parts if p) + "。"


def _source_line(item: dict) -> str:
    """Title · section · date, for the line above a passage (skipping what is unknown)."""
    title = item.get("title") or ""
    parts = [f"《{title}》" if title and not title.startswith("《") else title, section_text(item),
             item.get("date") or ""]
    return " · ".join(p for p in parts if p)


def _markdown(items: list[dict], today: date) -> str:
    lines = [f"# {HEADING}", "", f"导出日期：{today:%Y-%m-%d}", ""]
    for n, item in enumerate(items, 1):
        source = _source_line(item)
        lines.append(f"{n}. {source}" if source else f"{n}.")
        lines.append("")
        # every line of the passage quoted, indented under its list item
        lines.extend(f"   > {line}".rstrip() for line in item["text"].strip("\n").splitlines())
        lines.append("")
        lines.append(f"   —— {item['citation']}［{n}］")
        lines.append("")
    lines += ["## 出处", ""] + [f"{n}. {source_entry(item)}" for n, item in enumerate(items, 1)] + [""]
    return "\n".join(lines)


def _docx(items: list[dict], today: date) -> bytes:
    from kb import gongwen

    doc = gongwen.new_document()
    gongwen.title(doc, HEADING)
    gongwen.body(doc, f"导出日期：{today:%Y-%m-%d}", indent=False)
    for n, item in enumerate(items, 1):
        source = _source_line(item)
        gongwen.heading(doc, f"（{gongwen.cn_numeral(n)}）{source}", 2)
        gongwen.body(doc, item["text"].strip("\n"))
        gongwen.body(doc, f"——{item['citation']}［{n}］")
    gongwen.sources(doc, [source_entry(item) for item in items])
    return gongwen.to_bytes(doc)
