"""Proposed aspects for a comparison matrix: the section headings of the normative text that best
matches the topic. For 重大行政决策 the 条例's 第二章 sections give 公众参与 / 专家论证 / 风险评估 and
its 第三章 sections 合法性审查 / 集体讨论决定; a user edits the list before comparing again.
Which headings are skipped and how numbering is removed: data/aspect_headings.txt."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from kb.cite import LEGAL_TYPES
from kb.compare import facets, matches
from kb.records import SearchFilters

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

MIN_ASPECTS = 2  # a text with fewer usable headings proposes nothing; the next one is tried
TRIED = 5  # documents looked at
_SPACED = re.compile(r"(?<=[\u4e00-\u9fff])[ \t\u3000]+(?=[\u4e00-\u9fff])")


@lru_cache(maxsize=1)
def _rules() -> tuple[frozenset[str], tuple[re.Pattern, ...]]:
    skip: set[str] = set()
    numbers: list[re.Pattern] = []
    text = resources.files("kb").joinpath("data/aspect_headings.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, value = line.split("\t", 1)
        if kind == "skip":
            skip.add(value.strip())
        elif kind == "number":
            numbers.append(re.compile(value.strip()))
        else:
            raise ValueError(f"data/aspect_headings.txt: unknown kind {kind!r}")
    return frozenset(skip), tuple(numbers)


def aspect_of(heading: str) -> str:
    """第二节 公众参与 → 公众参与; （三）健全决策机制 → 健全决策机制."""
    _, numbers = _rules()
    for pattern in numbers:
        heading = pattern.sub("", heading, count=1)
    return squeeze(heading).strip()


def squeeze(heading: str) -> str:
    """总  则 → 总则: laws space out short headings; an aspect is written without the spaces."""
    return _SPACED.sub("", heading)


def headings_as_aspects(sections: list[dict]) -> list[str]:
    """The lowest headings above the articles: a chapter's 节, or the chapter when it has none."""
    from ingest.structure import is_article

    skip, _ = _rules()
    paths = [tuple(s["path"]) for s in sections if s["path"] and not is_article(s["path"][-1])]
    leaves = [p for p in paths if not any(len(q) > len(p) and q[:len(p)] == p for q in paths)]
    out: list[str] = []
    for path in leaves:
        name = aspect_of(path[-1])
        if name and name not in skip and not any(aspect_of(h) in skip for h in path[:-1]) and name not in out:
            out.append(name)
    return out


def propose(kb: KnowledgeBase, query: str, filters: SearchFilters | None, limit: int,
            as_of: str | None = None) -> tuple[list[str], str | None]:
    """(aspects, title of the text they come from); ([], None) when no normative text has headings."""
    base = filters or SearchFilters()
    scope = replace(base, doc_type=base.doc_type or ",".join(sorted(LEGAL_TYPES)))
    from kb.matrix import one_version_per_group

    hits = one_version_per_group(kb.search(query, k=20, mode="hybrid", filters=scope, collapse=False,
                                           per_doc=1, as_of=as_of))
    topic = facets(query)
    # a text whose title names the topic first (优化营商环境 → 某某优化营商环境条例), then by rank
    titled = [h for h in hits if all(part in h.title for part, _ in topic)]
    seen: set[str] = set()
    for h in titled + [h for h in hits if matches(h, topic)]:
        if h.doc_id in seen:
            continue
        seen.add(h.doc_id)
        aspects = headings_as_aspects(kb.document(h.doc_id).sections)
        if len(aspects) >= MIN_ASPECTS:
            return aspects[:limit], h.title
        if len(seen) >= TRIED:
            break
    return [], None
