"""Synthetic large indexes for the scale benchmark, built from a real index by replication.

The lexical side is real: the source's chunks (text, BM25 token lists, sections, metadata) are
copied R times under new document paths ``synthetic/<copy>/<path>``, so term statistics,
posting-list lengths and near-duplicate rates are those of the real corpus times R. The dense
side cannot be embedded at this size here, so it is random unit vectors (isotropic), or
vectors drawn from a Gaussian fitted to the real e5 vectors (``e5fit``: same mean and
covariance, so the anisotropy of e5 space is kept). Document texts are left empty: search
never reads them. The result is an ordinary index folder that ``KnowledgeBase`` and
``kb serve`` open without rebuilding anything.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.measure import log, rss_mb

DOC_COLS = ("doc_id", "path", "title", "doc_type", "region", "date", "year", "issuer", "doc_number",
            "source_format", "content_hash")
CHUNK_COLS = ("doc_id", "ord", "section", "pos_start", "pos_end", "page", "text", "index_hash", "tokens")


@dataclass
class Source:
    docs: dict[str, tuple]  # doc_id -> DOC_COLS values
    chunks: list[tuple]  # CHUNK_COLS values, in chunk-id order
    vectors: np.ndarray | None  # e5 vectors aligned with chunks; None if the cache lacks some
    embedder: str
    dim: int

    @property
    def token_lists(self) -> list[list[str]]:
        return [c[-1].split(" ") if c[-1] else [] for c in self.chunks]


def load_source(index_dir: Path) -> Source:
    """Chunks, documents and cached vectors of a real index folder (read-only)."""
    index_dir = Path(index_dir)
    store = index_dir / "store.sqlite"
    if not store.is_file():
        raise FileNotFoundError(f"no index store at {store} (build the eval index first)")
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        docs = {r[0]: r for r in con.execute(f"SELECT {', '.join(DOC_COLS)} FROM documents")}
        chunks = con.execute(f"SELECT {', '.join(CHUNK_COLS)} FROM chunks ORDER BY chunk_id").fetchall()
        cache = {h: np.frombuffer(v, dtype=np.float32) for h, v in con.execute(
            "SELECT hash, vec FROM embeddings WHERE embedder = ?", (manifest["embedder"],))}
    finally:
        con.close()
    if not chunks:
        raise ValueError(f"index {index_dir} has no chunks")
    hashes = [c[7] for c in chunks]
    vectors = np.vstack([cache[h] for h in hashes]) if all(h in cache for h in hashes) else None
    return Source(docs, chunks, vectors, manifest["embedder"], int(manifest["dim"]))


def random_unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Isotropic random unit vectors, generated in blocks to bound temporary memory."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for i in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - i), dim), dtype=np.float32)
        out[i:i + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def e5_fit(n: int, real: np.ndarray, seed: int = 0) -> np.ndarray:
    """Unit vectors from a Gaussian with the mean and covariance of real e5 vectors."""
    rng = np.random.default_rng(seed)
    real = np.asarray(real, dtype=np.float64)
    mean = real.mean(axis=0)
    chol = np.linalg.cholesky(np.cov(real, rowvar=False) + 1e-6 * np.eye(real.shape[1]))
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for i in range(0, n, 100_000):
        z = rng.standard_normal((min(100_000, n - i), real.shape[1]))
        block = mean + z @ chol.T
        out[i:i + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _write_store(src: Source, n: int, out: Path) -> None:
    from kb.store import Store, doc_id_for

    Store(out / "store.sqlite").close()  # creates the schema
    con = sqlite3.connect(out / "store.sqlite", isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")  # a throw-away benchmark artifact: speed over durability
    m = len(src.chunks)
    copies = math.ceil(n / m)
    con.execute("BEGIN")
    for c in range(copies):
        count = min(m, n - c * m)
        ids: dict[str, str] = {}
        for doc_id in dict.fromkeys(ch[0] for ch in src.chunks[:count]):
            d = src.docs[doc_id]
            path = f"synthetic/{c:04d}/{d[1]}"
            ids[doc_id] = doc_id_for(path)
            # columns named: those added to the schema later keep their defaults
            con.execute(f"INSERT INTO documents ({', '.join(DOC_COLS)}, text, pages, ingested_at)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,'','[]','synthetic')", (ids[doc_id], path, *d[2:]))
        con.executemany(
            "INSERT INTO chunks (chunk_id, doc_id, ord, section, pos_start, pos_end, page, text, index_hash, tokens)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            ((c * m + i + 1, ids[ch[0]], *ch[1:]) for i, ch in enumerate(src.chunks[:count])))
        if c % 10 == 9 or c == copies - 1:
            log(f"  store: copy {c + 1}/{copies}")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'generation'")
    con.execute("COMMIT")
    con.close()


def build_index(src: Source, n: int, out: Path, vectors: str = "random", flat_max: int = 200_000,
                seed: int = 0) -> tuple[dict, np.ndarray]:
    """Write a synthetic index of ``n`` chunks to ``out``; returns (build record, its float32 vectors)."""
    from kb import indexer
    from kb.keywords import SegmentKeywords
    from kb.lexical import BM25Index
    from kb.manifest import BM25_PARAMS, Manifest
    from kb.vectors import VectorIndex

    out = Path(out)
    if (out / "store.sqlite").exists():
        raise FileExistsError(f"{out} already holds an index; remove it or pick another --work folder")
    out.mkdir(parents=True, exist_ok=True)
    rec: dict = {"chunks": n, "copies": math.ceil(n / len(src.chunks)), "vectors": vectors}
    t0 = time.perf_counter()
    _write_store(src, n, out)
    rec["store_write_s"] = round(time.perf_counter() - t0, 2)
    log(f"  store written in {rec['store_write_s']} s")

    toks = src.token_lists
    t0 = time.perf_counter()
    bm25 = BM25Index.build([toks[i % len(toks)] for i in range(n)], **BM25_PARAMS)
    rec["bm25_build_s"] = round(time.perf_counter() - t0, 2)
    log(f"  BM25 built in {rec['bm25_build_s']} s; {rss_mb()}")

    if vectors == "random":
        vecs = random_unit(n, src.dim, seed)
    elif vectors == "e5fit":
        if src.vectors is None:
            raise ValueError("e5fit needs the source index's cached vectors, and some are missing")
        vecs = e5_fit(n, src.vectors, seed)
    else:
        raise ValueError(f"vectors must be 'random' or 'e5fit', not {vectors!r}")
    ids = np.arange(1, n + 1, dtype=np.int64)
    t0 = time.perf_counter()
    vindex = VectorIndex.build(ids, vecs, flat_max=flat_max)
    rec["vectors_build_s"] = round(time.perf_counter() - t0, 2)
    rec["vector_kind"], rec["nprobe_default"] = vindex.kind, vindex.nprobe
    log(f"  {vindex.kind} vectors built in {rec['vectors_build_s']} s")

    t0 = time.perf_counter()
    indexer.save(indexer.Snapshot(1, SegmentKeywords(ids, bm25, 1), vindex), out)
    Manifest(embedder=src.embedder, dim=src.dim, vector_index=vindex.kind).save(out)
    rec["save_s"] = round(time.perf_counter() - t0, 2)
    rec["files_mb"] = {p.name: round(_size(p) / 2**20, 1) for p in sorted(out.iterdir())}
    rec["builder"] = rss_mb()
    log(f"  saved in {rec['save_s']} s; files {rec['files_mb']}")
    return rec, vecs


def copy_index(src: Path, dst: Path) -> Path:
    """A private copy of an index folder (SQLite through its backup API, so a copy taken while
    someone else writes is still consistent); benchmarks never touch the original."""
    src, dst = Path(src), Path(dst)
    if not (src / "store.sqlite").is_file():
        raise FileNotFoundError(f"no index store at {src / 'store.sqlite'}")
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for p in src.iterdir():
        if p.name == "bm25":
            shutil.copytree(p, dst / p.name)
        elif p.is_file() and p.suffix in (".json", ".faiss", ".npy"):
            shutil.copy2(p, dst / p.name)
    a = sqlite3.connect(f"file:{src / 'store.sqlite'}?mode=ro", uri=True)
    b = sqlite3.connect(dst / "store.sqlite")
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()
    return dst


def _size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size
