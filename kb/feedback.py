"""Pseudo-relevance feedback for the keyword run: words the best first-round passages share.

Officials ask in their own words (政府守信履约); the provisions that answer write 履行政策承诺,
违约毁约, 政府换届. The first round's best passages usually hold that wording, and the same
measure is worded alike across places, so their most distinctive words, added to the BM25
query at a fraction of a query word's weight, find the other places' provisions (the RM3 idea:
the original words stay in charge).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable


def feedback_terms(token_lists: Iterable[list[str]], query_terms: Iterable[str],
                   doc_freqs: Callable[[list[str]], dict[str, int]], n_chunks: int,
                   top: int = 20) -> dict[str, float]:
    """The ``top`` words of the feedback passages by Σ (tf / length) · log(N / df), each weighted
    by its share of the best word's score (best: 1.0). Skipped: the query's own terms, single
    characters (sub-word noise of search-mode tokens) and words only one chunk holds (names,
    typos: nothing else to find with them)."""
    query = set(query_terms)
    passages = [(Counter(t for t in tokens if len(t) >= 2 and t not in query), len(tokens))
                for tokens in token_lists if tokens]
    words = sorted({t for counts, _ in passages for t in counts})
    if not words or n_chunks < 2:
        return {}
    df = doc_freqs(words)
    score: dict[str, float] = {}
    for counts, length in passages:
        for t, n in counts.items():
            if df.get(t, 0) >= 2:
                score[t] = score.get(t, 0.0) + n / length * math.log(n_chunks / df[t])
    best = sorted(score.items(), key=lambda ts: -ts[1])[:top]  # stable: ties keep first-seen order
    if not best or best[0][1] <= 0:
        return {}
    return {t: s / best[0][1] for t, s in best if s > 0}
