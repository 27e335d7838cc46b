"""Saved web pages → main-content text, one line per block element, characters unchanged.

The content element is found by the selectors in data/html.tsv (gov.cn's #UCAP-CONTENT, …); failing
those, navigation/footer blocks are removed and the element holding the most paragraph text is used.
The 国务院 metadata table (发文机关, 成文日期, 发文字号, 标题) and <meta> tags give the document fields.
"""

from __future__ import annotations

import re
from functools import cache

from ingest.data import rows
from ingest.load import Loaded
from ingest.records import IngestError
from ingest.tables import locate, table_lines

DATA_CELL_MAX = 200  # longer cells mean a layout table holding the article: rendered as blocks

_SPACE = re.compile(r"[ \t\n\r\f\v]+")  # HTML collapses these; NBSP (&nbsp;) is kept as written
_LABEL = re.compile(r"[\s\u3000:：]+")


@cache
def _rules() -> dict[str, list]:
    r: dict[str, list] = {"content": [], "drop": [], "chrome": [], "block": [], "meta": []}
    for fields in rows("html.tsv"):
        kind = fields[0]
        if kind not in r or len(fields) < 2:
            raise ValueError(f"html.tsv: bad row {fields!r}")
        r[kind].append(fields[1] if kind != "meta" else (fields[1].lower(), fields[2]))
    return r


def load_html(source: str, path: str) -> Loaded:
    from selectolax.lexbor import LexborHTMLParser

    try:
        tree = LexborHTMLParser(source)
    except Exception as e:  # lexbor rejects very little, but never let it escape
        raise IngestError(path, f"HTML cannot be parsed: {e}") from None
    rules = _rules()
    meta = _page_meta(tree, rules)
    node = _content_node(tree, rules)
    if node is None:
        return Loaded(text="", fmt="html", meta=meta)
    for tag in rules["drop"]:
        for n in node.css(tag):
            n.decompose()
    rows: list[str] = []
    text = render(node, frozenset(rules["block"]), rows)
    return Loaded(text=text, fmt="html", meta=meta, table_lines=locate(text, rows))


def _content_node(tree, rules):
    for selector in rules["content"]:
        found = [n for n in tree.css(selector) if len(n.text(strip=True)) >= 20]
        if found:
            return max(found, key=lambda n: len(n.text(strip=True)))
    body = tree.body or tree.root
    if body is None:
        return None
    for tag in rules["drop"]:
        for n in body.css(tag):
            n.decompose()
    words = [w.lower() for w in rules["chrome"]]
    for n in list(body.traverse()):
        if n.tag in ("body", "html", "-text"):
            continue
        attrs = n.attributes
        label = f"{attrs.get('id') or ''} {attrs.get('class') or ''}".lower()
        if label.strip() and any(w in label for w in words):
            n.decompose()
    # The element whose own <p> children carry the most text is the article.
    best, best_score = body, 0
    for n in body.traverse():
        if n.tag in ("-text", "p", "span", "a", "b", "strong", "font"):
            continue
        score = sum(len(c.text(strip=True)) for c in n.iter() if c.tag == "p")
        if score > best_score:
            best, best_score = n, score
    return best if best_score >= 200 else body


def render(node, blocks: frozenset[str], table_rows: list[str] | None = None) -> str:
    """Visible text of ``node``: block elements on their own lines; a data table one row a line
    (ingest/tables.py), its lines also appended to ``table_rows``; layout tables' cells as blocks."""
    out: list[str] = []

    def walk(n) -> None:
        for child in n.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                out.append(_SPACE.sub(" ", child.text_content or ""))
            elif tag == "-comment":
                continue
            elif tag == "br":
                out.append("\n")
            elif tag == "table" and (grid := _data_table(child)) is not None:
                lines = table_lines(*grid)
                out.append("\n" + "\n".join(lines) + "\n")
                if table_rows is not None:
                    table_rows.extend(lines)
            elif tag in ("td", "th"):
                walk(child)
                out.append(" ")
            elif tag in blocks:
                out.append("\n")
                walk(child)
                out.append("\n")
            else:
                walk(child)

    walk(node)
    lines = (line.strip(" ") for line in "".join(out).split("\n"))
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _data_table(table) -> tuple[list[list[str]], bool | None] | None:
    """(cell texts by row, header flag) of a table holding data; None for a layout table (one that
    nests tables or has a long cell: a page laid out in a table cell)."""
    if len(table.css("table")) > 1:  # css() matches the table itself too
        return None
    rows: list[list[str]] = []
    header: bool | None = None
    for i, tr in enumerate(table.css("tr")):
        cells = [c for c in tr.iter() if c.tag in ("td", "th")]
        texts = [_SPACE.sub(" ", c.text(deep=True)).strip() for c in cells]
        if any(len(t) > DATA_CELL_MAX for t in texts):
            return None
        if i == 0 and cells and (all(c.tag == "th" for c in cells) or (tr.parent and tr.parent.tag == "thead")):
            header = True
        rows.append(texts)
    return rows, header


def _page_meta(tree, rules) -> dict[str, str]:
    meta: dict[str, str] = {}
    # 国务院 pages: a table of label cells (<b>发文机关：</b>) each followed by its value cell.
    labels = {"发文机关": "issuer", "成文日期": "date", "发文字号": "doc_number", "标题": "title"}
    cells = tree.css("td")
    for i, cell in enumerate(cells[:-1]):
        label = _LABEL.sub("", cell.text(strip=True))
        field = labels.get(label)
        if field and field not in meta:
            value = _SPACE.sub(" ", cells[i + 1].text(strip=True)).strip()
            if value and _LABEL.sub("", value) not in labels:
                meta[field] = value
    for m in tree.css("meta[name]"):
        name = (m.attributes.get("name") or "").lower()
        for meta_name, field in rules["meta"]:
            if name == meta_name and field not in meta:
                value = (m.attributes.get("content") or "").strip()
                if value:
                    meta[field] = value
    if "title" not in meta:
        t = tree.css_first("title")
        if t is not None:
            title = _SPACE.sub(" ", t.text(strip=True)).strip()
            # "文件标题_某某网站" / "文件标题 - 某某网站": keep the document's part
            title = re.split(r"\s*[_|｜]\s*|\s+[-—]\s+", title)[0].strip()
            if title:
                meta["title"] = title
    return meta
