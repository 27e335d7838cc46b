"""Derived indexes kept in Milvus instead of files beside the store (``KB_MILVUS_URI``).

An index created while ``KB_MILVUS_URI`` is set names ``milvus`` as its vector and keyword index
in manifest.json, with its collection. Nothing of the derived indexes is then kept on local disk:
the vectors and the BM25 sparse vectors live in Milvus with a marker of the store generation they
reflect. On open, and after each write, ``sync`` brings them level with the store: chunks the
store holds and Milvus lacks are written (vectors from the embedding cache, tokens from the
store), the others removed, and the marker written last. Which chunks those are comes from the
store's change log since the marker's generation (a write costs what it changed); only a first
fill, or a marker older than the log, compares every chunk id. A crash between the store's commit and
the Milvus write therefore leaves the marker behind, and the next open repairs it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from kb.backends import BackendUnavailable
from kb.embed import Embedder
from kb.manifest import Manifest
from kb.settings import Settings
from kb.store import Store

REMOTE = "milvus"
PAGE = 5_000  # chunks a Milvus write carries
FLUSH_MIN = 1_000  # rows written in one sync above which the new segments are sealed at once


def collection_for(where: str | Path) -> str:
    """A collection name for an index: the folder's (or database's) name, made safe, and a hash of
    its full path (or URL). Kept in the manifest, so every process of the index uses that one."""
    full = where if "://" in str(where) else str(Path(where).resolve())
    name = str(full).rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    stem = re.sub(r"[^A-Za-z0-9_]", "_", name)[:40] or "index"
    return f"kb_{stem}_{hashlib.sha1(str(full).encode()).hexdigest()[:8]}"


def is_remote(manifest: Manifest) -> bool:
    return manifest.vector_index == REMOTE


def open_backends(manifest: Manifest, settings: Settings, directory: str | Path):
    """(MilvusVectors, MilvusKeywords) of this index; refused with what to set when no URI is given."""
    if not settings.milvus_uri:
        raise BackendUnavailable(f"index {directory} keeps its vectors in Milvus (collection "
                                 f"'{manifest.collection}'): set KB_MILVUS_URI to the Milvus endpoint")
    from kb.milvus_keywords import MilvusKeywords
    from kb.milvus_vectors import MilvusVectors
    vectors = MilvusVectors(settings.milvus_uri, manifest.collection, manifest.dim, token=settings.milvus_token)
    keywords = MilvusKeywords(settings.milvus_uri, f"{manifest.collection}_kw", token=settings.milvus_token,
                              **manifest.bm25)
    return vectors, keywords


def _diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[~np.isin(a, b)] if len(a) and len(b) else a


def sync(store: Store, embedder: Embedder, vectors, keywords, full: bool = False) -> int:
    """Bring Milvus level with the store; returns the generation now reflected. Cheap when the
    marker already matches (one query). ``full``: compare every chunk id whatever the marker says
    (`kb check` repairing what went missing some other way)."""
    from kb.indexer import _vectors_for
    generation, marker = store.generation(), vectors.marker()
    if marker == generation and not full:
        vectors.generation = keywords.generation = generation
        return generation
    # a marker ahead of the store (the store restored from an older backup) is not replayed either
    delta = store.changes_since(marker) if 0 <= marker < generation and not full else None
    if delta is not None:  # replay what changed since the marker (idempotent: a crash mid-way replays)
        new_v, gone = delta
        new_k = new_v
        vectors.remove(gone)
        keywords.remove(gone)
    else:  # never filled, or the log does not reach back: compare every id
        ids = store.chunk_ids()
        v_held, k_held = vectors.ids(), keywords.ids()
        vectors.remove(_diff(v_held, ids))
        keywords.remove(_diff(k_held, ids))
        new_v, new_k = _diff(ids, v_held), _diff(ids, k_held)
    page = PAGE
    for i in range(0, len(new_v), page):
        part = new_v[i:i + page]
        scalars = store.chunk_scalars(part.tolist())
        vectors.add(part, _vectors_for(store, embedder, part, store.index_hashes(part)),
                    meta=[scalars[int(c)] for c in part])
    # every page of a fill is normalised by the fill's final average length
    remaining = sum(len(t) for batch in store.chunk_tokens(new_k) for t in batch)
    for i in range(0, len(new_k), page):
        part = new_k[i:i + page]
        tokens = [t for batch in store.chunk_tokens(part) for t in batch]
        remaining -= sum(map(len, tokens))
        keywords.add(part, tokens, pending=(len(new_k) - i - len(part), remaining))
    if len(new_v) + len(new_k) >= FLUSH_MIN:
        vectors.flush()  # seal the new rows: Milvus searches unsealed (growing) segments by brute force
        keywords.flush()
    vectors.set_marker(generation)  # last: a crash before this line is repaired on the next open
    keywords.generation = generation
    return generation


def problems(store: Store, vectors, keywords) -> list[str]:
    """What `kb check` reports for this mode: ids in step with the store, the marker current."""
    out: list[str] = []
    ids = store.chunk_ids()
    for name, held in (("Milvus vectors", vectors.ids()), ("Milvus keywords", keywords.ids())):
        missing, extra = _diff(ids, held), _diff(held, ids)
        if len(missing):
            out.append(f"{len(missing)} chunks missing from the {name} (e.g. {missing[:5].tolist()})")
        if len(extra):
            out.append(f"{len(extra)} ids in the {name} that the store does not hold (e.g. {extra[:5].tolist()})")
    marker, gen = vectors.marker(), store.generation()
    if marker != gen:
        out.append(f"Milvus reflects store generation {marker}, the store is at {gen} (the next open repairs it)")
    return out
