"""Near-duplicate collapsing: the same passage republished by several documents is shown once.

Local regulations copy national ones, and news items repeat each other; the best-ranked copy
stays and the rest become its ``also_in``.
"""

from __future__ import annotations

SHINGLE = 4
MIN_CONTAIN = 20  # containment only counts between passages this long (short ones match by chance)


def _core(text: str) -> str:
    """Word characters only: whitespace and punctuation differences do not make passages differ."""
    return "".join(ch for ch in text if ch.isalnum()).lower()


def _shingles(core: str) -> frozenset[str]:
    if len(core) <= SHINGLE:
        return frozenset([core]) if core else frozenset()
    return frozenset(core[i:i + SHINGLE] for i in range(len(core) - SHINGLE + 1))


def _similar(a: str, b: str, sa: frozenset[str], sb: frozenset[str], threshold: float) -> bool:
    if len(a) >= MIN_CONTAIN and len(b) >= MIN_CONTAIN and (a in b or b in a):
        return True
    if not sa or not sb:
        return a == b
    return len(sa & sb) / len(sa | sb) >= threshold


def collapse(texts: list[str], threshold: float = 0.8) -> list[list[int]]:
    """Groups of indices of near-identical texts; input order is rank order, so each group's
    first index is its best. Every index appears in exactly one group; groups keep rank order.
    Near-identical: Jaccard of character 4-gram shingles ≥ ``threshold``, or one text contained
    in the other when both are at least 20 characters."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"dedup threshold must be in (0, 1], got {threshold}")
    cores = [_core(t) for t in texts]
    shingles = [_shingles(c) for c in cores]
    group_of: list[int | None] = [None] * len(texts)
    groups: list[list[int]] = []
    for i in range(len(texts)):
        if group_of[i] is not None:
            continue
        group_of[i] = len(groups)
        group = [i]
        for j in range(i + 1, len(texts)):
            if group_of[j] is None and _similar(cores[i], cores[j], shingles[i], shingles[j], threshold):
                group_of[j] = group_of[i]
                group.append(j)
        groups.append(group)
    return groups
