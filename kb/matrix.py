"""Comparison matrix (对比表): rows are aspects of a topic (公众参与, 专家论证 …), columns are places
(or doc types, or years); each cell holds the best passage of that column on that aspect, or None,
shown as 未见相关规定 — an empty cell is a finding, not an error.

A passage fills a cell only when both the topic and the aspect are present in it (its title and
section path count), literally or by most of their terms (the facet test of kb/compare.py); an aspect
may name alternatives (法治保障/法治环境). Among those, the passage that names the aspect most plainly
(in its headings, in its text) wins, then the better search score. The same passage never fills two
cells of one column unless nothing else fits; the cell then says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from kb.compare import FACET_MIN, FIRST, GROUP_BY, UNKNOWN, facets, group_key, matches
from kb.errors import InvalidInput
from kb.records import Hit, SearchFilters
from kb.validity import HIDDEN

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

EMPTY = "未见相关规定"
MAX_ASPECTS = 12
MAX_COLUMNS = 8
CELL_K = 24  # passages looked at per cell, best first; each one provision (a chunk, not a wider window)
PER_DOC = 8  # of them from one document: a column often holds a single law on the topic
SAME = 0.5  # two passages of one document are the same when they overlap by more than this share


@dataclass
class Column:
    key: str
    filters: SearchFilters
    given: bool  # named by the user: P matches any region containing P (北京 → 北京市, 北京市朝阳区)


def split_list(value: str | list[str] | None, field: str, limit: int) -> list[str]:
    """'公众参与,专家论证；风险评估' → a list without blanks or repeats; InvalidInput over ``limit``."""
    if value is None:
        return []
    parts = value if isinstance(value, list) else value.replace("，", ",").replace("；", ",").replace(";", ",").split(",")
    out = list(dict.fromkeys(p.strip() for p in parts if p and p.strip()))
    if len(out) > limit:
        raise InvalidInput(f"{field}: at most {limit} values (got {len(out)})")
    for p in out:
        if len(p) > 100:
            raise InvalidInput(f"{field}: value {p[:20]!r}… is longer than 100 characters")
    return out


def matrix(kb: KnowledgeBase, query: str, aspects: list[str] | str | None = None,
           places: list[str] | str | None = None,
           by: str = "region", filters: SearchFilters | None = None, as_of: str | None = None) -> dict:
    """{query, by, aspects, columns, cells: [{aspect, column, hit, note}], proposed, proposed_from}."""
    query = (query or "").strip()
    if not query:
        raise InvalidInput("q: the comparison topic is empty")
    if by not in GROUP_BY:
        raise InvalidInput(f"by: unknown grouping {by!r}; valid: {', '.join(GROUP_BY)}")
    aspects = split_list(aspects, "aspects", MAX_ASPECTS)
    places = split_list(places, "places", MAX_COLUMNS * 2)
    proposed_from = None
    if not aspects:
        from kb.aspects import propose

        aspects, proposed_from = propose(kb, query, filters, MAX_ASPECTS, as_of)
        if not aspects:
            raise InvalidInput(f"aspects: none given, and no normative text on {query!r} has section headings "
                               "to propose them from; name them, e.g. aspects=公众参与,专家论证")
    columns = ([_given_column(p, by, filters) for p in places] if places
               else auto_columns(kb, query, by, filters, as_of))
    cells: list[dict[str, Any]] = []
    topic = facets(query)
    for col in columns:
        ranked = {a: cell_candidates(kb, query, a, col, by, topic, as_of) for a in aspects}
        for aspect, (hit, note) in assign(aspects, ranked).items():
            cells.append({"aspect": aspect, "column": col.key, "hit": hit.to_dict() if hit else None, "note": note})
    order = {a: i for i, a in enumerate(aspects)}
    cells.sort(key=lambda c: order[c["aspect"]])  # row by row, columns in order within a row
    return {"query": query, "by": by, "aspects": aspects, "columns": [c.key for c in columns], "cells": cells,
            "proposed": proposed_from is not None, "proposed_from": proposed_from}


def one_version_per_group(hits: list[Hit]) -> list[Hit]:
    """The candidates a cell may come from: of each law group only the version in force on the date
    asked about (kb.search already leaves the others out; a hit asked for with every version is
    dropped here)."""
    return [h for h in hits if h.status not in HIDDEN]


def _given_column(place: str, by: str, filters: SearchFilters | None) -> Column:
    base = filters or SearchFilters()
    if by in ("region", "province"):
        return Column(place, replace(base, region=place), True)
    if by == "doc_type":
        return Column(place, replace(base, doc_type=place), True)
    if not (place.isdigit() and len(place) == 4):
        raise InvalidInput(f"places: {place!r} is not a year (by=year takes columns like 2021,2022)")
    return Column(place, replace(base, year_from=int(place), year_to=int(place)), True)


def auto_columns(kb: KnowledgeBase, query: str, by: str, filters: SearchFilters | None,
                 as_of: str | None = None) -> list[Column]:
    """The groups whose documents address the topic, best first, at most MAX_COLUMNS, shown 全国 first."""
    hits = kb.search(query, k=60, mode="hybrid", filters=filters, collapse=False, per_doc=1, as_of=as_of)
    topic = facets(query)
    best: dict[str, float] = {}
    for h in one_version_per_group(hits):
        if matches(h, topic):
            key = group_key(h, by)
            best[key] = max(best.get(key, 0.0), h.score)
    keys = sorted(best, key=lambda k: -best[k])[:MAX_COLUMNS]
    keys.sort(key=lambda k: (k != FIRST, k == UNKNOWN, k))
    base = filters or SearchFilters()
    out = []
    for key in keys:
        if key == UNKNOWN:
            f = base
        elif by in ("region", "province"):
            f = replace(base, region=key)
        elif by == "doc_type":
            f = replace(base, doc_type=key)
        else:
            f = replace(base, year_from=int(key), year_to=int(key))
        out.append(Column(key, f, False))
    return out


def _in_column(hit: Hit, col: Column, by: str) -> bool:
    if col.given:
        return True  # the column's filter already holds exactly its documents
    return group_key(hit, by) == col.key


def alternatives(aspect: str) -> list[str]:
    """'法治保障/法治环境' → both: places name the same part differently (市场主体 / 经营主体)."""
    return [a.strip() for a in aspect.replace("／", "/").split("/") if a.strip()] or [aspect]


def squeezed(hit: Hit) -> Hit:
    """The hit with its headings' spaces between Chinese characters removed (第四章 处  理 → 第四章 处理),
    so a heading names an aspect the way the aspect is written."""
    from kb.aspects import squeeze

    section = [squeeze(s) for s in hit.section]
    return hit if section == hit.section else replace(hit, section=section)


def evidence(hit: Hit, aspect: str) -> int:
    """How plainly a passage is about ``aspect``: named in its section headings, literally or by most
    of its terms (2 points: the provision sits in the part of the text about it, 市场和要素环境 for
    市场环境), named in its text (1), most of its terms in its text (1); the best alternative counts."""
    from kb.ask import term_overlap

    heads = " ".join(hit.section)
    best = 0
    for alt in alternatives(aspect):
        terms = facets(alt)
        def has(text: str, terms=terms, alt=alt) -> bool:
            return alt in text or all(t and term_overlap(t, text) >= FACET_MIN for _, t in terms)
        points = 2 * has(heads) + (alt in hit.text) + has(hit.text)
        best = max(best, points)
    return best


def cell_candidates(kb: KnowledgeBase, query: str, aspect: str, col: Column, by: str,
                    topic: list | None = None, as_of: str | None = None) -> list[Hit]:
    """Passages of one column that may fill the cell of ``aspect``: the topic and the aspect (one of its
    alternatives) present, ordered by ``evidence``, then by search score."""
    alts = alternatives(aspect)
    # no keyword feedback: the first hits' words would pull a cell from its aspect to the topic at large
    hits = kb.search(f"{query} {' '.join(alts)}", k=CELL_K, mode="hybrid", filters=col.filters, collapse=False,
                     per_doc=PER_DOC, window=0, as_of=as_of, feedback=False)
    topic = topic if topic is not None else facets(query)
    wanted = [facets(a) for a in alts]
    kept = []
    for h in one_version_per_group(hits):
        s = squeezed(h)
        if _in_column(h, col, by) and matches(s, topic) and any(matches(s, w) for w in wanted):
            kept.append((evidence(s, aspect), h))
    return [h for _, h in sorted(kept, key=lambda p: -p[0])]  # stable: search order within a level


def same_passage(a: Hit, b: Hit) -> bool:
    if a.doc_id != b.doc_id:
        return False
    overlap = min(a.end, b.end) - max(a.start, b.start)
    return overlap > SAME * min(a.end - a.start, b.end - b.start)


def assign(aspects: list[str], ranked: dict[str, list[Hit]]) -> dict[str, tuple[Hit | None, str | None]]:
    """One column's cells: each aspect its best passage not already used in the column. Aspects with
    the fewest candidates choose first, so a passage that is the only fit for one is left to it."""
    order = sorted(aspects, key=lambda a: (len(ranked[a]), aspects.index(a)))
    used: list[tuple[Hit, str]] = []
    out: dict[str, tuple[Hit | None, str | None]] = {}
    for a in order:
        cands = ranked[a]
        fresh = [h for h in cands if not any(same_passage(h, u) for u, _ in used)]
        if fresh:
            out[a] = (fresh[0], None)
            used.append((fresh[0], a))
        elif cands:
            other = next(b for u, b in used if same_passage(cands[0], u))
            out[a] = (cands[0], f"与「{other}」为同一段落：本列没有其他段落符合")
        else:
            out[a] = (None, None)
    return {a: out[a] for a in aspects}
