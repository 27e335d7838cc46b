"""Tables (docx, html) → text lines, one row a line, never dropped.

With a header row every body row reads ``列名：值；列名：值`` so a passage cut from the middle of a
table still says what each value is; without one the cells are joined by a space. Merged cells
repeat their text in every grid position: a repeat is written once.
"""

from __future__ import annotations

import re

HEADER_CELL_MAX = 16  # a header cell is a short label, not a sentence
_SENTENCE = re.compile(r"[。；;！？!?]")
# numbers (12, 3.5%) and cells opening with a list enumerator (一、, （二）, 3.) are values, never labels
_NUMBER = re.compile(r"^(?:[\d.,，%％\s]+$|[（(]?[\d一二三四五六七八九十]+[)）、.．])")
CELL_JOIN = " "
PAIR_JOIN = "；"
LABEL_SEP = "："


def looks_like_header(cells: list[str]) -> bool:
    """Short, distinct, non-numeric labels in every cell of a row of two or more."""
    filled = [c for c in cells if c]
    return (len(cells) >= 2 and len(filled) == len(cells) and len(set(filled)) == len(filled)
            and all(len(c) <= HEADER_CELL_MAX and not _SENTENCE.search(c) and not _NUMBER.match(c)
                    for c in filled))


def table_lines(rows: list[list[str]], header: bool | None = None) -> list[str]:
    """One line per row. ``header``: True/False when the file says so (<th>, Word's repeat-header
    row), None to decide from the first row. A table of one row has no header."""
    rows = [[" ".join(c.split()) for c in r] for r in rows]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    if header is None:
        header = len(rows) >= 2 and looks_like_header(rows[0])
    if not header or len(rows) < 2:
        return [_plain(r) for r in rows]
    labels = rows[0]
    out = [_plain(labels)]
    for row in rows[1:]:
        pairs: list[str] = []
        previous = None
        for i, value in enumerate(row):
            if value and value != previous:  # a cell merged across columns is written once
                label = labels[i] if i < len(labels) else ""
                pairs.append(f"{label}{LABEL_SEP}{value}" if label else value)
            previous = value
        out.append(PAIR_JOIN.join(pairs))
    return out


def _plain(cells: list[str]) -> str:
    kept: list[str] = []
    for c in cells:
        if c and (not kept or kept[-1] != c):
            kept.append(c)
    return CELL_JOIN.join(kept)


def locate(text: str, lines: list[str], start: int = 0) -> list[int]:
    """Offsets of ``lines`` (in order) as whole lines of ``text``; lines not found are left out."""
    found: list[int] = []
    pos = start
    for line in lines:
        if not line:
            continue
        at = text.find(line, pos)
        while at != -1 and not _whole_line(text, at, at + len(line)):
            at = text.find(line, at + 1)
        if at == -1:
            continue
        found.append(at)
        pos = at + len(line)
    return found


def _whole_line(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end] == "\n")
