"""`kb check`: verify that the store, the FAISS index and the BM25 index agree."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kb import indexer

if TYPE_CHECKING:
    from kb.core import KnowledgeBase


def check(kb: KnowledgeBase, repair: bool = True) -> dict:
    """Every chunk in all three, nothing extra; offsets exact; embeddings cached.

    With ``repair`` (the default) stale saved indexes — a crash between a store commit and
    the index save — are first rebuilt from the store, exactly as the next search would;
    ``repaired`` says so. Without it the files on disk are judged as they are.
    """
    problems: list[str] = []
    store = kb.store
    if kb.remote:
        return _check_remote(kb, repair)
    before = indexer.saved_generation(kb.dir)
    repaired = None
    if repair and before != store.generation():
        kb.snapshot()
        repaired = f"saved indexes were at generation {before}, rebuilt to {store.generation()}"
    gen = store.generation()
    ids = store.chunk_ids()
    saved = indexer.saved_generation(kb.dir)
    assert kb.backends is not None  # the embedded mode
    snap = indexer.load(kb.dir, *kb.backends)
    if snap is None:
        if len(ids):
            problems.append("saved FAISS/BM25 indexes are missing or unreadable (a search or `kb ingest` rebuilds "
                            "them from the store)")
    else:
        if saved != gen:
            problems.append(f"saved indexes reflect store generation {saved}, the store is at {gen} "
                            "(interrupted write; the next search or `kb ingest` rebuilds them)")
        faiss_ids = np.sort(snap.vectors.ids())
        missing = np.setdiff1d(ids, faiss_ids)
        extra = np.setdiff1d(faiss_ids, ids)
        if len(missing):
            problems.append(f"{len(missing)} chunks missing from FAISS (e.g. {missing[:5].tolist()})")
        if len(extra):
            problems.append(f"{len(extra)} ids in FAISS that the store does not hold (e.g. {extra[:5].tolist()})")
        if not np.array_equal(snap.live_ids(), ids):
            problems.append(f"BM25 covers {len(snap.live_ids())} chunks, the store holds {len(ids)}")
        if len(snap.bm25) != len(snap.chunk_ids):
            problems.append("BM25 index size does not match its id list")
    problems += _store_problems(kb)
    docs, chunks = store.counts()
    return {"ok": not problems, "documents": docs, "chunks": chunks, "generation": gen,
            "index_generation": saved, "repaired": repaired, "problems": problems}


def _store_problems(kb: KnowledgeBase) -> list[str]:
    problems = []
    hashes = kb.store.index_hashes(kb.store.chunk_ids())
    cached = kb.store.cached_vectors(kb.manifest.embedder, hashes)
    uncached = sum(1 for h in hashes if h not in cached)
    if uncached:
        problems.append(f"{uncached} chunks have no cached embedding")
    bad, orphans = kb.store.chunk_text_problems()
    if bad:
        problems.append(f"{bad} chunks whose text differs from document text[start:end]")
    if orphans:
        problems.append(f"{orphans} chunks belong to no document")
    return problems


def _check_remote(kb: KnowledgeBase, repair: bool) -> dict:
    """The same checks when the derived indexes live in Milvus (kb/remote_index.py)."""
    from kb import remote_index
    assert kb.remote is not None
    vectors, keywords = kb.remote
    before, gen = vectors.marker(), kb.store.generation()
    repaired = None
    if repair and (before != gen or remote_index.problems(kb.store, vectors, keywords)):
        with kb._write_lock, kb.store.ingest_lock():  # every id compared: also what went missing otherwise
            remote_index.sync(kb.store, kb.embedder, vectors, keywords, full=True)
        kb._snap = None
        repaired = f"Milvus was at generation {before} (or missed chunks), brought level with {gen}"
    problems = remote_index.problems(kb.store, vectors, keywords) + _store_problems(kb)
    docs, chunks = kb.store.counts()
    return {"ok": not problems, "documents": docs, "chunks": chunks, "generation": gen,
            "index_generation": vectors.marker(), "repaired": repaired, "problems": problems}
