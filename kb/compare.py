"""Side-by-side comparison: for each document its best passage on a topic, grouped by
region / province / doc_type / year, plus the regions whose documents of the same kind
say nothing on it (``missing``) — what an official drafting a local rule wants to see."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from kb.errors import InvalidInput
from kb.records import CompareGroup, CompareResult, Hit, SearchFilters

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

GROUP_BY = ("region", "province", "doc_type", "year")
UNKNOWN = "未注明"  # key for documents without the grouping field
FIRST = "全国"  # national documents lead, the rest sort by key
FACET_MIN = 0.8  # share of a query part's terms a passage (with its title/section) must contain


@lru_cache(maxsize=1)
def provinces() -> tuple[str, ...]:
    text = resources.files("kb").joinpath("data/provinces.txt").read_text(encoding="utf-8")
    return tuple(w for line in text.splitlines() if (w := line.split("#")[0].strip()))


def province_of(region: str) -> str:
    """广东省云浮市 → 广东省; 全国 and unknown strings stay as they are."""
    return next((p for p in provinces() if region.startswith(p)), region)


def group_key(row: dict | Hit, by: str) -> str:
    get = row.get if isinstance(row, dict) else lambda f: getattr(row, f)
    if by == "region":
        key = get("region")
    elif by == "province":
        key = province_of(get("region") or "")
    elif by == "doc_type":
        key = get("doc_type")
    else:
        key = (get("date") or "")[:4]
    return key or UNKNOWN


def _sort_key(key: str) -> tuple[bool, bool, str]:
    return (key != FIRST, key == UNKNOWN, key)


def facets(query: str) -> list[tuple[str, set[str]]]:
    """The query's space-separated parts, each with its content terms."""
    from kb.answer_rules import content_terms

    return [(part, content_terms(part)) for part in query.split()]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()  # as the tokenizer sees text


def matches(hit: Hit, parts: list[tuple[str, set[str]]]) -> bool:
    """Every part of the query is present: literally, or by most of its terms. The title
    and section path count, since 第十条 of 某某优化营商环境条例 is about 营商环境."""
    from kb.answer_rules import term_overlap

    hay = _norm(f"{hit.title} {' '.join(hit.section)} {hit.text}")
    for part, terms in parts:
        if _norm(part) in hay:
            continue
        if not terms or term_overlap(terms, hay) < FACET_MIN:
            return False
    return True


def compare(kb: KnowledgeBase, query: str, by: str = "region", filters: SearchFilters | None = None,
            k: int = 60, as_of: str | None = None) -> CompareResult:
    """Each document's best passage on ``query``, grouped by ``by``, and the groups without one."""
    if by not in GROUP_BY:
        raise InvalidInput(f"by: unknown grouping {by!r}; valid: {', '.join(GROUP_BY)}")
    query = (query or "").strip()
    if not query:
        raise InvalidInput("q: the comparison query is empty")
    # one version per text: the one in force on as_of (kb.search hides the others)
    hits = kb.search(query, k=k, mode="hybrid", filters=filters, collapse=False, per_doc=1, as_of=as_of)
    parts = facets(query)
    kept = [h for h in hits if matches(h, parts)]
    groups: dict[str, list[Hit]] = {}
    for h in kept:
        groups.setdefault(group_key(h, by), []).append(h)
    out = [CompareGroup(key, sorted(groups[key], key=lambda h: -h.score)) for key in sorted(groups, key=_sort_key)]
    return CompareResult(out, missing_keys(kb, kept, by, filters, set(groups)))


def missing_keys(kb: KnowledgeBase, kept: list[Hit], by: str, filters: SearchFilters | None,
                 found: set[str]) -> list[str]:
    """Keys of documents of the matched doc_type(s) (within the filters) with no matching passage."""
    if not kept:
        return []
    base = filters or SearchFilters()
    types = base.doc_type or ",".join(sorted({h.doc_type for h in kept}))
    scope = replace(base, doc_type=types)
    keys: set[str] = set()
    offset, limit = 0, 200
    while True:
        total, rows = kb.documents(scope, offset=offset, limit=limit)
        keys.update(group_key(r, by) for r in rows)
        offset += len(rows)
        if not rows or offset >= total:
            break
    return sorted(keys - found, key=_sort_key)
