"""Rank fusion of several result runs, picked by name (``rrf`` | ``weighted``).

A run is ``[(id, score), ...]`` best first. Fusion returns ``[(id, fused), ...]`` best first;
ties keep the order in which ids were first seen, so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable

Run = list[tuple[int, float]]


def _weights(runs: list[Run], weights: list[float] | None) -> list[float]:
    if weights is None:
        return [1.0] * len(runs)
    if len(weights) != len(runs):
        raise ValueError(f"fusion got {len(weights)} weights for {len(runs)} runs")
    return [float(w) for w in weights]


def _ranked(acc: dict[int, float]) -> Run:
    first_seen = {i: n for n, i in enumerate(acc)}
    return sorted(acc.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))


def rrf(runs: list[Run], weights: list[float] | None = None, *, k0: float = 60.0) -> Run:
    """Reciprocal rank fusion: Σ w / (k0 + rank), rank starting at 1; scores are ignored."""
    acc: dict[int, float] = {}
    for run, w in zip(runs, _weights(runs, weights), strict=True):
        seen = set()
        for rank, (i, _) in enumerate(run, start=1):
            if i in seen:  # an id twice in one run counts at its best rank only
                continue
            seen.add(i)
            acc[i] = acc.get(i, 0.0) + w / (k0 + rank)
    return _ranked(acc)


def weighted(runs: list[Run], weights: list[float] | None = None) -> Run:
    """Σ w · s, each run's scores min–max normalised to [0, 1] (a run of equal scores counts 1)."""
    acc: dict[int, float] = {}
    for run, w in zip(runs, _weights(runs, weights), strict=True):
        if not run:
            continue
        scores = [float(s) for _, s in run]
        lo, hi = min(scores), max(scores)
        seen = set()
        for i, s in run:
            if i in seen:
                continue
            seen.add(i)
            norm = (float(s) - lo) / (hi - lo) if hi > lo else 1.0
            acc[i] = acc.get(i, 0.0) + w * norm
    return _ranked(acc)


FUSIONS: dict[str, Callable[..., Run]] = {"rrf": rrf, "weighted": weighted}


def get_fusion(name: str) -> Callable[..., Run]:
    try:
        return FUSIONS[name]
    except KeyError:
        raise ValueError(f"unknown fusion '{name}'; valid: {', '.join(sorted(FUSIONS))}") from None
