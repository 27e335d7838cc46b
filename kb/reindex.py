"""`kb reindex --embedder NAME`: the same index searched with another embedder, no re-ingest.

The stored chunk texts are embedded again (their index text: title, section path, text) into
the store's embedding cache, keyed by (embedder, text hash): an interrupted run resumes where it
stopped, and switching back to an embedder used before embeds nothing. Then, under the writer
locks: derived.json goes first (so a crash from here on leaves an index that is rebuilt from the
store and the cache on open, whatever the manifest names), the manifest names the new embedder,
and the FAISS vectors are rebuilt from the cache; BM25 is kept as it is. An index kept in Milvus
gets its vector collection made again from the cache the same way (``_switch_milvus``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kb import formulations, indexer
from kb.embed import Embedder, get_embedder
from kb.errors import InvalidInput
from kb.manifest import package_version
from kb.vectors import VectorIndex

if TYPE_CHECKING:
    from kb.core import KnowledgeBase


@dataclass
class ReindexSummary:
    embedder: str
    previous: str
    chunks: int
    embedded: int  # texts embedded now (the rest came from the cache)
    seconds: float

    def line(self) -> str:
        return (f"reindexed {self.chunks} chunks with {self.embedder} (was {self.previous}): "
                f"{self.embedded} embedded, {self.chunks - self.embedded} from the cache, {self.seconds:.1f} s")


def reindex(kb: KnowledgeBase, embedder: str | Embedder,
            progress: Callable[[int, int], None] | None = None) -> ReindexSummary:
    try:
        new = embedder if isinstance(embedder, Embedder) else get_embedder(embedder)
    except (ValueError, FileNotFoundError) as e:
        raise InvalidInput(f"cannot reindex with embedder {embedder!r}: {e}") from e
    t0 = time.time()
    previous = kb.manifest.embedder
    # the long part runs outside the writer locks: a write meanwhile only adds chunks to embed below
    ids = kb.store.chunk_ids()
    texts = [indexer.index_text(title, json.loads(sec), text)
             for title, sec, text in kb.store.chunk_index_parts([int(i) for i in ids])]
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if progress:
            progress(done[0], len(texts))
    embedded = indexer.embed_missing(kb.store, new, texts, kb.settings.embed_batch, step)
    # the phrase bridge's phrases too, so that no search embeds them (kb/formulations.py)
    indexer.embed_missing(kb.store, new, formulations.mine(pair for page in kb.store.chunk_texts() for pair in page),
                          kb.settings.embed_batch)
    if kb.remote:
        _switch_milvus(kb, new)
        return ReindexSummary(new.name, previous, len(ids), embedded, time.time() - t0)
    snap = kb.snapshot()
    with kb._write_lock, kb.store.ingest_lock():
        (kb.dir / indexer.DERIVED).unlink(missing_ok=True)
        kb.manifest = replace(kb.manifest, embedder=new.name, dim=new.dim, package_version=package_version())
        kb.save_manifest()
        kb.use_embedder(new)
        if indexer.current(snap, kb.store.generation()):
            ids = kb.store.chunk_ids()
            vectors = (VectorIndex.build(ids, indexer._vectors_for(kb.store, new, ids, kb.store.index_hashes(ids)),
                                         flat_max=kb.settings.flat_max) if len(ids) else VectorIndex.empty(new.dim))
            vectors.generation = snap.generation
            fresh = indexer.Snapshot(snap.generation, snap.keywords, vectors)
        else:  # another process wrote meanwhile: build everything (chunks it added are embedded here)
            fresh = indexer.build(kb.store, new, None, kb.settings.flat_max)
        indexer.save(fresh, kb.dir)
        kb._record(fresh)
        kb._snap = fresh
    return ReindexSummary(new.name, previous, len(ids), embedded, time.time() - t0)


def _switch_milvus(kb: KnowledgeBase, new: Embedder) -> None:
    """Milvus mode: the vector collection is dropped first, so a crash at any later point leaves an
    empty collection that the next open fills from the cache for whichever embedder the manifest
    then names; the keyword collection is kept as it is."""
    from kb import remote_index
    assert kb.remote is not None
    with kb._write_lock, kb.store.ingest_lock():
        kb.remote[0].drop()
        kb.manifest = replace(kb.manifest, embedder=new.name, dim=new.dim, package_version=package_version())
        kb.save_manifest()
        kb.use_embedder(new)
        kb.remote = remote_index.open_backends(kb.manifest, kb.settings, kb.where)
        kb._snap = kb._remote_snapshot()
