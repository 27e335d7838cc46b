"""Derived indexes (FAISS + BM25) built from the store and the embedding cache.

A Snapshot is immutable once published: writers build a new one and swap the
reference, so searches in other threads never see a half-updated index.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.embed import Embedder
from kb.faults import checkpoint
from kb.lexical import BM25Index
from kb.manifest import BM25_PARAMS
from kb.store import Store, text_hash
from kb.tokenize import tokenize
from kb.vectors import VectorIndex

DERIVED = "derived.json"

Progress = Callable[[int], None]  # called with the number of texts just embedded


def index_text(title: str, section: list[str], text: str) -> str:
    """What BM25 and the embedder see for a chunk: the title and section path name the
    topic that the body itself often never repeats."""
    head = " ".join(h for h in section if h)
    return f"{title}\n{head}\n{text}" if head else f"{title}\n{text}"


def index_tokens(title: str, section: list[str], text: str,
                 heads: dict[tuple[str, tuple[str, ...]], list[str]]) -> list[str]:
    """BM25 tokens of ``index_text(title, section, text)``, the same multiset, with the title and
    section path tokenized once per section (``heads`` caches them): jieba never joins words
    across the line break, and a document's articles share their headings."""
    key = (title, tuple(section))
    head = heads.get(key)
    if head is None:
        head = heads[key] = tokenize(index_text(title, section, ""))
    return head + tokenize(text)


@dataclass
class Snapshot:
    generation: int
    chunk_ids: np.ndarray  # position -> chunk id, ascending
    bm25: BM25Index
    vectors: VectorIndex

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Positions of the given chunk ids (ids absent from the snapshot are dropped)."""
        ids = np.asarray(ids, dtype=np.int64)
        pos = np.searchsorted(self.chunk_ids, ids)
        pos = np.clip(pos, 0, max(len(self.chunk_ids) - 1, 0))
        ok = (len(self.chunk_ids) > 0) & (self.chunk_ids[pos] == ids) if len(ids) else np.zeros(0, bool)
        return pos[ok]


def embed_missing(store: Store, embedder: Embedder, texts: list[str], batch: int = 32,
                  progress: Progress | None = None) -> int:
    """Embed the texts the cache does not hold yet; return how many were embedded."""
    hashes = [text_hash(t) for t in texts]
    have = store.cached_vectors(embedder.name, hashes)
    todo: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in have:
            todo.setdefault(h, t)
    items = list(todo.items())
    for i in range(0, len(items), batch):
        part = items[i:i + batch]
        vecs = embedder.embed_batch([t for _, t in part], "passage")
        store.put_vectors(embedder.name, [(h, v) for (h, _), v in zip(part, vecs, strict=True)])
        checkpoint("embed")
        if progress:
            progress(len(part))
    return len(items)


def _vectors_for(store: Store, embedder: Embedder, ids: np.ndarray, hashes: list[str]) -> np.ndarray:
    cache = store.cached_vectors(embedder.name, hashes)
    missing = [int(i) for i, h in zip(ids, hashes, strict=True) if h not in cache]
    if missing:  # cache pruned or never filled (crash): rebuild those texts and embed them now
        rows = store.con.execute(
            "SELECT c.chunk_id, d.title, c.section, c.text FROM chunks c JOIN documents d USING (doc_id)"
            f" WHERE c.chunk_id IN ({','.join('?' * len(missing))})", missing).fetchall()
        embed_missing(store, embedder, [index_text(r[1], json.loads(r[2]), r[3]) for r in rows])
        cache = store.cached_vectors(embedder.name, hashes)
    if not hashes:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack([cache[h] for h in hashes]).astype(np.float32)


def build(store: Store, embedder: Embedder, previous: Snapshot | None = None,
          flat_max: int = 200_000) -> Snapshot:
    """A snapshot matching the store now; reuses ``previous`` vectors where the ids are unchanged."""
    generation = store.generation()
    ids, hashes, tokens = store.all_chunks()
    bm25 = BM25Index.build(tokens, **BM25_PARAMS)
    wanted_kind = "flat" if len(ids) <= flat_max else "ivf_sq8"
    if previous is not None and previous.vectors.kind == wanted_kind:
        vectors = previous.vectors.copy()
        old = vectors.ids()
        gone = np.setdiff1d(old, ids)
        if len(gone):
            vectors.remove(gone)
        new_mask = ~np.isin(ids, old)
        if new_mask.any():
            new_hashes = [h for h, m in zip(hashes, new_mask, strict=True) if m]
            vectors.add(ids[new_mask], _vectors_for(store, embedder, ids[new_mask], new_hashes))
    elif len(ids):
        vectors = VectorIndex.build(ids, _vectors_for(store, embedder, ids, hashes), flat_max=flat_max)
    else:
        vectors = VectorIndex.empty(embedder.dim)
    return Snapshot(generation, ids, bm25, vectors)


def save(snap: Snapshot, directory: Path) -> None:
    """Write index files first and derived.json last (each via temp file + rename): a crash in
    between leaves derived.json naming the old generation, so the next open rebuilds."""
    directory = Path(directory)
    snap.vectors.save(directory / "vectors.faiss")
    snap.bm25.save(directory / "bm25")
    tmp = directory / "chunk_ids.npy.tmp"
    with open(tmp, "wb") as f:
        np.save(f, snap.chunk_ids)
    os.replace(tmp, directory / "chunk_ids.npy")
    checkpoint("index")
    meta = directory / (DERIVED + ".tmp")
    meta.write_text(json.dumps({"generation": snap.generation, "chunks": int(len(snap.chunk_ids))}))
    os.replace(meta, directory / DERIVED)


def saved_generation(directory: Path) -> int | None:
    try:
        return int(json.loads((Path(directory) / DERIVED).read_text())["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load(directory: Path) -> Snapshot | None:
    """The saved snapshot, or None when absent or unreadable (the caller rebuilds)."""
    directory = Path(directory)
    gen = saved_generation(directory)
    if gen is None:
        return None
    try:
        ids = np.load(directory / "chunk_ids.npy")
        snap = Snapshot(gen, ids, BM25Index.load(directory / "bm25"), VectorIndex.load(directory / "vectors.faiss"))
    except Exception:  # noqa: BLE001 — any damage means "rebuild from the store", never a crash
        return None
    if len(snap.bm25) != len(ids) or len(snap.vectors) != len(ids):
        return None
    if snap.bm25.params != BM25_PARAMS:  # built by a version with other parameters: rebuild from tokens
        return None
    return snap
