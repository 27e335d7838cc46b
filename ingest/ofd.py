"""OFD (GB/T 33190, the fixed-layout format of 公文) → text with the page of every character.

An OFD file is a ZIP of XML: OFD.xml names each document's Document.xml, which lists the pages'
Content.xml; text sits in TextObject/TextCode elements positioned in millimetres. The text layer
is read directly — no rendering, no network service. Reading order is rebuilt from positions:
runs on one baseline make a line, a wide gap splits it into segments, and where two or more
columns of body text stand side by side (a gutter no segment crosses) each column is read whole
before the next. Elements are matched by local name: writers disagree on the namespace.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass

from ingest.load import Loaded
from ingest.records import IngestError

MAX_INFLATED_BYTES = 200 * 2**20
MAX_XML_PART_BYTES = 20 * 2**20
MAX_PAGES = 5000
SEGMENT_GAP = 1.5  # runs on one line further apart than this many font sizes are separate segments
GUTTER_MIN = 1.5  # a column gutter is at least this many font sizes wide
COLUMN_MIN_CHARS = 8  # columns of shorter lines are a table: read row by row


@dataclass
class Run:
    x0: float
    x1: float
    y: float  # baseline
    size: float
    text: str


def load_ofd(data: bytes, path: str) -> Loaded:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IngestError(path, "not an OFD file (not a ZIP package)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            _check_sizes(z, path)
            return _read(z, path)
    except IngestError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        raise IngestError(path, f"OFD is damaged: {' '.join(str(e).split())[:160]}") from None


def _check_sizes(z: zipfile.ZipFile, path: str) -> None:
    infos = z.infolist()
    if sum(i.file_size for i in infos) > MAX_INFLATED_BYTES:
        raise IngestError(path, "OFD expands to more than 200 MB: refusing a possible zip bomb")
    for i in infos:
        if i.filename.lower().endswith(".xml") and i.file_size > MAX_XML_PART_BYTES:
            raise IngestError(path, f"OFD part {i.filename} expands to more than 20 MB: refusing a possible zip bomb")


def _xml(z: zipfile.ZipFile, name: str, path: str):
    from lxml import etree

    names = {n.lstrip("/").lower(): n for n in z.namelist()}
    real = names.get(name.lstrip("/").lower())
    if real is None:
        raise IngestError(path, f"OFD is damaged: it names {name}, which the package does not hold")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(z.read(real), parser)
    except etree.XMLSyntaxError as e:
        raise IngestError(path, f"OFD is damaged: {name}: {' '.join(str(e).split())[:120]}") from None


def _local(el) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def _find(el, name: str):
    return next((c for c in el.iter() if _local(c) == name), None)


def _findall(el, name: str) -> list:
    return [c for c in el.iter() if _local(c) == name]


def _resolve(base_dir: str, loc: str) -> str:
    loc = loc.strip().replace("\\", "/")
    return posixpath.normpath(loc.lstrip("/") if loc.startswith("/") else posixpath.join(base_dir, loc))


def _read(z: zipfile.ZipFile, path: str) -> Loaded:
    root = _xml(z, "OFD.xml", path)
    body = _find(root, "DocBody")
    doc_root = _find(body, "DocRoot") if body is not None else None
    if doc_root is None or not (doc_root.text or "").strip():
        raise IngestError(path, "not an OFD file (OFD.xml names no DocRoot)")
    meta = _doc_info(_find(body, "DocInfo"))
    doc_loc = _resolve("", doc_root.text)
    doc = _xml(z, doc_loc, path)
    doc_dir = posixpath.dirname(doc_loc)
    templates = {t.get("ID"): _resolve(doc_dir, t.get("BaseLoc", "")) for t in _findall(doc, "TemplatePage")}
    pages_el = _find(doc, "Pages")
    page_locs = [_resolve(doc_dir, p.get("BaseLoc", "")) for p in (_findall(pages_el, "Page") if pages_el is not None
                                                                    else [])]
    if not page_locs:
        raise IngestError(path, "OFD has no pages")
    if len(page_locs) > MAX_PAGES:
        raise IngestError(path, f"OFD has {len(page_locs):,} pages (limit {MAX_PAGES:,})")
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    offset = 0
    for number, loc in enumerate(page_locs, 1):
        page = _xml(z, loc, path)
        runs = []
        for t in _findall(page, "Template"):  # template pages: 版头, 页码 drawn behind the page
            tloc = templates.get(t.get("TemplateID"))
            if tloc:
                runs += _runs(_xml(z, tloc, path))
        runs += _runs(page)
        text = "\n".join(reading_order(runs)) + "\n"
        parts.append(text)
        pages.append((offset, offset + len(text), number))
        offset += len(text)
    full = "".join(parts)
    if not full.strip():
        raise IngestError(path, "OFD has no text layer (its pages are drawn as images or outlines; "
                                "print it to PDF and ingest that for OCR)")
    return Loaded(text=full, fmt="ofd", pages=pages, meta=meta, page_count=len(page_locs))


def _doc_info(info) -> dict[str, str]:
    meta: dict[str, str] = {}
    if info is None:
        return meta
    title = _find(info, "Title")
    if title is not None and (title.text or "").strip():
        meta["title"] = title.text.strip()
    # 公文 writers put 发文机关, 发文字号, 成文日期 in CustomData elements
    names = {"发文机关": "issuer", "发文机关标志": "issuer", "发文字号": "doc_number", "文号": "doc_number",
             "成文日期": "date", "标题": "title"}
    for c in _findall(info, "CustomData"):
        field = names.get((c.get("Name") or "").strip())
        if field and field not in meta and (c.text or "").strip():
            meta[field] = c.text.strip()
    return meta


def _floats(s: str | None) -> list[float]:
    out: list[float] = []
    for tok in (s or "").split():
        try:
            out.append(float(tok))
        except ValueError:
            continue
    return out


def _deltas(spec: str | None) -> list[float]:
    """DeltaX/DeltaY: numbers, where ``g N v`` stands for N times v."""
    toks = (spec or "").split()
    out: list[float] = []
    i = 0
    while i < len(toks):
        if toks[i] == "g" and i + 2 < len(toks):
            out += [float(toks[i + 2])] * int(float(toks[i + 1]))
            i += 3
        else:
            out.append(float(toks[i]))
            i += 1
    return out


def _runs(page) -> list[Run]:
    runs: list[Run] = []
    for obj in _findall(page, "TextObject"):
        box = _floats(obj.get("Boundary")) + [0.0] * 4
        size = (_floats(obj.get("Size") or obj.get("size")) or [3.5])[0]
        ctm = _floats(obj.get("CTM"))
        a, _b, _c, d, e, f = ctm if len(ctm) == 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
        scale = abs(a) or 1.0
        for code in _findall(obj, "TextCode"):
            text = code.text or ""
            if not text.strip():
                continue
            x = box[0] + a * float(code.get("X") or 0) + e
            y = box[1] + (d or 1.0) * float(code.get("Y") or 0) + f
            deltas = _deltas(code.get("DeltaX"))
            width = sum(deltas[: len(text) - 1]) * scale + size * scale
            runs.append(Run(x, x + max(width, size * scale), y, size * scale, text))
    return runs


def reading_order(runs: list[Run]) -> list[str]:
    """Lines of text in reading order (see the module docstring)."""
    if not runs:
        return []
    rows = _rows(runs)
    segs = [s for row in rows for s in row]
    em = sorted(s.size for s in segs)[len(segs) // 2]
    gutters = _gutters(segs, em)
    out: list[str] = []
    band: list[list[Run]] = []

    def flush() -> None:
        if not band:
            return
        columns: list[list[Run]] = [[] for _ in range(len(gutters) + 1)]
        for row in band:
            for s in row:
                columns[sum(1 for g0, _ in gutters if s.x0 >= g0)].append(s)
        filled = [c for c in columns if c]
        if len(filled) > 1 and len(band) >= 2 and all(
                sum(len(s.text) for s in c) / len(c) >= COLUMN_MIN_CHARS for c in filled):
            out.extend(s.text for c in filled for s in c)
        else:  # one column, or a table: row by row
            out.extend(" ".join(s.text for s in row) for row in band)
        band.clear()

    for row in rows:
        if gutters and any(s.x0 < g0 and s.x1 > g1 for s in row for g0, g1 in gutters):
            flush()  # a line across the gutter (a title, a full-width paragraph) ends the columns
            out.append(" ".join(s.text for s in row))
        else:
            band.append(row)
    flush()
    return [line for line in out if line.strip()]


def _rows(runs: list[Run]) -> list[list[Run]]:
    """Runs grouped by baseline (top to bottom), each row's runs joined into segments left to right."""
    ordered = sorted(runs, key=lambda r: r.y)
    lines: list[list[Run]] = []
    for r in ordered:
        if lines and abs(lines[-1][0].y - r.y) <= 0.4 * max(r.size, lines[-1][0].size):
            lines[-1].append(r)
        else:
            lines.append([r])
    rows: list[list[Run]] = []
    for line in lines:
        line.sort(key=lambda r: r.x0)
        segs: list[Run] = []
        for r in line:
            last = segs[-1] if segs else None
            if last is not None and r.x0 - last.x1 <= SEGMENT_GAP * max(r.size, last.size):
                gap = " " if r.x0 - last.x1 > 0.6 * r.size and last.text[-1:].isascii() else ""
                segs[-1] = Run(last.x0, max(last.x1, r.x1), last.y, max(last.size, r.size), last.text + gap + r.text)
            else:
                segs.append(Run(r.x0, r.x1, r.y, r.size, r.text))
        rows.append(segs)
    return rows


def _gutters(segs: list[Run], em: float) -> list[tuple[float, float]]:
    """Vertical strips no segment of a multi-segment row crosses, with such rows' text on both sides."""
    split = [s for s in segs if any(o is not s and abs(o.y - s.y) < 0.4 * em for o in segs)]
    if len(split) < 4:
        return []
    spans = sorted((s.x0, s.x1) for s in split)
    gutters: list[tuple[float, float]] = []
    reach = spans[0][1]
    for x0, x1 in spans[1:]:
        if x0 - reach >= GUTTER_MIN * em:
            gutters.append((reach, x0))
        reach = max(reach, x1)
    return gutters
