"""Sections → Chunks with exact offsets (``doc.text[c.start:c.end] == c.text`` always).

Each heading's own body (up to the next heading) is a unit; a unit is split at sentence ends
(。！？；and line breaks) into pieces of about 200–500 characters, so no chunk crosses a heading — in
particular never a top-level section, and one law article is one chunk unless it is long. A heading
line with no body of its own (一、… directly followed by （一）…) joins the first chunk of its first
child, and so does a short preamble (a law's title and promulgation lines).
"""

from __future__ import annotations

import re
from bisect import bisect_right

from ingest.records import Chunk, Section

MAX_CHARS = 500
TARGET_CHARS = 450
MIN_CHARS = 200
SHORT_PREAMBLE = 120
_WS = " \t\n\r\u3000\xa0\u200b\ufeff"
# A sentence ends after 。！？；(plus closing quotes/brackets) or at a line break.
_END = re.compile(r"[。！？；!?;…]+[”’」』）)】〕]*|\n+")
_END_SOFT = re.compile(r"[。！？；!?;…]+[”’」』）)】〕]*|(?<=[。！？；!?;：:”」）)])\n+|\n{2,}")
_COMMA = re.compile(r"[，,、：:]")


def make_chunks(
    text: str,
    sections: list[Section],
    pages: list[tuple[int, int, int]] | None = None,
    *,
    soft_newlines: bool = False,
) -> list[Chunk]:
    """Chunks of ``text`` in order; ``soft_newlines`` for PDFs, whose line breaks are layout wraps."""
    units = _units(text, sections)
    ends = _END_SOFT if soft_newlines else _END
    chunks: list[Chunk] = []
    for start, end, path in units:
        for s, e in _split(text, start, end, ends):
            chunks.append(Chunk(section=list(path), start=s, end=e, text=text[s:e], ordinal=len(chunks)))
    if pages:
        starts = [p[0] for p in pages]
        for c in chunks:
            i = bisect_right(starts, c.start) - 1
            c.page = pages[max(i, 0)][2]
    return chunks


def _units(text: str, sections: list[Section]) -> list[tuple[int, int, list[str]]]:
    """(start, end, path) of each heading's own body, bare headings merged into what follows."""
    bounds = [(s.start, s.path) for s in sections]
    units: list[tuple[int, int, list[str]]] = []
    first = bounds[0][0] if bounds else len(text)
    if text[:first].strip(_WS):
        units.append((0, first, []))
    for i, (start, path) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else len(text)
        units.append((start, end, path))

    merged: list[tuple[int, int, list[str]]] = []
    carry: int | None = None  # start of bare heading lines waiting for their first child
    for i, (start, end, path) in enumerate(units):
        nxt = units[i + 1] if i + 1 < len(units) else None
        joins = nxt is not None and _joins_next(text, start, end, path, nxt[2])
        if carry is not None:
            start, carry = carry, None
        if joins:
            carry = start
            continue
        merged.append((start, end, path))
    return merged


def _joins_next(text: str, start: int, end: int, path: list[str], next_path: list[str]) -> bool:
    body = text[start:end].strip(_WS)
    if not path:  # preamble: a short title/promulgation block (short lines only) joins the first section
        return len(body) <= SHORT_PREAMBLE and all(len(line) <= 60 for line in body.split("\n"))
    # a heading with no body of its own: only its heading line, and the next unit is its child
    is_child = len(next_path) > len(path) and next_path[: len(path)] == path
    return is_child and "\n" not in body and len(body) <= 80


def _split(text: str, start: int, end: int, ends: re.Pattern) -> list[tuple[int, int]]:
    start, end = _strip(text, start, end)
    if end <= start:
        return []
    if end - start <= MAX_CHARS:
        return [(start, end)]
    # sentence boundaries (offsets just after each sentence end) inside the unit
    cuts = [m.end() for m in ends.finditer(text, start, end) if m.end() < end]
    pieces: list[tuple[int, int]] = []
    prev = start
    for cut in cuts + [end]:
        pieces.extend(_hard_split(text, prev, cut))
        prev = cut
    # greedy packing towards an even size near TARGET_CHARS, never above MAX_CHARS
    total = end - start
    n = max(1, -(-total // TARGET_CHARS))
    target = total / n
    out: list[tuple[int, int]] = []
    cur_s, cur_e = pieces[0]
    for s, e in pieces[1:]:
        size, grown = cur_e - cur_s, e - cur_s
        if grown > MAX_CHARS or (size >= MIN_CHARS and grown - target > target - size):
            out.append((cur_s, cur_e))
            cur_s = s
        cur_e = e
    out.append((cur_s, cur_e))
    # a short tail joins its predecessor when the two still fit
    if len(out) > 1 and out[-1][1] - out[-1][0] < MIN_CHARS and out[-1][1] - out[-2][0] <= MAX_CHARS:
        out[-2:] = [(out[-2][0], out[-1][1])]
    result = []
    for s, e in out:
        s, e = _strip(text, s, e)
        if e > s:
            result.append((s, e))
    return result


def _hard_split(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A 'sentence' longer than MAX_CHARS is cut at commas, else every MAX_CHARS characters."""
    if end - start <= MAX_CHARS:
        return [(start, end)]
    out = []
    while end - start > MAX_CHARS:
        window_end = start + MAX_CHARS
        cut = None
        for m in _COMMA.finditer(text, start + MIN_CHARS, window_end):
            cut = m.end()
        cut = cut or window_end
        out.append((start, cut))
        start = cut
    out.append((start, end))
    return out


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _WS:
        start += 1
    while end > start and text[end - 1] in _WS:
        end -= 1
    return start, end
