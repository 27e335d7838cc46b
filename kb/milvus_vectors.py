"""Chunk vectors in Milvus: the vector index of a scale-out deployment.

One collection per index holds ``chunk_id`` (INT64 primary key, equal to the store's id, no auto id,
so a write can be replayed), the vector (HNSW, inner product) and the scalar fields filters use.
A second, one-row collection keeps the store generation the vectors reflect, the marker a restart
compares with the store to repair a crash between the store's commit and the Milvus write.

``uri`` is a Milvus endpoint (``http://host:19530``) or a local file path, which runs milvus-lite
in this process (tests). Plain searches read with Bounded consistency; the first search after a
write of this handle reads Strong, so a writer finds what it has just added.
"""

from __future__ import annotations

import json
import re

import numpy as np

MILVUS = "milvus"
# Metadata copied beside each vector so filters can run inside Milvus (VARCHAR lengths in bytes).
SCALARS = {"doc_id": 64, "doc_type": 32, "region": 64, "path": 1024}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")
_IN_LIST_MAX = 8192  # larger ``allowed`` sets are filtered after the search instead of in an expression


def _client(uri: str, token: str = ""):
    try:
        from pymilvus import MilvusClient
    except ImportError as e:  # the scale-out extra is not installed
        raise RuntimeError("the Milvus backend needs pymilvus: pip install 'fazhi-kb[milvus]'") from e
    return MilvusClient(uri=uri, token=token) if token else MilvusClient(uri)


def held_ids(client, collection: str) -> np.ndarray:
    """Every chunk id of a collection, ascending (an iterator: no 16,384-row query limit)."""
    it = client.query_iterator(collection, batch_size=10_000, filter="chunk_id >= 0",
                               output_fields=["chunk_id"], consistency_level="Strong")
    out: list[int] = []
    while batch := it.next():
        out.extend(int(r["chunk_id"]) for r in batch)
    it.close()
    return np.asarray(sorted(out), dtype=np.int64)


def literal(value: str) -> str:
    """A string literal for a Milvus filter expression (quotes and backslashes escaped)."""
    return json.dumps(str(value), ensure_ascii=False)


