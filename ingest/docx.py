"""Word .docx → text, one paragraph a line; heading styles (Heading 1 / 标题 1 …) become headings."""

from __future__ import annotations

import io
import re
import zipfile
from functools import cache

from ingest.data import rows
from ingest.load import Loaded
from ingest.records import IngestError
from ingest.tables import table_lines

# Zip-bomb guard, checked on the ZIP directory before python-docx inflates anything. Declared
# sizes can be trusted: zipfile refuses to inflate a member past its declared size.
MAX_INFLATED_BYTES = 200 * 2**20  # all parts of the package together
MAX_XML_PART_BYTES = 20 * 2**20  # any one .xml/.rels part (parsed whole into memory by lxml)


@cache
def _style_patterns() -> tuple[re.Pattern, re.Pattern]:
    found = {r[0]: re.compile(r[5]) for r in rows("headings.tsv") if r[1] == "docx"}
    return found["docx-heading"], found["docx-title"]


def load_docx(data: bytes, path: str) -> Loaded:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(path, "not a Word .docx file (not a ZIP package)")
    _check_inflated_size(data, path)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document))
    except PackageNotFoundError:
        raise IngestError(path, "not a Word .docx file (no word/document.xml)") from None
    except (KeyError, ValueError, zipfile.BadZipFile, OSError) as e:
        raise IngestError(path, f"DOCX is damaged: {' '.join(str(e).split())[:160]}") from None
    except Exception as e:  # lxml errors for broken XML parts
        raise IngestError(
            path, f"DOCX is damaged: {type(e).__name__}: {' '.join(str(e).split())[:120]}"
        ) from None

    heading_re, title_re = _style_patterns()
    lines: list[str] = []
    headings: list[tuple[int, int]] = []
    rows: list[int] = []
    meta: dict[str, str] = {}
    offset = 0
    for text, style in blocks:
        if style is TABLE_ROW:
            rows.append(offset)
            lines.append(text)
            offset += len(text) + 1
            continue
        text = text.replace("\r", "").replace("\x0b", "\n")
        stripped = text.strip()
        if stripped:
            m = heading_re.match(style)
            if m:
                headings.append((offset, max(1, min(6, int(m.group(1))))))
            elif title_re.match(style) and "title" not in meta:
                meta["title"] = stripped
        lines.append(text)
        offset += len(text) + 1
    try:
        core_title = (document.core_properties.title or "").strip()
    except Exception:  # a broken docProps/core.xml must not cost us the text
        core_title = ""
    if core_title and "title" not in meta:
        meta["title"] = core_title
    return Loaded(text="\n".join(lines), fmt="docx", headings=headings, meta=meta, table_lines=rows)


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def _check_inflated_size(data: bytes, path: str) -> None:
    """Refuse a package whose declared unzipped size is out of bounds, before inflating any of it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise IngestError(path, f"DOCX is damaged: {' '.join(str(e).split())[:160]}") from None
    total = sum(i.file_size for i in infos)
    if total > MAX_INFLATED_BYTES:
        raise IngestError(path, f"docx expands to {_size(total)} (limit {_size(MAX_INFLATED_BYTES)}): "
                                "refusing a possible zip bomb")
    for i in infos:
        if i.filename.lower().endswith((".xml", ".rels")) and i.file_size > MAX_XML_PART_BYTES:
            raise IngestError(path, f"docx part {i.filename} expands to {_size(i.file_size)} "
                                    f"(limit {_size(MAX_XML_PART_BYTES)}): refusing a possible zip bomb")


TABLE_ROW = object()  # the style of a table row's line: never a heading


def _blocks(document):
    """(text, style name) for every paragraph, (line, TABLE_ROW) for every table row, in order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p = Paragraph(child, document)
            yield p.text, (p.style.name if p.style is not None else "") or ""
        elif tag == "tbl":
            table = Table(child, document)
            grid = [[cell.text for cell in row.cells] for row in table.rows]
            # Word's "repeat as header row" marks a header; otherwise the first row is judged
            marked = bool(table.rows) and bool(table.rows[0]._tr.xpath("./w:trPr/w:tblHeader"))
            for line in table_lines(grid, header=True if marked else None):
                yield line, TABLE_ROW
