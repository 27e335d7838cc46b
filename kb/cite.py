"""Citation strings: 《条例》第二十五条 for legal texts, 《方案》（2023-02-28） 一、… › （二）… otherwise."""

from __future__ import annotations

import re

# doc_types cited by article number, the way legal texts are quoted
LEGAL_TYPES = frozenset({"law", "regulation", "rule", "local_regulation", "judicial_interpretation", "normative"})
UNTITLED = "未命名文档"
MAX_HEADING = 40  # a section heading longer than this is cut with … to keep the citation readable

_NUM = "[0-9零〇一二三四五六七八九十百千万两]+"
# the numbered element at the start of a section-path entry, e.g. "第二十五条 决策机关应当…" → 第二十五条
_ARTICLE = re.compile(rf"^\s*(第{_NUM}条(?:之{_NUM})?)")
_CHAPTER = re.compile(rf"^\s*(第{_NUM}[编章节])")


def _title(title: str) -> str:
    t = (title or "").strip().strip("《》").strip()
    return f"《{t or UNTITLED}》"


def _short(heading: str) -> str:
    h = " ".join(heading.split()).rstrip("。；;，,：:")
    return h if len(h) <= MAX_HEADING else h[:MAX_HEADING - 1] + "…"


def citation(title: str, doc_type: str, date: str, section: list[str], version: str = "") -> str:
    """How a passage is cited. Legal texts: 《title》第X条 (or 《title》第X章 without an article),
    naming the version where there are several: 《title》（2024年修正）第十条; other documents:
    《title》（date） plus the section path joined with ›."""
    section = [s for s in (section or []) if s and s.strip()]
    head = _title(title) + version
    if doc_type in LEGAL_TYPES:
        for entry in reversed(section):  # the deepest article: 第二章 › 第二十五条
            m = _ARTICLE.match(entry)
            if m:
                return head + m.group(1)
        units = [m.group(1) for m in map(_CHAPTER.match, section) if m]
        return head + "".join(units)
    out = head + (f"（{date.strip()}）" if date and date.strip() else "")
    if section:
        out += " " + " › ".join(_short(s) for s in section)
    return out


# the version label citation() puts after a legal text's title: 《条例》（2024年修订）第十条
_VERSION = re.compile(r"》（\d{4}年(?:修正|修订)?）")


def without_version(cited: str) -> str:
    """A citation with its version label taken out (《条例》（2024年修订）第十条 → 《条例》第十条), to
    match citations recorded before texts had versions."""
    return _VERSION.sub("》", cited, count=1)


def span_citation(title: str, doc_type: str, date: str, first: list[str], last: list[str],
                  version: str = "") -> str:
    """A span from section ``first`` to section ``last``: a legal text's article range (《条例》第四条至
    第九条); otherwise the sections both lie in, as ``citation`` gives it."""
    if first == last:
        return citation(title, doc_type, date, first, version)
    if doc_type in LEGAL_TYPES:
        head, tail, prefix = (citation(title, doc_type, date, first, version),
                              citation(title, doc_type, date, last, version), _title(title) + version)
        if head != prefix and tail != prefix and tail.startswith(prefix):
            return head + "至" + tail[len(prefix):]
    return citation(title, doc_type, date, common_path(first, last), version)


def common_path(a: list[str], b: list[str]) -> list[str]:
    out = []
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        out.append(x)
    return out
