"""Query parsing: quoted phrases that hits must contain, and colloquial → official expansions.

Officials and citizens ask 拍板/罚钱/告政府; laws write 决策/罚款/行政诉讼. The table
data/colloquial.tsv maps one to the other; expansions are added to the lexical query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"

# opening mark → closing mark; ASCII and full-width quotes close themselves
QUOTES = {
    '"': '"', "'": "'", "＂": "＂", "＇": "＇",
    "“": "”", "‘": "’", "「": "」", "『": "』",
}
_CLOSERS = set(QUOTES.values())
# Aspect particles speech slips between a verb and its object: 录着视频, 打了官司, 拍过板
# still match the table's 录视频, 打官司, 拍板.
ASPECT = "着了过"


@dataclass
class ParsedQuery:
    text: str  # the query with quote marks removed (phrases kept as words)
    phrases: list[str] = field(default_factory=list)  # must appear verbatim in hits
    expansions: list[str] = field(default_factory=list)  # official wording for colloquial words found


@cache
def colloquial_table(path: Path = DATA / "colloquial.tsv") -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(colloquial, officials) rows, longest colloquial first so 当官的 wins over 当官."""
    if not path.exists():
        raise FileNotFoundError(f"kb data table missing: {path}")
    rows: dict[str, tuple[str, ...]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        cols = line.split("\t")
        officials = tuple(o.strip() for o in cols[1].split("|") if o.strip()) if len(cols) == 2 else ()
        if len(cols) != 2 or not cols[0].strip() or not officials:
            raise ValueError(f"{path}:{n}: expected 'colloquial<TAB>official[|official...]', got {line!r}")
        rows[cols[0].strip()] = officials
    return tuple(sorted(rows.items(), key=lambda kv: -len(kv[0])))


@cache
def _patterns() -> tuple[tuple[re.Pattern, tuple[str, ...]], ...]:
    gap = f"[{ASPECT}]?"
    return tuple((re.compile(gap.join(map(re.escape, c))), o) for c, o in colloquial_table())


def expand(text: str) -> list[str]:
    """Official terms for the colloquial words in ``text``, in text order, without the ones
    ``text`` already contains. A colloquial word inside a longer matched one does not fire."""
    taken = [False] * len(text)
    found: list[tuple[int, tuple[str, ...]]] = []
    for pattern, officials in _patterns():
        for m in pattern.finditer(text):
            start, end = m.span()
            if not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                found.append((start, officials))
    out: dict[str, None] = {}
    for _, officials in sorted(found, key=lambda f: f[0]):
        for o in officials:
            if o not in text:
                out.setdefault(o)
    return list(out)


def parse_query(q: str) -> ParsedQuery:
    """Split ``q`` into plain text, quoted phrases and expansions; an unclosed quote is just removed."""
    if not isinstance(q, str):
        raise TypeError(f"query must be a string, not {type(q).__name__}")
    text: list[str] = []
    phrases: list[str] = []
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        closer = QUOTES.get(ch)
        if closer is not None:
            end = q.find(closer, i + 1)
            if end >= 0:
                phrase = q[i + 1:end].strip()
                if phrase and phrase not in phrases:
                    phrases.append(phrase)
                text.append(q[i + 1:end])  # the phrase's words stay in the text
                i = end + 1
                continue
            i += 1  # unclosed opening mark: drop it
            continue
        if ch in _CLOSERS:  # stray closing mark
            i += 1
            continue
        text.append(ch)
        i += 1
    plain = " ".join("".join(text).split())
    return ParsedQuery(text=plain, phrases=phrases, expansions=expand(plain))
