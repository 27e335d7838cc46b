"""A minimal OFD writer for test fixtures, written from GB/T 33190: OFD.xml → Doc_0/Document.xml
→ Doc_0/Pages/Page_N/Content.xml, text as TextObject/TextCode positioned in millimetres."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape, quoteattr

NS = "http://www.ofdspec.org/2016"
A4 = (210.0, 297.0)


def line(x: float, y: float, text: str, size: float = 5.6) -> tuple[float, float, str, float]:
    """A text line at (x, baseline y) mm; 5.6 mm is 三号 (16 pt), the 公文 body size."""
    return (x, y, text, size)


def column_lines(x: float, y0: float, texts: list[str], size: float = 4.2, leading: float = 7.0) -> list:
    return [line(x, y0 + i * leading, t, size) for i, t in enumerate(texts)]


def _text_object(oid: int, x: float, y: float, text: str, size: float) -> str:
    width = size * max(1, len(text))
    delta = f"g {len(text) - 1} {size}" if len(text) > 1 else ""
    delta_attr = f" DeltaX={quoteattr(delta)}" if delta else ""
    return (f'<ofd:TextObject ID="{oid}" Boundary="{x:.2f} {y - size:.2f} {width:.2f} {size * 1.2:.2f}" '
            f'Font="2" Size="{size}"><ofd:FillColor Value="0 0 0"/>'
            f'<ofd:TextCode X="0" Y="{size:.2f}"{delta_attr}>{escape(text)}</ofd:TextCode></ofd:TextObject>')


def make_ofd(pages: list[list[tuple[float, float, str, float]]], *, title: str = "",
             custom: dict[str, str] | None = None, template: list | None = None, shuffle: bool = False) -> bytes:
    """An OFD package; ``template`` lines are drawn on every page through a TemplatePage;
    ``shuffle`` writes each page's objects in reverse order (reading order must come from positions)."""
    oid = [10]

    def next_id() -> int:
        oid[0] += 1
        return oid[0]

    def content(lines: list, uses_template: bool = True) -> str:
        objs = [_text_object(next_id(), *ln) for ln in lines]
        if shuffle:
            objs.reverse()
        return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}">'
                + ('<ofd:Template TemplateID="5" ZOrder="Background"/>' if template and uses_template else "")
                + f'<ofd:Content><ofd:Layer ID="{next_id()}">{"".join(objs)}</ofd:Layer></ofd:Content></ofd:Page>')

    customs = "".join(f"<ofd:CustomData Name={quoteattr(k)}>{escape(v)}</ofd:CustomData>"
                      for k, v in (custom or {}).items())
    ofd_xml = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD">'
               f'<ofd:DocBody><ofd:DocInfo><ofd:DocID>test</ofd:DocID><ofd:Title>{escape(title)}</ofd:Title>'
               f'<ofd:CustomDatas>{customs}</ofd:CustomDatas></ofd:DocInfo>'
               '<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
    page_refs = "".join(f'<ofd:Page ID="{100 + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
    tpl = '<ofd:TemplatePage ID="5" BaseLoc="Tpls/Tpl_0/Content.xml"/>' if template else ""
    doc_xml = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
               f'<ofd:MaxUnitID>999</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 {A4[0]} {A4[1]}'
               f'</ofd:PhysicalBox></ofd:PageArea>{tpl}</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages>'
               '</ofd:Document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", ofd_xml)
        z.writestr("Doc_0/Document.xml", doc_xml)
        if template:
            z.writestr("Doc_0/Tpls/Tpl_0/Content.xml", content(template, uses_template=False))
        for i, lines in enumerate(pages):
            z.writestr(f"Doc_0/Pages/Page_{i}/Content.xml", content(lines))
    return buf.getvalue()
