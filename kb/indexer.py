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
from typing import TypeGuard

import numpy as np

from kb.embed import Embedder
from kb.faults import checkpoint
from kb.keywords import SegmentKeywords
from kb.lexical import BM25Index
from kb.manifest import BM25_PARAMS
from kb.store import Store, text_hash
from kb.tokenize import tokenize
from kb.vectors import VectorIndex

DERIVED = "derived.json"  # the store generation the files below reflect, written last
VECTORS_FILE = "vectors.faiss"

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
    """The embedded derived indexes of one store generation: BM25 segments and FAISS, both keyed by
    chunk id (kb/backends.py has their protocols)."""
    generation: int
    keywords: SegmentKeywords
    vectors: VectorIndex
    remote: bool = False  # both kept in a server (kb/remote_index.py): no files, no positions

    @property
    def chunk_ids(self) -> np.ndarray:
        """Position -> chunk id of the BM25 segments, ascending; removed chunks stay until compaction."""
        return self.keywords.chunk_ids

    @property
    def bm25(self) -> BM25Index:
        return self.keywords.bm25

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Positions of the given chunk ids (ids absent from the snapshot are dropped)."""
        return self.keywords.positions(ids)

    def live_ids(self) -> np.ndarray:
        return self.keywords.ids()


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


CACHE_WAIT_MS = 50  # a reader caching vectors gives up rather than wait for a busy writer


def passage_vectors(store: Store, embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Passage vectors of ``texts`` (answer units) from the embedding cache, the missing ones
    embedded in one call and cached, keyed by (embedder, text hash) like chunk vectors, so a
    unit already seen costs a lookup. Caching is best effort: when a writer holds the store,
    the vectors are used without being kept."""
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    if not texts:
        return out
    hashes = [text_hash(t) for t in texts]
    have = store.cached_vectors(embedder.name, hashes)
    todo = list(dict.fromkeys(h for h in hashes if h not in have))
    if todo:
        first = {h: t for h, t in zip(hashes, texts, strict=True)}
        vecs = np.asarray(embedder.embed_batch([first[h] for h in todo], "passage"), dtype=np.float32)
        have.update(zip(todo, vecs, strict=True))
        store.put_vectors(embedder.name, list(zip(todo, vecs, strict=True)), wait_ms=CACHE_WAIT_MS)
    for i, h in enumerate(hashes):
        out[i] = have[h]
    return out


def _vectors_for(store: Store, embedder: Embedder, ids: np.ndarray, hashes: list[str],
                page: int = 20_000) -> np.ndarray:
    """Cached vectors of these chunks, filled page by page into one float32 array."""
    out = np.empty((len(ids), embedder.dim), dtype=np.float32)
    for i in range(0, len(ids), page):
        part_ids, part = ids[i:i + page], hashes[i:i + page]
        cache = store.cached_vectors(embedder.name, part)
        missing = [int(c) for c, h in zip(part_ids, part, strict=True) if h not in cache]
        if missing:  # cache pruned or never filled (crash): rebuild those texts and embed them now
            rows = store.chunk_index_parts(missing)
            embed_missing(store, embedder, [index_text(title, json.loads(sec), text) for title, sec, text in rows])
            cache = store.cached_vectors(embedder.name, part)
        for j, h in enumerate(part):
            out[i + j] = cache[h]
    return out


def _diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Ids in ``a`` and not in ``b``, both ascending and unique (a lookup table: 1M ids in ms)."""
    if not len(a) or not len(b):
        return a
    return a[~np.isin(a, b, kind="table")]


def build(store: Store, embedder: Embedder, previous: Snapshot | None = None,
          flat_max: int = 200_000) -> Snapshot:
    """A snapshot matching the store now. From ``previous`` it is an update: BM25 gets a segment
    for the new chunks and tombstones for the removed ones, FAISS adds and removes vectors, so a
    write costs what it changed; without one (or after a parameter change) everything is built."""
    generation = store.generation()
    ids = store.chunk_ids()
    wanted_kind = "flat" if len(ids) <= flat_max else "ivf_sq8"
    old = previous.live_ids() if previous is not None else np.zeros(0, dtype=np.int64)
    gone, new = _diff(old, ids), _diff(ids, old)
    if (previous is not None and previous.keywords.params == BM25_PARAMS
            and (not len(new) or not len(previous.chunk_ids) or new[0] > previous.chunk_ids[-1])):
        # chunk ids only grow (AUTOINCREMENT), so appended positions keep chunk_ids ascending
        keywords = previous.keywords.copy()
        keywords.update(gone, new, [t for page in store.chunk_tokens(new) for t in page])
    else:
        keywords = SegmentKeywords.build(ids, store.chunk_tokens(), BM25_PARAMS)
    keywords.generation = generation
    if previous is not None and previous.vectors.kind == wanted_kind:
        # diffed against the vectors' own ids: after a crash between the two saves the FAISS file
        # may be a write ahead of BM25
        held = np.sort(previous.vectors.ids())
        gone, new = _diff(held, ids), _diff(ids, held)
        vectors = previous.vectors.copy()
        if len(gone):
            vectors.remove(gone)
        if len(new):
            vectors.add(new, _vectors_for(store, embedder, new, store.index_hashes(new)))
    elif len(ids):
        vectors = VectorIndex.build(ids, _vectors_for(store, embedder, ids, store.index_hashes(ids)), flat_max=flat_max)
    else:
        vectors = VectorIndex.empty(embedder.dim)
    vectors.generation = generation
    return Snapshot(generation, keywords, vectors)


def save(snap: Snapshot, directory: Path) -> None:
    """Write index files first and derived.json last (each via temp file + rename): a crash in
    between leaves derived.json naming the old generation, so the next open rebuilds."""
    directory = Path(directory)
    snap.vectors.save(directory / VECTORS_FILE)
    snap.keywords.save(directory)
    checkpoint("index")
    meta = directory / (DERIVED + ".tmp")
    meta.write_text(json.dumps({"generation": snap.generation, "chunks": int(len(snap.chunk_ids))}))
    os.replace(meta, directory / DERIVED)


def saved_generation(directory: Path) -> int | None:
    try:
        return int(json.loads((Path(directory) / DERIVED).read_text())["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load(directory: Path, vectors: type[VectorIndex] = VectorIndex,
         keywords: type[SegmentKeywords] = SegmentKeywords) -> Snapshot | None:
    """The saved snapshot, or None when absent or unreadable (the caller rebuilds). ``vectors`` and
    ``keywords``: the implementations the manifest names (kb/backends.py)."""
    directory = Path(directory)
    gen = saved_generation(directory)
    if gen is None:
        return None
    try:
        snap = Snapshot(gen, keywords.load(directory, gen), vectors.load(directory / VECTORS_FILE))
    except Exception:  # noqa: BLE001 — any damage means "rebuild from the store", never a crash
        return None
    snap.vectors.generation = gen
    if len(snap.vectors) != snap.bm25.n_live:
        return None
    return snap  # BM25 built with other parameters: the caller rebuilds it (see ``current``)


def current(snap: Snapshot | None, generation: int) -> TypeGuard[Snapshot]:
    """Whether ``snap`` can serve the store at ``generation`` as it is: same generation and the
    BM25 parameters of this version (else build() redoes BM25 from the stored tokens, keeping
    the vectors: no re-embedding)."""
    return (snap is not None and snap.generation == snap.vectors.generation == snap.keywords.generation == generation
            and snap.keywords.params == BM25_PARAMS)