class MilvusVectors:
    """A VectorBackend (kb/backends.py) over one Milvus collection."""

    kind = MILVUS

    # HNSW search breadth. At 100k chunks with vectors fitted to e5's, Recall@10 against exact search
    # was 0.82 at ef 128, 0.91 at 256 and 0.96 at 512 (bench/milvus_scale.py), for a backend p50 of
    # 79 / 81 / 94 ms on milvus-lite: 512 meets the 0.95 the embedded IVF index is held to.
    EF = 512

    def __init__(self, uri: str, collection: str, dim: int, *, token: str = "", ef: int = EF) -> None:
        if not _NAME.match(collection):
            raise ValueError(f"Milvus collection name '{collection}' must be letters, digits and _")
        if dim <= 0:
            raise ValueError(f"vector dimension must be positive, got {dim}")
        self.uri, self.collection, self.dim, self.ef = uri, collection, dim, ef
        self._meta = f"{collection}_meta"
        self._c = _client(uri, token)
        self._strong = True  # until this handle has read once, read what is committed
        self.generation = -1  # the store generation this handle was last brought level with
        self._ensure()

    # -- schema ---------------------------------------------------------------------------------
    def _ensure(self) -> None:
        from pymilvus import DataType, MilvusClient
        if not self._c.has_collection(self.collection):
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("chunk_id", DataType.INT64, is_primary=True)
            for name, length in SCALARS.items():
                schema.add_field(name, DataType.VARCHAR, max_length=length)
            schema.add_field("year", DataType.INT64)
            schema.add_field("vec", DataType.FLOAT_VECTOR, dim=self.dim)
            params = self._c.prepare_index_params()
            params.add_index("vec", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
            for name in ("doc_id", "doc_type", "region"):
                params.add_index(name, index_type="INVERTED")
            self._c.create_collection(self.collection, schema=schema, index_params=params)
        else:
            held = next(f for f in self._c.describe_collection(self.collection)["fields"] if f["name"] == "vec")
            got = int(held["params"]["dim"])
            if got != self.dim:
                raise ValueError(f"Milvus collection '{self.collection}' holds {got}-d vectors, the index's "
                                 f"embedder makes {self.dim}-d: use another collection or re-embed")
            self._c.load_collection(self.collection)  # a restarted milvus-lite holds it released
        if not self._c.has_collection(self._meta):
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("key", DataType.INT64, is_primary=True)
            schema.add_field("generation", DataType.INT64)
            schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector in every collection
            params = self._c.prepare_index_params()
            params.add_index("v", index_type="FLAT", metric_type="L2")
            self._c.create_collection(self._meta, schema=schema, index_params=params)
        else:
            self._c.load_collection(self._meta)

    # -- the generation marker ------------------------------------------------------------------
    def marker(self) -> int:
        """The store generation Milvus holds (-1: never written), read from the server."""
        rows = self._c.query(self._meta, filter="key == 0", output_fields=["generation"],
                             consistency_level="Strong")
        return int(rows[0]["generation"]) if rows else -1

    def set_marker(self, value: int) -> None:
        self._c.upsert(self._meta, [{"key": 0, "generation": int(value), "v": [0.0, 0.0]}])
        self.generation = int(value)

    # -- writes ---------------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray, meta: list[dict] | None = None) -> None:
        """Write vectors under chunk ids (upsert: replaying a write is harmless). ``meta`` gives
        each chunk's scalar fields (doc_id, doc_type, region, path, year) for filters in Milvus."""
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if not len(ids):
            return
        vecs = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        if vecs.shape[1] != self.dim:
            raise ValueError(f"vectors must be {self.dim}-d, got {vecs.shape[1]}")
        if len(np.unique(ids)) != len(ids):
            raise ValueError("repeated vector ids in one write")
        meta = meta or [{} for _ in ids]
        rows = [{"chunk_id": int(i), "vec": v.tolist(), "year": int(m.get("year") or 0),
                 **{k: str(m.get(k) or "")[: SCALARS[k] // 4] for k in SCALARS}}
                for i, v, m in zip(ids, vecs, meta, strict=True)]
        for start in range(0, len(rows), 1000):
            self._c.upsert(self.collection, rows[start:start + 1000])
        self._strong = True

    def remove(self, ids: np.ndarray) -> int:
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if not len(ids):
            return 0
        held = self._held(ids)
        for start in range(0, len(held), _IN_LIST_MAX):
            part = held[start:start + _IN_LIST_MAX]
            self._c.delete(self.collection, filter=f"chunk_id in {part}")
        self._strong = True
        return len(held)

    def _held(self, ids: np.ndarray) -> list[int]:
        out: list[int] = []
        for start in range(0, len(ids), _IN_LIST_MAX):
            part = ids[start:start + _IN_LIST_MAX].tolist()
            rows = self._c.query(self.collection, filter=f"chunk_id in {part}", output_fields=["chunk_id"],
                                 consistency_level="Strong")
            out.extend(int(r["chunk_id"]) for r in rows)
        return out

    # -- reads ----------------------------------------------------------------------------------
    def _level(self) -> str:
        level, self._strong = ("Strong" if self._strong else "Bounded"), False
        return level

    def count(self) -> int:
        rows = self._c.query(self.collection, filter="", output_fields=["count(*)"], consistency_level="Strong")
        return int(rows[0]["count(*)"])

    def __len__(self) -> int:
        return self.count()

    def ids(self) -> np.ndarray:
        return held_ids(self._c, self.collection)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None,
               expr: str = "") -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids and inner products of the ``k`` nearest, best first, among ``allowed`` ids
        and rows matching the filter expression ``expr`` when given."""
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if q.shape[0] != self.dim:
            raise ValueError(f"query must be {self.dim}-d, got {q.shape[0]}")
        if k <= 0 or (allowed is not None and not len(allowed)):
            return empty
        keep = None
        clauses = [f"({expr})"] if expr else []
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64).ravel()
            k = min(k, len(allowed))
            if len(allowed) <= _IN_LIST_MAX:
                clauses.append(f"chunk_id in {allowed.tolist()}")
            else:
                keep = allowed
        limit = k if keep is None else min(16_384, 4 * k + 100)
        hits = self._c.search(self.collection, data=[q.tolist()], anns_field="vec", limit=limit,
                              filter=" and ".join(clauses), output_fields=["chunk_id"],
                              search_params={"metric_type": "IP", "params": {"ef": max(self.ef, limit)}},
                              consistency_level=self._level())[0]
        ids = np.asarray([int(h["chunk_id"]) for h in hits], dtype=np.int64)
        scores = np.asarray([float(h["distance"]) for h in hits], dtype=np.float32)
        if keep is not None:
            mask = np.isin(ids, keep)
            ids, scores = ids[mask][:k], scores[mask][:k]
        return ids, scores

    def flush(self) -> None:
        """Seal what was written, so searches use the index rather than scan growing segments."""
        self._c.flush(self.collection)

    def copy(self) -> MilvusVectors:
        """The same collection: Milvus is shared by every process, so there is no private copy."""
        return self

    def drop(self) -> None:
        """Remove both collections (tests, `kb ingest --rebuild`)."""
        for name in (self.collection, self._meta):
            if self._c.has_collection(name):
                self._c.drop_collection(name)
