"""BM25 in Milvus as sparse vectors computed by fazhi-kb, so keyword scores behave the same on
milvus-lite and on a Milvus cluster (Milvus's own analyzers differ between the two).

Each chunk's tokens (the same jieba tokens, domain dictionary and expansion as the embedded
index) become a sparse vector: term → tf / (tf + k1 · (1 − b + b · dl / avgdl)), the document side of
Lucene's BM25. A query is term → idf, with the document frequencies this backend keeps in a
second collection, so the inner product Milvus returns is the BM25 score. Terms are addressed
by a 32-bit hash (no shared vocabulary to keep in step between processes); at a million distinct
terms about a hundred pairs collide, and a colliding pair only adds the rarer term's weight to
the other. ``avgdl`` is the one in force when a chunk is written: a later rebuild renormalises.
Writes must come from one process at a time (frequencies are read, then written).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np

from kb.lexical import IDF
from kb.milvus_vectors import _IN_LIST_MAX, _NAME, _client, held_ids

MILVUS = "milvus"
_STATS = -1  # the frequency row that holds (chunks, tokens) in place of (df, -)
KNOWN_MAX = 200_000  # cached term frequencies per process (~30 MB) before the cache starts again


def term_key(term: str) -> int:
    """A term's sparse dimension: 32 bits of its BLAKE2 hash (below Milvus's 2^32 - 1 limit)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little") % 0xFFFF_FFFF


