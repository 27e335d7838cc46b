"""Milvus mode at scale: the embedded index (FAISS + BM25 files) against Milvus mode (milvus-lite
in this process, a local file as ``KB_MILVUS_URI``) on the same synthetic store of N chunks.

    python -m bench.milvus_scale --source indexes/eval --sizes 100000   # --work: fazhi-milvus-scale in the temp dir

Per size: the Milvus fill from a store whose embedding cache is already full (``remote_index.sync``,
so no embedding is timed), hybrid / dense / lexical latency in both modes over the same queries,
dense Recall@10 of Milvus HNSW against exact search, one write (ingest + remove of a real law)
in both modes, and the process's RSS after opening each. Each of these runs in a fresh process
(milvus-lite locks its data folder to one process). The synthetic store is bench/synth.py's with
one change: every chunk gets its own index hash and cached random unit vector, so the vectors
Milvus is filled with are the ones the embedded FAISS index holds. Results go to
bench/results/milvus_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import latency, scale, synth
from bench.measure import DEV_SET, SHARED, log, percentiles, rss_mb, save_result, scratch
from bench.queries import load_queries

ROOT = Path(__file__).resolve().parent.parent
MILVUS_DB = "milvus.db"  # beside the index folders of one size; the .db suffix selects milvus-lite
EFS = (64, 128, 256, 512, 1024)  # HNSW search-time ef swept for recall (the backend's default: 512)


def own_vectors(store: Path, vecs: np.ndarray, embedder: str) -> dict:
    """Give chunk i (id i + 1) the index hash ``synthetic-i`` and cache ``vecs[i]`` under it, so a
    Milvus fill from this store reads the same vectors the synthetic FAISS index was built from
    (the replicated chunks otherwise share their source's hash, hence one cached vector)."""
    t0 = time.perf_counter()
    con = sqlite3.connect(store, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")  # a throw-away benchmark artifact
    con.execute("BEGIN")
    con.execute("UPDATE chunks SET index_hash = 'synthetic-' || (chunk_id - 1)")
    for i in range(0, len(vecs), 50_000):
        con.executemany("INSERT OR REPLACE INTO embeddings VALUES (?,?,?)",
                        ((embedder, f"synthetic-{j}", vecs[j].tobytes()) for j in range(i, min(i + 50_000, len(vecs)))))
    con.execute("COMMIT")
    con.close()
    return {"cache_fill_s": round(time.perf_counter() - t0, 2)}


def copy_store(src: Path, dst: Path) -> None:
    """Only the store of an index (through SQLite's backup API): Milvus mode derives the rest."""
    dst.mkdir(parents=True)
    a, b = sqlite3.connect(f"file:{src}?mode=ro", uri=True), sqlite3.connect(dst / "store.sqlite")
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


# -- what runs in a fresh process ----------------------------------------------------------------
def time_syncs() -> list[float]:
    """Time every ``remote_index.sync`` (where KnowledgeBase brings Milvus level with the store)."""
    from kb import remote_index

    spent: list[float] = []
    sync = remote_index.sync

    def timed(*a, **kw):
        t0 = time.perf_counter()
        try:
            return sync(*a, **kw)
        finally:
            spent.append(time.perf_counter() - t0)

    remote_index.sync = timed
    return spent


def fill(index_dir: Path, embedder_name: str) -> dict:
    """Open a store without derived indexes under KB_MILVUS_URI: Milvus is filled from the store
    (vectors from the embedding cache, BM25 sparse vectors from the stored tokens)."""
    from kb.core import KnowledgeBase
    from kb.embed import get_embedder

    spent = time_syncs()
    t0 = time.perf_counter()
    kb = KnowledgeBase(index_dir, embedder=get_embedder(embedder_name))
    assert kb.remote is not None, "KB_MILVUS_URI is not set for the fill"
    kb.snapshot()
    wall = time.perf_counter() - t0
    n = int(len(kb.store.chunk_ids()))
    rec = {"chunks": n, "vectors_held": kb.remote[0].count(), "keywords_held": kb.remote[1].count(),
           "sync_s": round(spent[0], 1), "open_and_fill_s": round(wall, 1),
           "chunks_per_s": round(n / spent[0], 1), "texts_embedded": kb.embedder.texts_embedded, **rss_mb()}
    kb.close()
    rec["index_build_after_s"] = drain()
    return rec


def drain() -> float:
    """Seconds until milvus-lite's background work (compaction, HNSW builds of the segments a
    flush sealed) is done: it runs after ``sync`` returns, and stopping the server waits for it."""
    from milvus_lite.server_manager import server_manager_instance

    t0 = time.perf_counter()
    server_manager_instance.release_all()
    return round(time.perf_counter() - t0, 1)


def measure(index_dir: Path, queries: list[str], n: int) -> dict:
    """RSS after opening, per-mode latency, and (Milvus mode) dense Recall@10 against exact search."""
    rec: dict = {"rss_before_open": rss_mb()["rss_mb"]}
    t0 = time.perf_counter()
    kb, emb = latency.open_kb(index_dir)
    snap = kb.snapshot()
    rec["open_s"] = round(time.perf_counter() - t0, 2)
    rec["rss_after_open"] = rss_mb()["rss_mb"]
    rec["vector_kind"] = snap.vectors.kind
    rec["query_embedding"] = latency.query_embedding(emb.inner, queries)  # loads the model
    rec["rss_after_model"] = rss_mb()["rss_mb"]
    rec["latency"] = latency.mode_latency(kb, emb, queries)
    rec["rss_after_queries"] = rss_mb()["rss_mb"]
    if kb.remote:
        rec["recall"] = dense_recall(kb.remote[0], synth.random_unit(n, emb.dim), emb.inner.embed_batch(queries, "query"))
        log(f"  Milvus HNSW dense: {rec['recall']}")
    rec.update(peak_rss_mb=rss_mb()["peak_rss_mb"])
    kb.close()
    return rec


def dense_recall(vectors, vecs: np.ndarray, qvecs: np.ndarray, efs=EFS, k: int = 10) -> dict:
    """Recall@k of Milvus HNSW against exact inner-product search (bench/scale.py's exact_top) per
    search-time ef, with the backend call's own latency; ``default_ef`` is what search uses."""
    truth = scale.exact_top(vecs, qvecs, k) + 1  # chunk ids are row + 1
    default, rows = vectors.ef, []
    for ef in efs:
        vectors.ef = ef
        hits, times = 0, []
        for q, t in zip(qvecs, truth, strict=True):
            t0 = time.perf_counter()
            ids, _ = vectors.search(q, k)
            times.append(time.perf_counter() - t0)
            hits += len(set(ids.tolist()) & set(t.tolist()))
        rows.append({"ef": ef, "recall@10": round(hits / truth.size, 4), **percentiles(times)})
        log(f"  ef {ef}: recall@10 {rows[-1]['recall@10']}, p50 {rows[-1]['p50_ms']} ms")
    vectors.ef = default
    return {"default_ef": default, "sweep": rows}


def e5fit_recall(work: Path, src: synth.Source, n: int, queries: list[str]) -> dict:
    """The same sweep on vectors drawn from a Gaussian fitted to the real e5 vectors (bench/synth.py):
    isotropic random vectors are HNSW's hardest case, real embeddings are not."""
    from kb.embed import get_embedder
    from kb.milvus_vectors import MilvusVectors

    if src.vectors is None:
        raise ValueError("--e5fit needs the source index's cached vectors, and some are missing")
    vecs = synth.e5_fit(n, src.vectors)
    mv = MilvusVectors(str(work / "e5fit.db"), "e5fit", src.dim)
    t0 = time.perf_counter()
    for i in range(0, n, 5_000):
        mv.add(np.arange(i + 1, min(i + 5_000, n) + 1), vecs[i:i + 5_000])
    mv.flush()
    rec: dict = {"vectors_only_fill_s": round(time.perf_counter() - t0, 1), "index_build_after_s": drain()}
    mv = MilvusVectors(str(work / "e5fit.db"), "e5fit", src.dim)  # the indexes built: measure those
    rec.update(dense_recall(mv, vecs, get_embedder(src.embedder).embed_batch(queries, "query")))
    return rec


def write(index_dir: Path, corpus: Path) -> dict:
    """bench/scale.py's one-write cost; in Milvus mode the Milvus sync of each step is timed too
    (calls: the open, the ingest, the remove)."""
    spent = time_syncs()
    rec = scale.write_cost(index_dir, corpus)
    if spent:
        rec["milvus_sync_s"] = [round(x, 2) for x in spent]
    return rec


# -- the driver ----------------------------------------------------------------------------------
def child(kind: str, index_dir: Path, args, milvus_uri: str = "", n: int = 0) -> dict:
    """Run one measurement in a fresh process; KB_MILVUS_URI set only for Milvus mode."""
    env = {k: v for k, v in os.environ.items() if k != "KB_MILVUS_URI"}
    if milvus_uri:
        env["KB_MILVUS_URI"] = milvus_uri
    cmd = [sys.executable, "-m", "bench.milvus_scale", "--child", kind, str(index_dir), "--n", str(n),
           "--source", str(args.source), "--dev", str(args.dev), "--queries", str(args.queries),
           "--corpus", str(args.corpus), "--embedder", args.embedder]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    if out.returncode:
        raise RuntimeError(f"{kind} in {index_dir} failed (exit {out.returncode}); its log is above")
    rec = json.loads(out.stdout.strip().splitlines()[-1])  # the last line: the record
    label = f"{kind} ({'milvus' if milvus_uri else 'embedded'})" if kind in ("measure", "write") else kind
    log(f"  {label} in {time.perf_counter() - t0:.0f} s: "
        f"{ {k: v for k, v in rec.items() if k not in ('latency', 'query_embedding')} }")
    return rec


def run_size(src: synth.Source, n: int, args) -> dict:
    out = args.work / f"n{n}"
    emb_dir, mil_dir, uri = out / "embedded", out / "milvus", str(out / MILVUS_DB)
    if out.exists():
        shutil.rmtree(out)
    log(f"building synthetic index of {n} chunks in {out}")
    build, vecs = synth.build_index(src, n, emb_dir, "random", args.flat_max)
    build.update(own_vectors(emb_dir / "store.sqlite", vecs, src.embedder))
    del vecs
    copy_store(emb_dir / "store.sqlite", mil_dir)
    rec: dict = {"build": build}
    log("Milvus fill from the store (embedding cache full)")
    rec["fill"] = child("fill", mil_dir, args, uri, n)
    rec["fill"]["milvus_db_mb"] = round(synth._size(out / MILVUS_DB) / 2**20, 1)
    for mode, d, u in (("embedded", emb_dir, ""), ("milvus", mil_dir, uri)):
        log(f"{mode}: open, latency{', recall' if u else ''}")
        rec[mode] = child("measure", d, args, u, n)
        log(f"{mode}: one write")
        rec[mode]["write"] = child("write", d, args, u, n)
    if args.e5fit:
        log("Milvus HNSW recall on e5-fitted vectors (a vectors-only collection)")
        rec["recall_e5fit"] = child("e5fit", out, args, "", n)
    if not args.keep:
        shutil.rmtree(out)
    return rec


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", type=Path, default=ROOT / "indexes/eval", help="real index to replicate")
    p.add_argument("--sizes", default="100000", help="synthetic sizes (chunks), comma-separated")
    p.add_argument("--work", type=Path, default=scratch("fazhi-milvus-scale"), help="scratch folder")
    p.add_argument("--dev", type=Path, default=DEV_SET)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--flat-max", type=int, default=200_000, help="embedded: IVF-SQ8 above this many chunks")
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus", help="where the write finds its law")
    p.add_argument("--e5fit", action="store_true", help="also sweep HNSW recall on e5-fitted vectors")
    p.add_argument("--keep", action="store_true", help="keep the synthetic indexes and the Milvus data")
    p.add_argument("--name", default="milvus_scale", help="result file name under bench/results/")
    p.add_argument("--child", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)  # internal
    p.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--embedder", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        kind, d = args.child[0], Path(args.child[1])
        if kind == "fill":
            rec = fill(d, args.embedder)
        elif kind == "e5fit":
            rec = e5fit_recall(d, synth.load_source(args.source), args.n,
                               load_queries(args.dev, args.source / "store.sqlite", args.queries))
        elif kind == "measure":
            rec = measure(d, load_queries(args.dev, args.source / "store.sqlite", args.queries), args.n)
        else:
            rec = write(d, args.corpus)
        sys.stdout.write("\n" + json.dumps(rec) + "\n")
        return
    args.work.mkdir(parents=True, exist_ok=True)
    # everything reads a private copy of the source index, never the original
    args.source = synth.copy_index(args.source, args.work / "source")
    queries = load_queries(args.dev, args.source / "store.sqlite", args.queries)
    src = synth.load_source(args.source)
    args.embedder = src.embedder
    log(f"{len(queries)} queries; source: {len(src.chunks)} chunks, {len(src.docs)} documents")
    result: dict = {"queries": len(queries), "source_chunks": len(src.chunks), "sizes": {}}
    for n in (int(s) for s in args.sizes.split(",") if s.strip()):
        t0 = time.perf_counter()
        result["sizes"][str(n)] = run_size(src, n, args)
        result["sizes"][str(n)]["wall_s"] = round(time.perf_counter() - t0, 1)
        save_result(args.name, result)


if __name__ == "__main__":
    main()
