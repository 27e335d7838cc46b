"""A document's region: the most specific place its title, issuer, path and text point to.

Place names come from data/gazetteer.tsv (all provinces and prefectures, the counties/districts,
the townships of the corpus and the short forms officials use: 郾城区, 新都, 黔西南州, 酉阳). Every
mention counts for its place and, rolled up, for the place's parents; we then walk down from the
best province while a child place carries a fair share of its parent's weight.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from ingest.data import rows

DESCEND_SHARE = 0.3  # a child place needs this share of its parent's weight to be chosen
_FOLLOW_NOT = {"区": "域", "市": "场"}  # 重点区域, 东方市场 are not places


@dataclass(frozen=True)
class Gazetteer:
    names: dict[str, str]  # alias or full name → full name
    parent: dict[str, str]  # full name → parent full name ("" for provinces)
    trie: dict  # character trie over all names; the key "" marks the end of a name


@cache
def gazetteer() -> Gazetteer:
    names: dict[str, str] = {}
    fulls: list[str] = []
    for r in rows("gazetteer.tsv"):
        full = r[0]
        if full not in names:
            fulls.append(full)
        names[full] = full
        for alias in r[2].split(",") if len(r) > 2 and r[2] else []:
            alias = alias.strip()
            if alias and alias not in names:
                names[alias] = full
    known = set(fulls)
    parent = {}
    for full in fulls:
        parent[full] = next((full[:i] for i in range(len(full) - 1, 1, -1) if full[:i] in known), "")
    trie: dict = {}
    for name in names:
        node = trie
        for ch in name:
            node = node.setdefault(ch, {})
        node[""] = name
    return Gazetteer(names, parent, trie)


def mentions(text: str) -> list[str]:
    """Full names of the places mentioned in ``text``, in order (longest match at each position).

    A plain dict-trie walk: most characters are not the first character of any place name, so the
    scan costs one dict lookup per character (a regex alternation over 9,000 names is far slower)."""
    g = gazetteer()
    trie, names = g.trie, g.names
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        node = trie.get(text[i])
        if node is None:
            i += 1
            continue
        j, found, end = i + 1, None, i
        while True:
            if "" in node:
                found, end = node[""], j
            if j >= n:
                break
            node = node.get(text[j])
            if node is None:
                break
            j += 1
        if found is None:
            i += 1
            continue
        follow = text[end : end + 1]
        if not (follow and _FOLLOW_NOT.get(found[-1]) == follow):
            out.append(names[found])
        i = end
    return out


def path_hints(path: str) -> list[str]:
    """Places named by whole parts of a relative path: laws/山东/…, gov/…/广州市天河区_2023_….md."""
    g = gazetteer()
    parts = re.split(r"[/\\]", path)
    stem = parts[-1].rsplit(".", 1)[0]
    candidates = parts[:-1] + stem.split("_")[:1]
    return [g.names[p] for p in candidates if p in g.names]


def choose(weighted: list[tuple[str, float]]) -> str:
    """The most specific region supported by (full name, weight) mentions; '' when there are none."""
    g = gazetteer()
    score: defaultdict[str, float] = defaultdict(float)  # summed weights
    order: dict[str, int] = {}
    for i, (full, weight) in enumerate(weighted):
        node = full
        while node:
            score[node] += weight
            order.setdefault(node, i)
            node = g.parent.get(node, "")
    if not score:
        return ""

    def best(nodes: list[str]) -> str:
        return max(nodes, key=lambda n: (score[n], -order[n]))

    current = best([n for n in score if not g.parent.get(n)])
    while True:
        children = [n for n in score if g.parent.get(n) == current]
        if not children:
            return current
        child = best(children)
        if score[child] < DESCEND_SHARE * score[current]:
            return current
        current = child