class MilvusKeywords:
    """A KeywordBackend (kb/backends.py) over one Milvus collection of sparse vectors."""

    kind = MILVUS

    def __init__(self, uri: str, collection: str, *, k1: float = 1.2, b: float = 0.4,
                 method: str = "lucene", token: str = "") -> None:
        if not _NAME.match(collection):
            raise ValueError(f"Milvus collection name '{collection}' must be letters, digits and _")
        if method != "lucene":
            raise ValueError(f"the Milvus keyword index scores BM25 the Lucene way, not '{method}'")
        self.collection, self._df = collection, f"{collection}_df"
        self._params: dict = {"k1": k1, "b": b, "method": method}
        self._c = _client(uri, token)
        self._strong = True
        self.generation = -1  # the store generation last synced (the marker lives with the vectors)
        # frequencies read for queries, valid for one generation (a write moves it): a repeated term
        # costs no Milvus query
        self._known: dict[int, tuple[int, int]] = {}
        self._known_gen = -1
        self._ensure()

    @property
    def params(self) -> dict:
        return dict(self._params)

    def _ensure(self) -> None:
        from pymilvus import DataType, MilvusClient
        if not self._c.has_collection(self.collection):
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("chunk_id", DataType.INT64, is_primary=True)
            schema.add_field("terms", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_field("n_tokens", DataType.INT64)
            params = self._c.prepare_index_params()
            params.add_index("terms", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
            self._c.create_collection(self.collection, schema=schema, index_params=params)
        else:
            self._c.load_collection(self.collection)  # a restarted milvus-lite holds it released
        if not self._c.has_collection(self._df):
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("term", DataType.INT64, is_primary=True)
            schema.add_field("df", DataType.INT64)
            schema.add_field("tokens", DataType.INT64)
            schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector in every collection
            params = self._c.prepare_index_params()
            params.add_index("v", index_type="FLAT", metric_type="L2")
            self._c.create_collection(self._df, schema=schema, index_params=params)
        else:
            self._c.load_collection(self._df)

    # -- frequencies ----------------------------------------------------------------------------
    def _freqs(self, keys: list[int]) -> dict[int, tuple[int, int]]:
        out: dict[int, tuple[int, int]] = {}
        for start in range(0, len(keys), _IN_LIST_MAX):
            part = keys[start:start + _IN_LIST_MAX]
            for r in self._c.query(self._df, filter=f"term in {part}", output_fields=["df", "tokens"],
                                   consistency_level="Strong"):
                out[int(r["term"])] = (int(r["df"]), int(r["tokens"]))
        return out

    def _stats(self) -> tuple[int, int]:
        return self._freqs([_STATS]).get(_STATS, (0, 0))

    def _write_freqs(self, delta: Counter, chunks: int, tokens: int) -> None:
        self._known, self._known_gen = {}, -1
        keys = sorted(delta)
        held = self._freqs(keys + [_STATS])
        n, total = held.get(_STATS, (0, 0))
        rows = [{"term": k, "df": max(0, held.get(k, (0, 0))[0] + d), "tokens": 0, "v": [0.0, 0.0]}
                for k, d in delta.items()]
        rows.append({"term": _STATS, "df": max(0, n + chunks), "tokens": max(0, total + tokens), "v": [0.0, 0.0]})
        for start in range(0, len(rows), 1000):
            self._c.upsert(self._df, rows[start:start + 1000])

    # -- writes ---------------------------------------------------------------------------------
    def add(self, ids: np.ndarray, tokens: list[list[str]], pending: tuple[int, int] = (0, 0)) -> None:
        """Index these chunks' tokens. ``pending``: (chunks, tokens) still to come in the same
        fill, so every page of a bulk fill is normalised by the final average length."""
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if len(ids) != len(tokens):
            raise ValueError(f"{len(tokens)} token lists for {len(ids)} chunk ids")
        if not len(ids):
            return
        self.remove(ids)  # a replayed write must not count its frequencies twice
        n, total = self._stats()
        avgdl = (total + sum(map(len, tokens)) + pending[1]) / (n + len(ids) + pending[0])
        k1, b = self._params["k1"], self._params["b"]
        rows: list[dict] = []
        delta: Counter[int] = Counter()
        for cid, toks in zip(ids, tokens, strict=True):
            tf = Counter(term_key(t) for t in toks if t)
            norm = k1 * (1 - b + b * len(toks) / avgdl)
            rows.append({"chunk_id": int(cid), "terms": {k: f / (f + norm) for k, f in tf.items()} or {0: 0.0},
                         "n_tokens": len(toks)})
            delta.update(tf.keys())
        for start in range(0, len(rows), 1000):
            self._c.upsert(self.collection, rows[start:start + 1000])
        self._write_freqs(delta, len(ids), sum(map(len, tokens)))
        self._strong = True

    def remove(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64).ravel()
        delta: Counter[int] = Counter()
        removed = lengths = 0
        for start in range(0, len(ids), _IN_LIST_MAX):
            part = ids[start:start + _IN_LIST_MAX].tolist()
            rows = self._c.query(self.collection, filter=f"chunk_id in {part}",
                                 output_fields=["terms", "n_tokens"], consistency_level="Strong")
            for r in rows:
                delta.update({int(k): -1 for k, w in r["terms"].items() if w > 0})
                lengths += int(r["n_tokens"])
            removed += len(rows)
            if rows:
                self._c.delete(self.collection, filter=f"chunk_id in {[int(r['chunk_id']) for r in rows]}")
        if removed:
            self._write_freqs(delta, -removed, -lengths)
            self._strong = True

    # -- reads ----------------------------------------------------------------------------------
    def count(self) -> int:
        rows = self._c.query(self.collection, filter="", output_fields=["count(*)"], consistency_level="Strong")
        return int(rows[0]["count(*)"])

    def ids(self) -> np.ndarray:
        return held_ids(self._c, self.collection)

    def _query_freqs(self, keys: list[int]) -> dict[int, tuple[int, int]]:
        """Frequencies of these terms and the totals, from the cache when the generation is known."""
        if self.generation < 0:
            return self._freqs(keys)
        if self._known_gen != self.generation or len(self._known) > KNOWN_MAX:
            self._known, self._known_gen = {}, self.generation
        missing = [k for k in keys if k not in self._known]
        if missing:
            got = self._freqs(missing)
            self._known.update((k, got.get(k, (0, 0))) for k in missing)
        return {k: self._known[k] for k in keys}

    def query_vector(self, terms: list[str], weights: Mapping[str, float] | None = None) -> dict[int, float]:
        """term → idf over the chunks held (× its weight, if given); a repeated term counts once,
        as in the embedded index."""
        factor = {term_key(t): float(w) for t, w in (weights or {}).items()}
        keys = list(dict.fromkeys(term_key(t) for t in terms if t))
        freqs = self._query_freqs(keys + [_STATS])
        n = freqs.get(_STATS, (0, 0))[0]
        return {k: factor.get(k, 1.0) * float(IDF["lucene"](freqs[k][0], n))
                for k in keys if k in freqs and freqs[k][0] > 0}

    def doc_freqs(self, terms: Iterable[str]) -> dict[str, int]:
        """Chunks holding each term (terms never seen: 0)."""
        terms = list(dict.fromkeys(terms))
        freqs = self._query_freqs([term_key(t) for t in terms])
        return {t: freqs.get(term_key(t), (0, 0))[0] for t in terms}

    def search(self, terms: list[str], k: int, allowed: np.ndarray | None = None,
               weights: Mapping[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q = self.query_vector(terms, weights)
        if k <= 0 or not q or (allowed is not None and not len(allowed)):
            return empty
        expr, keep = "", None
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64).ravel()
            if len(allowed) <= _IN_LIST_MAX:
                expr = f"chunk_id in {allowed.tolist()}"
            else:
                keep = allowed
        limit = k if keep is None else min(16_384, 4 * k + 100)
        level, self._strong = ("Strong" if self._strong else "Bounded"), False
        hits = self._c.search(self.collection, data=[q], anns_field="terms", limit=limit, filter=expr,
                              output_fields=["chunk_id"], search_params={"metric_type": "IP"},
                              consistency_level=level)[0]
        ids = np.asarray([int(h["chunk_id"]) for h in hits], dtype=np.int64)
        scores = np.asarray([float(h["distance"]) for h in hits], dtype=np.float32)
        good = scores > 0
        if keep is not None:
            good &= np.isin(ids, keep)
        return ids[good][:k], scores[good][:k]

    def flush(self) -> None:
        """Seal what was written, so searches use the index rather than scan growing segments."""
        self._c.flush(self.collection)

    def copy(self) -> MilvusKeywords:
        return self  # shared by every process: there is no private copy

    def drop(self) -> None:
        for name in (self.collection, self._df):
            if self._c.has_collection(name):
                self._c.drop_collection(name)
