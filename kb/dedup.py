"""Near-duplicate collapsing: the same passage republished by several documents is shown once.

Local regulations copy national ones, and news items repeat each other; the best-ranked copy
stays and the rest become its ``also_in``.

The definition is the pairwise one of ``_similar`` (kept as the reference implementation and the
fallback); ``collapse`` computes every pair's shingle overlap at once with numpy, because building
Python sets of 4-grams and intersecting them pair by pair was most of a search's CPU time.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

SHINGLE = 4
MIN_CONTAIN = 20  # containment only counts between passages this long (short ones match by chance)
MAX_PAIRS = 400_000  # shared-shingle pairs beyond this (hundreds of near-copies): the set path is cheaper
_NON_WORD = re.compile(r"[\W_]+")  # \w is exactly str.isalnum() plus "_"


def _core(text: str) -> str:
    """Word characters only: whitespace and punctuation differences do not make passages differ."""
    return _NON_WORD.sub("", text).lower()


@cache
def _bmp_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per BMP code point: is it a word character, its lower case, and is that lower case one
    character independent of context (not so for İ → i̇, nor for Σ, which str.lower() makes ς at
    the end of a word)."""
    chars = [chr(c) for c in range(0x10000)]
    lows = [ch.lower() for ch in chars]
    word = np.fromiter((ch.isalnum() for ch in chars), dtype=bool, count=len(chars))
    lower = np.fromiter((ord(x) if len(x) == 1 else 0 for x in lows), dtype=np.uint32, count=len(chars))
    plain = np.fromiter((len(x) == 1 for x in lows), dtype=bool, count=len(chars))
    plain[ord("Σ")] = False
    return word, lower, plain


def _cores(texts: list[str]) -> list[str]:
    """``_core`` of every text, in one pass over all their code points with numpy when they are
    all in the BMP with context-free lower cases (a regex per text cost more than the rest)."""
    try:
        codes = np.frombuffer("\x00".join(texts).encode("utf-32-le"), dtype=np.uint32)
    except UnicodeEncodeError:  # lone surrogates
        codes = None
    if codes is None or not len(codes) or codes.max() > 0xFFFF:
        return [_core(t) for t in texts]
    word, lower, plain = _bmp_tables()
    keep = word[codes]
    if not plain[codes[keep]].all():
        return [_core(t) for t in texts]
    # the joining NULs stay as separators; a NUL inside a text is not a word character and goes
    keep[np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1)[:-1] - 1] = True
    return lower[codes[keep]].tobytes().decode("utf-32-le").split("\x00")


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


def _check(threshold: float) -> None:
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"dedup threshold must be in (0, 1], got {threshold}")


def collapse_sets(texts: list[str], threshold: float = 0.8) -> list[list[int]]:
    """``collapse`` with Python sets, pair by pair: the reference the fast path must equal."""
    _check(threshold)
    cores = [_core(t) for t in texts]
    shingles = [_shingles(c) for c in cores]
    return _leaders(cores, lambda i, j: _similar(cores[i], cores[j], shingles[i], shingles[j], threshold))


def _leaders(cores: list[str], similar) -> list[list[int]]:
    leaders: list[int] = []
    groups: list[list[int]] = []
    for j in range(len(cores)):
        for g, i in enumerate(leaders):
            if similar(i, j):
                groups[g].append(j)
                break
        else:
            leaders.append(j)
            groups.append([j])
    return groups


def collapse(texts: list[str], threshold: float = 0.8) -> list[list[int]]:
    """Groups of indices of near-identical texts; input order is rank order, so each group's
    first index is its best. Every index appears in exactly one group; groups keep rank order.
    Near-identical: Jaccard of character 4-gram shingles ≥ ``threshold``, or one text contained
    in the other when both are at least 20 characters. Each text joins the first earlier group
    leader it is near-identical to (compared with leaders only, not with every earlier text)."""
    _check(threshold)
    cores = _cores(texts) if texts else []
    # Equal cores always end in one group (a copy is similar to exactly the leaders its original
    # is), so only distinct cores are compared; copies then follow their first occurrence.
    first: dict[str, int] = {}
    of = [first.setdefault(c, len(first)) for c in cores]
    uniq = list(first)
    cand = _candidates(uniq, threshold) if len(uniq) > 1 else [{} for _ in uniq]
    if cand is None:
        shingles = [_shingles(c) for c in uniq]
        ugroups = _leaders(uniq, lambda i, j: _similar(uniq[i], uniq[j], shingles[i], shingles[j], threshold))
    else:
        ugroups = _leaders_among(uniq, cand)
    group_of = {u: g for g, members in enumerate(ugroups) for u in members}
    groups: list[list[int]] = [[] for _ in ugroups]
    for j, u in enumerate(of):
        groups[group_of[u]].append(j)
    return groups


