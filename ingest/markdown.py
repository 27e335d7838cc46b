"""Markdown → text. A heading line keeps its words and loses its marks (``## 第三章 政务服务`` →
``第三章 政务服务``), so passages, quotations and exports never show ``#``; the line is handed on as
an explicit heading (offset, level = number of ``#``) for structure.py, and a heading on the first
text line is the document's title, as a Markdown file opens with ``# 标题``.
"""

from __future__ import annotations

import re

from ingest.load import Loaded

_LEAD = " \t\u3000\xa0"
_HEADING = re.compile(r"^(#{1,6})\s+(\S.*?)\s*#*\s*$")  # ATX heading: '## 第二章 决策草案的形成 ##'


def load_markdown(text: str) -> Loaded:
    lines: list[str] = []
    headings: list[tuple[int, int]] = []
    meta: dict[str, str] = {}
    pos = 0
    seen_text = False
    for line in text.split("\n"):
        m = _HEADING.match(line.strip(_LEAD))
        if m:
            line = m.group(2)
            if seen_text:
                headings.append((pos, len(m.group(1))))
            else:
                meta["title"] = line
        seen_text = seen_text or bool(line.strip(_LEAD))
        lines.append(line)
        pos += len(line) + 1
    return Loaded(text="\n".join(lines), fmt="md", headings=headings, meta=meta)
