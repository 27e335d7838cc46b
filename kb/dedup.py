"""Near-duplicate collapsing: the same passage republished by several documents is shown once.

Local regulations copy national ones, and news items repeat each other; the best-ranked copy
stays and the rest become its ``also_in``.
"""

from __future__ import annotations

import re

SHINGLE = 4
MIN_CONTAIN = 20  # containment only counts between passages this long (short ones match by chance)
_NON_WORD = re.compile(r"[\W_]+")  # \w is exactly str.isalnum() plus "_"


def _core(text: str) -> str:
    """Word characters only: whitespace and punctuation differences do not make passages differ."""
    return _NON_WORD.sub("", text).lower()


def _shingles(core: str) -> frozenset[str]:
    if len(core) <= SHINGLE:
        return frozenset([core]) if core else frozenset()
    return frozenset(core[i:i + SHINGLE] for i in range(len(core) - SHINGLE + 1))


def _contains(a: str, b: str, sb: frozenset[str]) -> bool:
    """``a in b``, with two O(1) necessary conditions tried before the substring scan."""
    return len(a) <= len(b) and a[:SHINGLE] in sb and a in b


def _similar(a: str, b: str, sa: frozenset[str], sb: frozenset[str], threshold: float) -> bool:
    if len(a) >= MIN_CONTAIN and len(b) >= MIN_CONTAIN and (_contains(a, b, sb) or _contains(b, a, sa)):
        return True
    if not sa or not sb:
        return a == b
    na, nb = len(sa), len(sb)
    if min(na, nb) / max(na, nb) < threshold:  # Jaccard <= min/max of the set sizes: cannot reach it
        return False
    inter = len(sa & sb)
    return inter / (na + nb - inter) >= threshold


def collapse(texts: list[str], threshold: float = 0.8) -> list[list[int]]:
    """Groups of indices of near-identical texts; input order is rank order, so each group's
    first index is its best. Every index appears in exactly one group; groups keep rank order.
    Near-identical: Jaccard of character 4-gram shingles ≥ ``threshold``, or one text contained
    in the other when both are at least 20 characters. Each text joins the first earlier group
    leader it is near-identical to (compared with leaders only, not with every earlier text)."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"dedup threshold must be in (0, 1], got {threshold}")
    cores = [_core(t) for t in texts]
    shingles = [_shingles(c) for c in cores]
    leaders: list[int] = []
    groups: list[list[int]] = []
    for j in range(len(texts)):
        for g, i in enumerate(leaders):
            if _similar(cores[i], cores[j], shingles[i], shingles[j], threshold):
                groups[g].append(j)
                break
        else:
            leaders.append(j)
            groups.append([j])
    return groups
