"""A comparison matrix → .docx (a real Word table in the 公文 layout, a numbered 出处 list), Markdown
or CSV. Rows are aspects, columns places; a cell quotes its passage verbatim with its [n] source
number, or says 未见相关规定."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from kb.errors import InvalidInput
from kb.export import source_entry, stored_quotes
from kb.matrix import EMPTY

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}


def with_sources(kb: KnowledgeBase, m: dict) -> tuple[dict[tuple[str, str], int], list[dict]]:
    """Number the distinct passages of the matrix in reading order (row by row) and fetch each one's
    stored passage (issuer, 文号 … for the 出处 list), refusing a quotation that no longer matches."""
    hits: dict[tuple[str, int, int], dict] = {}
    numbers: dict[tuple[str, str], int] = {}
    for cell in m["cells"]:
        h = cell["hit"]
        if h is not None:
            key = (h["doc_id"], h["start"], h["end"])
            hits.setdefault(key, h)
            numbers[(cell["aspect"], cell["column"])] = list(hits).index(key) + 1
    passages = stored_quotes(kb, [{"doc_id": d, "start": s, "end": e, "text": h["text"]}
                                  for (d, s, e), h in hits.items()])
    for p, h in zip(passages, hits.values(), strict=True):
        p["citation"] = h["citation"]  # the cell's citation as the search gave it
        for field in ("version", "status"):  # validity fields, where hits carry them
            if isinstance(h.get(field), str):
                p[field] = h[field]
    return numbers, passages


def file_name(m: dict, fmt: str, today: date) -> str:
    topic = "".join(ch for ch in m["query"] if ch.isalnum())[:30] or "对比"
    return f"{topic}对比表-{today:%Y%m%d}.{fmt}"


def export_matrix(kb: KnowledgeBase, m: dict, fmt: str, *, today: date | None = None) -> tuple[bytes, str, str]:
    """(content, media type, file name) of the matrix ``m`` (as kb.matrix returns it)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format: unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")
    today = today or date.today()
    numbers, passages = with_sources(kb, m)
    grid = {(c["aspect"], c["column"]): c for c in m["cells"]}
    renderers: dict[str, Callable[..., bytes | str]] = {"docx": _docx, "md": _markdown, "csv": _csv}
    render = renderers[fmt]
    content = render(m, grid, numbers, passages)
    return (content if isinstance(content, bytes) else content.encode("utf-8-sig" if fmt == "csv" else "utf-8"),
            FORMATS[fmt], file_name(m, fmt, today))


def heading(m: dict) -> str:
    return f"{m['query']}对比表"


def _note(cell: dict) -> str:
    return f"（{cell['note']}）" if cell.get("note") else ""


def _markdown(m, grid, numbers, passages) -> str:
    def esc(s: str) -> str:
        return s.strip("\n").replace("|", "\\|").replace("\n", "<br>")
    lines = [f"# {heading(m)}", "", "| 要点 | " + " | ".join(m["columns"]) + " |",
             "|---" * (len(m["columns"]) + 1) + "|"]
    for a in m["aspects"]:
        row = [esc(a)]
        for col in m["columns"]:
            cell = grid[(a, col)]
            h = cell["hit"]
            row.append(EMPTY if h is None else
                       f"{esc(h['text'])}<br>—— {esc(h['citation'])}［{numbers[(a, col)]}］{_note(cell)}")
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## 出处", ""] + [f"{n}. {source_entry(p)}" for n, p in enumerate(passages, 1)] + [""]
    return "\n".join(lines)


def _csv(m, grid, numbers, passages) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["要点", *m["columns"]])
    for a in m["aspects"]:
        row = [a]
        for col in m["columns"]:
            cell = grid[(a, col)]
            h = cell["hit"]
            row.append(EMPTY if h is None else
                       f"{h['text'].strip(chr(10))}\n——{h['citation']}［{numbers[(a, col)]}］{_note(cell)}")
        w.writerow(row)
    w.writerow([])
    w.writerow(["出处"])
    for n, p in enumerate(passages, 1):
        w.writerow([n, source_entry(p)])
    return buf.getvalue()


def _docx(m, grid, numbers, passages) -> bytes:
    from kb import gongwen

    doc = gongwen.new_document()
    gongwen.title(doc, heading(m))
    table = gongwen.table(doc, rows=len(m["aspects"]) + 1, cols=len(m["columns"]) + 1)
    gongwen.cell_text(table.cell(0, 0), "要点", bold_font="黑体")
    for j, col in enumerate(m["columns"], 1):
        gongwen.cell_text(table.cell(0, j), col, bold_font="黑体")
    for i, a in enumerate(m["aspects"], 1):
        gongwen.cell_text(table.cell(i, 0), a, bold_font="黑体")
        for j, col in enumerate(m["columns"], 1):
            cell, target = grid[(a, col)], table.cell(i, j)
            h = cell["hit"]
            if h is None:
                gongwen.cell_text(target, EMPTY)
                continue
            gongwen.cell_text(target, h["text"].strip("\n"))
            gongwen.cell_paragraph(target, f"——{h['citation']}［{numbers[(a, col)]}］{_note(cell)}")
    gongwen.sources(doc, [source_entry(p) for p in passages])
    return gongwen.to_bytes(doc)
