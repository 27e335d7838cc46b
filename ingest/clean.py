"""Web boilerplate removal driven by data/boilerplate.tsv.

Cleaning only ever removes whole lines (site chrome, credit lines, disclaimers, a duplicated leading
title), strips trailing whitespace and collapses runs of blank lines; characters inside kept lines
are never changed. ``Cleaned.map`` carries raw offsets over to the cleaned text, so PDF page spans
and Word heading positions stay exact.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cache

from ingest.data import rows

_TRAILING = " \t\u3000\xa0\u200b\ufeff"
_BLANK = re.compile(r"^[\s\u3000\xa0\u200b\ufeff]*$")


@dataclass
class Rules:
    whole: frozenset[str]
    prefix: re.Pattern  # all line-prefix markers, longest first
    contains: re.Pattern  # all line-contains markers
    max_len: dict[str, int]  # marker → longest line it applies to
    regex: list[tuple[re.Pattern, int]]
    to_end: tuple[str, ...]
    longest: int  # no rule applies to lines longer than this


@cache
def rules() -> Rules:
    whole: set[str] = set()
    prefix: list[str] = []
    contains: list[str] = []
    max_len: dict[str, int] = {}
    regex: list[tuple[re.Pattern, int]] = []
    to_end: list[str] = []
    for r in rows("boilerplate.tsv"):
        kind, marker = r[0], r[1]
        limit = int(r[2]) if len(r) > 2 and r[2] else 80
        if kind == "whole-line":
            whole.add(marker)
        elif kind in ("line-prefix", "line-contains"):
            (prefix if kind == "line-prefix" else contains).append(marker)
            max_len[marker] = limit
        elif kind == "line-regex":
            regex.append((re.compile(marker), limit))
        elif kind == "from-here-to-end":
            to_end.append(marker)
        else:
            raise ValueError(f"boilerplate.tsv: unknown kind {kind!r}")

    def alternation(markers: list[str]) -> re.Pattern:
        return re.compile("|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True)) or "(?!)")

    longest = max([len(w) for w in whole] + list(max_len.values()) + [n for _, n in regex])
    return Rules(
        frozenset(whole), alternation(prefix), alternation(contains), max_len, regex, tuple(to_end), longest
    )


def is_boilerplate(line: str, r: Rules | None = None) -> bool:
    """Whether one stripped line is site chrome (the from-here-to-end markers are not checked)."""
    r = r or rules()
    n = len(line)
    if n > r.longest or not line:
        return False
    if line in r.whole:
        return True
    m = r.prefix.match(line)
    if m and n <= r.max_len[m.group(0)]:
        return True
    if any(n <= r.max_len[m.group(0)] for m in r.contains.finditer(line)):
        return True
    return any(n <= limit and pattern.search(line) for pattern, limit in r.regex)


@dataclass
class Cleaned:
    text: str
    # (raw_start, new_start, length): kept pieces of the raw text and where they landed
    segments: list[tuple[int, int, int]] = field(default_factory=list)

    def map(self, raw: int) -> int:
        """New offset of the first kept character at or after raw offset ``raw``."""
        starts = [s[0] for s in self.segments]
        i = bisect_right(starts, raw) - 1
        if i >= 0:
            rs, ns, length = self.segments[i]
            if raw < rs + length:
                return ns + (raw - rs)
        if i + 1 < len(self.segments):
            return self.segments[i + 1][1]
        return len(self.text)

    def map_exact(self, raw: int) -> int | None:
        """New offset of raw offset ``raw`` when that character was kept, else None."""
        for rs, ns, length in self.segments:  # only used for a few Word headings
            if rs <= raw < rs + length:
                return ns + (raw - rs)
        return None

    def map_pages(self, pages: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        """Raw (start, end, page) spans → contiguous spans of the cleaned text; empty pages vanish."""
        out: list[tuple[int, int, int]] = []
        starts = [self.map(start) for start, _, _ in pages] + [len(self.text)]
        for (_, _, page), start, end in zip(pages, starts, starts[1:], strict=False):
            if end > start:
                out.append((start, end, page))
        if out:  # the first page owns anything before its first kept character
            out[0] = (0, out[0][1], out[0][2])
        return out


def clean(text: str) -> Cleaned:
    r = rules()
    lines: list[tuple[int, str]] = []  # (raw offset, line)
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    keep = [not is_boilerplate(line.strip(_TRAILING + "\n\r"), r) for _, line in lines]

    total = len(text)
    for i, (start, line) in enumerate(lines):
        stripped = line.strip(_TRAILING)
        if stripped.startswith(r.to_end) and total - start <= max(1500, 0.3 * total):
            for j in range(i, len(lines)):
                keep[j] = False
            break

    _drop_duplicate_title(lines, keep)

    out: list[str] = []
    segments: list[tuple[int, int, int]] = []
    new_pos = 0
    blank_run = 0
    for (start, line), kept in zip(lines, keep, strict=True):
        if not kept:
            continue
        content = line.rstrip(_TRAILING + "\r")
        if _BLANK.match(content):
            blank_run += 1
            continue
        if out:
            sep = "\n\n" if blank_run else "\n"  # any run of blank lines becomes one blank line
            out.append(sep)
            new_pos += len(sep)
        blank_run = 0
        out.append(content)
        segments.append((start, new_pos, len(content)))
        new_pos += len(content)
    return Cleaned(text="".join(out), segments=segments)


def _drop_duplicate_title(lines: list[tuple[int, str]], keep: list[bool]) -> None:
    """Scraped pages often open with a (truncated) copy of the next line: drop the copy."""
    first = [i for i, (_, line) in enumerate(lines) if keep[i] and line.strip(_TRAILING)][:4]
    for a, b in zip(first, first[1:], strict=False):
        this = lines[a][1].strip(_TRAILING)
        nxt = lines[b][1].strip(_TRAILING)
        if len(this) >= 8 and nxt.startswith(this):
            keep[a] = False
            return