def _leaders_among(cores: list[str], cand: list[dict[int, bool]]) -> list[list[int]]:
    """``_leaders`` visiting only each core's candidates: they ascend, and leaders are in index
    order, so the first candidate that is a leader and verifies is the first similar leader."""
    groups: list[list[int]] = []
    group_of: dict[int, int] = {}  # leader index → its group
    for j, maybe in enumerate(cand):
        g = next((group_of[i] for i, jac in maybe.items()
                  if i in group_of and _verified(cores[i], cores[j], jac)), None)
        if g is None:
            group_of[j] = len(groups)
            groups.append([j])
        else:
            groups[g].append(j)
    return groups


def _verified(a: str, b: str, jaccard: bool) -> bool:
    """A candidate pair is similar by Jaccard outright, or else by a containment that the
    shingle counts allowed and the substring scan confirms."""
    return jaccard or (a in b if len(a) <= len(b) else b in a)


def _candidates(cores: list[str], threshold: float) -> list[dict[int, bool]] | None:
    """For each distinct core j, the earlier cores i that may be near-identical to it, mapped to
    whether Jaccard alone decides it (else only a containment, to be confirmed by a substring
    scan). Exact: shingles are 4-grams of character ranks packed with their core's number into
    one int64, so a single sort gives every set. None when that does not fit or the pair count
    explodes; the caller then compares sets."""
    n = len(cores)
    lens = np.array([len(c) for c in cores], dtype=np.int64)
    # cores joined by NULs (never in a core: \x00 is not a word character), which get rank 0:
    # no shingle spans two cores, and a core shorter than a shingle is its own NUL-padded key
    pad = "\x00" * (SHINGLE - 1)
    codes = np.frombuffer((pad.join(cores) + pad).encode("utf-32-le"), dtype=np.uint32)
    present = np.zeros(int(codes.max()) + 1, dtype=bool)
    present[codes] = True
    chars = np.flatnonzero(present)
    d, tbits = len(chars), n.bit_length()
    if d ** SHINGLE << tbits >= 2 ** 63:
        return None
    rank = np.empty(len(present), dtype=np.int64)
    rank[chars] = np.arange(d)
    r = rank[codes]
    real = codes != 0
    ok = real[:1 - SHINGLE] & real[SHINGLE - 1:]  # a whole shingle inside one core
    begin = np.cumsum(lens + SHINGLE - 1) - lens - (SHINGLE - 1)
    ok[begin[(lens > 0) & (lens < SHINGLE)]] = True
    at = np.flatnonzero(ok)
    key = r[at]
    for s in range(1, SHINGLE):
        key = key * d + r[at + s]
    owner = np.repeat(np.arange(n, dtype=np.int64), lens + SHINGLE - 1)[at]
    packed = np.sort((key << tbits) | owner)
    packed = packed[np.concatenate([[True], packed[1:] != packed[:-1]])]  # sets: each shingle once per core
    owner, sh = packed & ((1 << tbits) - 1), packed >> tbits
    sizes = np.bincount(owner, minlength=n)
    # shingles held by two or more cores, grouped (sorted by shingle); every member pairs with every member
    same = sh[1:] == sh[:-1]
    shared = np.concatenate([same, [False]])
    shared[1:] |= same
    sh, ow = sh[shared], owner[shared]
    inter = np.zeros((n, n), dtype=np.int64)
    if len(sh):
        first = np.empty(len(sh), dtype=bool)
        first[0] = True
        np.not_equal(sh[1:], sh[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        gsize = np.diff(starts, append=len(sh))
        if int(gsize @ gsize) > MAX_PAIRS:
            return None
        per = np.repeat(gsize, gsize)
        elem = np.repeat(np.arange(len(sh)), per)
        partner = np.repeat(np.repeat(starts, gsize), per) + np.arange(len(elem)) - np.repeat(np.cumsum(per) - per, per)
        inter = np.bincount(ow[elem] * n + ow[partner], minlength=n * n).reshape(n, n)
    union = sizes[:, None] + sizes[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        jac = (sizes[:, None] > 0) & (sizes[None, :] > 0) & (inter / union >= threshold)
    # a in b puts every shingle of a in b: inter == |a| is necessary for containment
    big = lens >= MIN_CONTAIN
    cont = (inter == sizes[:, None]) & (lens[:, None] <= lens[None, :]) & big[:, None] & big[None, :]
    maybe = np.tril(jac | cont | cont.T, -1)  # [j, i] with i < j
    out: list[dict[int, bool]] = [{} for _ in range(n)]
    js, is_ = np.nonzero(maybe)
    for j, i, by_jaccard in zip(js.tolist(), is_.tolist(), jac[js, is_].tolist(), strict=True):
        out[j][i] = by_jaccard
    return out
