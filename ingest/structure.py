"""Heading tree of a cleaned text → Sections with their paths (patterns in data/headings.tsv).

A heading is always a line start: 第X编/章/节/条 in laws, 一、（一）1.（1） in official documents,
一是/一要/第一，/首先 paragraphs in speeches, Markdown '#' lines and Word heading styles. Headings nest
by rank with a stack (a level only under a higher one; skipped levels are fine). False positives are
kept out by the line-start rule, number sequencing (（三） with no （一） before it is body text), and
by dropping a 目录 entry when the same chapter heading appears again later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ingest.data import rows
from ingest.records import Section

_CN = "[一二三四五六七八九十百千零〇两]+"
_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_WORDS = {"首先": 1, "其次": 2, "再次": 3, "最后": 99}
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
_MD = re.compile(r"^(#{1,6})\s+(\S.*?)\s*#*\s*$")
_LEAD = " \t\u3000\xa0"
_HEAD_END = re.compile(r"[。！？；;!?]")
MAX_HEADING = 40
SPEECH_HEADING = 24
LAW_MIN_ARTICLES = 3


@dataclass(frozen=True)
class Pattern:
    kind: str
    family: str
    rank: int
    continuous: bool
    first_one: bool
    regex: re.Pattern


@cache
def patterns() -> tuple[Pattern, ...]:
    out = []
    for kind, family, rank, numbering, first, regex in (r[:6] for r in rows("headings.tsv")):
        if family in ("docx", "meta"):
            continue
        regex = regex.replace("{cn}", _CN).replace("{n}", r"\d{1,3}")
        out.append(
            Pattern(kind, family, int(rank), numbering == "continuous", first == "1", re.compile(regex))
        )
    return tuple(out)


def match_heading(line: str) -> tuple[Pattern, re.Match] | None:
    """The first heading pattern matching the start of ``line`` (leading indentation removed),
    with its match: 第十条 → tiao (law), （二） → paren_yi (official), 一是 → yi_shi (speech)."""
    for p in patterns():
        m = p.regex.match(line)
        if m:
            return p, m
    return None


def is_article(line: str) -> bool:
    """``line`` starts with a law article number: 第十条 …"""
    found = match_heading(line)
    return found is not None and found[0].kind == "tiao"


@cache
def responsible_re() -> re.Pattern:
    return re.compile(next(r[5] for r in rows("headings.tsv") if r[0] == "responsible"))


def cn_number(s: str) -> int:
    """一 → 1, 十二 → 12, 二十五 → 25, 一百零三 → 103; Arabic digits, 首先/其次 and ① pass through."""
    if s in _CIRCLED:  # before isdigit(): '①'.isdigit() is True but int('①') fails
        return _CIRCLED.index(s) + 1
    if s.isdecimal():
        return int(s)
    if s in _WORDS:
        return _WORDS[s]
    total, digit = 0, 0
    for ch in s:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            total += (digit or 1) * _UNITS[ch]
            digit = 0
    return total + digit


@dataclass
class _Candidate:
    start: int  # offset of the line
    rank: int
    kind: str
    number: int | None
    text: str
    continuous: bool = False
    first_one: bool = False


def find_sections(text: str, explicit: list[tuple[int, int]] | None = None,
                  not_headings: set[int] | frozenset[int] = frozenset()) -> list[Section]:
    """Sections of ``text``; ``explicit`` = (line offset, level) of lines the format marks as headings
    (Word heading styles; Markdown '#' lines, whose marks the loader removed); ``not_headings`` = line
    offsets that are never headings (table rows: 一、 in a 序号 cell)."""
    explicit_at = dict(explicit or [])
    lines: list[tuple[int, str]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1

    first_text_line = next((i for i, (_, line) in enumerate(lines) if line.strip(_LEAD)), None)
    candidates: list[_Candidate] = []
    pats = patterns()
    for i, (start, line) in enumerate(lines):
        body = line.strip(_LEAD)
        if not body or start in not_headings:
            continue
        if start in explicit_at:
            candidates.append(_Candidate(start, explicit_at[start], "explicit", None, _tidy(body)))
            continue
        md = _MD.match(body)
        if md:
            if i != first_text_line:  # '# 标题' opening a Markdown file is its title, not a section
                candidates.append(_Candidate(start, len(md.group(1)), "md", None, _tidy(md.group(2))))
            continue
        found = match_heading(body)
        if found:
            p, m = found
            candidates.append(
                _Candidate(start, p.rank, p.kind, cn_number(m.group(1)), _heading_text(p, m, body),
                           p.continuous, p.first_one)
            )

    # A text with articles is a law: its 一、/（一） lines are enumerations inside articles. Elsewhere a
    # stray 第X条 line is body text, while 第X章/节 still structure long plans and reports.
    law = sum(1 for c in candidates if c.kind == "tiao") >= LAW_MIN_ARTICLES
    family = {p.kind: p.family for p in pats} | {"md": "explicit", "explicit": "explicit"}

    def allowed(c: _Candidate) -> bool:
        if family[c.kind] == "explicit":
            return True
        return family[c.kind] == "law" if law else c.kind != "tiao"

    return _build(text, _sequenced(_drop_toc([c for c in candidates if allowed(c)])))


def _drop_toc(cands: list[_Candidate]) -> list[_Candidate]:
    """A 目录 lists chapter headings that appear again below: keep only the last occurrence."""
    last: dict[tuple[str, str], int] = {}
    for i, c in enumerate(cands):
        if c.kind in ("bian", "zhang", "jie"):
            last[(c.kind, re.sub(r"\s", "", c.text))] = i
    return [
        c
        for i, c in enumerate(cands)
        if c.kind not in ("bian", "zhang", "jie") or last[(c.kind, re.sub(r"\s", "", c.text))] == i
    ]


def _sequenced(cands: list[_Candidate]) -> list[_Candidate]:
    """Keep numbered headings whose numbers run in order under their parent."""
    last: dict[str, int] = {}  # last number under the current parent
    ever: dict[str, int] = {}  # last number anywhere: 国办 documents count （一）…（六） on across 一、二、
    kept: list[_Candidate] = []
    for c in cands:
        if c.number is not None:
            prev = last.get(c.kind)
            number = c.number
            if number == _WORDS["最后"] and prev is not None:  # 首先…其次…最后
                number = prev + 1
            if prev is None:
                ok = number == 1 or not c.first_one or number == ever.get(c.kind, -1) + 1
            elif c.continuous:  # articles and chapters: a few may be missing from a text, never go back
                ok = prev < number <= prev + 3
            else:  # （一）（二）…: the next number, or a new list starting at one
                ok = number == prev + 1 or number == 1
            if not ok:
                continue
            last[c.kind] = ever[c.kind] = number
        # A higher heading restarts the numbering of the lower, restarting kinds.
        for p in patterns():
            if p.rank > c.rank and not p.continuous:
                last.pop(p.kind, None)
        kept.append(c)
    return kept


def _build(text: str, heads: list[_Candidate]) -> list[Section]:
    sections: list[Section] = []
    stack: list[tuple[int, Section]] = []  # (rank, section)
    for h in heads:
        while stack and stack[-1][0] >= h.rank:
            stack.pop()
        path = [s.path[-1] for _, s in stack] + [h.text]
        section = Section(path=path, start=h.start, end=len(text), level=len(stack) + 1)
        stack.append((h.rank, section))
        sections.append(section)
    # A section ends where the next heading of its level or higher begins.
    open_: list[Section] = []
    for s in sections:
        while open_ and open_[-1].level >= s.level:
            open_.pop().end = s.start
        open_.append(s)
    # Plan items end with 〔责任单位:…〕: keep it on the section whose own body holds it.
    resp = responsible_re()
    for i, s in enumerate(sections):
        own_end = sections[i + 1].start if i + 1 < len(sections) else len(text)
        m = resp.search(text, s.start, own_end)
        if m:
            s.meta["responsible"] = m.group(1).strip()
    return sections


def _heading_text(p: Pattern, m: re.Match, body: str) -> str:
    if p.kind == "tiao":
        return m.group(0).strip(_LEAD)
    if p.family == "law":  # 第一章 总  则 → 第一章 总则
        head = body[: m.end(1) + 1]
        rest = re.sub(r"\s", "", body[m.end(1) + 1 :])
        return _cap(f"{head} {rest}" if rest else head)
    cut = _HEAD_END.search(body)
    head = body[: cut.start()] if cut else body
    if p.family == "speech" and len(head) > SPEECH_HEADING:  # 二是要围绕中心大局,提供关键保障,把…
        comma = max(head.rfind("，", 0, SPEECH_HEADING), head.rfind(",", 0, SPEECH_HEADING))
        head = head[:comma] if comma > 4 else head
    return _cap(head)


def _tidy(s: str) -> str:
    s = re.sub(r"^(第" + _CN + r"[编章节])\s*", r"\1 ", s.strip())
    return _cap(re.sub(r"\s+", " ", s))


def _cap(s: str) -> str:
    s = s.strip(_LEAD + "：:，,")
    return s if len(s) <= MAX_HEADING else s[:MAX_HEADING] + "…"
