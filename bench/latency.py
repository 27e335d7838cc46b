"""Query latency of ``KnowledgeBase.search`` per mode, with and without the query embedding,
plus a per-stage split of where a query's time goes."""

from __future__ import annotations

import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

from bench.measure import StageTimer, log, percentiles
from kb.embed import Embedder

MODES = ("hybrid", "dense", "lexical")


class MemoEmbedder(Embedder):
    """Wraps the real embedder; with ``memo`` on, a repeated text costs nothing, which
    isolates the search itself from the query embedding."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__()
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.memo = False
        self._cache: dict[tuple, np.ndarray] = {}

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        key = (kind, tuple(texts))
        if self.memo and key in self._cache:
            return self._cache[key]
        out = self.inner.embed_batch(texts, kind)
        self._cache[key] = out
        return out


def open_kb(index_dir: Path, embedder: Embedder | None = None):
    """A KnowledgeBase over an existing index, searched with the memoising real embedder."""
    from kb.core import KnowledgeBase
    from kb.embed import get_embedder
    from kb.manifest import Manifest

    manifest = Manifest.load(Path(index_dir))
    if manifest is None:
        raise FileNotFoundError(f"no index (manifest.json) in {index_dir}")
    emb = MemoEmbedder(embedder or get_embedder(manifest.embedder))
    return KnowledgeBase(index_dir, embedder=emb, create=False), emb


def query_embedding(emb: Embedder, queries: list[str]) -> dict:
    """Latency of embedding one query at a time (what every dense/hybrid search pays)."""
    emb.embed_query("预热")
    times = []
    for q in queries:
        t0 = time.perf_counter()
        emb.embed_query(q)
        times.append(time.perf_counter() - t0)
    return percentiles(times)


def mode_latency(kb, emb: MemoEmbedder, queries: list[str], modes=MODES, k: int = 10) -> dict:
    """Per mode: end-to-end latency (query embedded each time) and search-only (memoised)."""
    out = {}
    for mode in modes:
        for q in queries[:5]:  # warm-up: jieba, model, snapshot, SQLite pages
            kb.search(q, k=k, mode=mode)
        res = {}
        for label, memo in (("end_to_end", False), ("search_only", True)):
            if memo:  # fill the memo so the timed pass never embeds
                emb.memo = True
                for q in queries:
                    kb.search(q, k=k, mode=mode)
            emb.memo = memo
            _forget_queries(kb)
            times = []
            for q in queries:
                t0 = time.perf_counter()
                kb.search(q, k=k, mode=mode)
                times.append(time.perf_counter() - t0)
            res[label] = percentiles(times)
        emb.memo = False
        out[mode] = res
        log(f"  {mode}: end-to-end {res['end_to_end']}, search only {res['search_only']}")
    return out


def _forget_queries(kb) -> None:
    """Empty KnowledgeBase's LRU of query vectors, so an end-to-end pass really embeds each
    query (the previous mode's pass left them all there); the search-only pass gets its vectors
    from the memo instead."""
    kb._query_vector.cache_clear()


@contextmanager
def _patched(timer: StageTimer):
    """Time the search pipeline's stages by wrapping them where kb.search looks them up."""
    import kb.search as ks
    from kb.lexical import BM25Index
    from kb.store import Store
    from kb.vectors import VectorIndex

    targets = [(ks, "parse_query", "parse+tokenize"), (ks, "tokenize", "parse+tokenize"),
               (Store, "filtered_chunk_ids", "filters (SQL)"), (VectorIndex, "search", "dense (FAISS)"),
               (BM25Index, "top", "lexical (BM25 top-k)"), (ks, "collapse_groups", "dedup"),
               (Store, "chunk_rows", "chunk rows (SQL)"), (Store, "doc_rows", "doc rows (SQL)"),
               (ks, "highlight_spans", "highlight"), (ks, "get_fusion", "fusion"),
               (ks, "_to_hits", "to hits (total)")]
    with ExitStack() as stack:
        for owner, attr, label in targets:
            orig = getattr(owner, attr)
            if attr == "get_fusion":
                wrapped = (lambda o, lab: lambda name: timer.wrap(lab, o(name)))(orig, label)
            else:
                wrapped = timer.wrap(label, orig)
            setattr(owner, attr, wrapped)
            stack.callback(setattr, owner, attr, orig)
        yield


def stage_split(kb, emb: MemoEmbedder, queries: list[str], mode: str = "hybrid", k: int = 10) -> dict:
    """Mean milliseconds per query spent in each stage (query embedding memoised, so excluded)."""
    emb.memo = True
    for q in queries:
        kb.search(q, k=k, mode=mode)
    timer = StageTimer()
    t0 = time.perf_counter()
    with _patched(timer):
        for q in queries:
            kb.search(q, k=k, mode=mode)
    total = time.perf_counter() - t0
    emb.memo = False
    split = {name: round(1000 * s / len(queries), 2) for name, s in sorted(timer.seconds.items())}
    split["total (instrumented)"] = round(1000 * total / len(queries), 2)
    return split
