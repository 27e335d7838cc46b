"""Scale benchmark: query latency per mode at the eval index (~10k chunks) and at synthetic
100k / 1M-chunk indexes, IVF-SQ8 recall@10 against exact search with an nprobe sweep, the cost
of one write (ingest + remove of a real law), and a memory breakdown of a freshly opened index.

    python -m bench.scale --source indexes/eval --sizes 100000,1000000   # --work: fazhi-scale in the temp dir

Synthetic indexes replicate the source's chunks and token lists and use random unit vectors
for the dense side (see bench/synth.py). Results go to bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import latency, synth
from bench.measure import DEV_SET, SHARED, log, percentiles, rss_mb, save_result, scratch
from bench.queries import load_queries

ROOT = Path(__file__).resolve().parent.parent
NPROBES = (16, 32, 64, 128, 256, 512, 1024, 2048)
TARGET_RECALL = 0.95
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "scale.json"


def exact_top(vecs: np.ndarray, qvecs: np.ndarray, k: int = 10) -> np.ndarray:
    """Row numbers of the exact top-k by inner product, per query (blocked matrix product)."""
    best_s = np.full((len(qvecs), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(qvecs), k), dtype=np.int64)
    for i in range(0, len(vecs), 200_000):
        s = qvecs @ vecs[i:i + 200_000].T
        cand = np.argpartition(-s, k - 1, axis=1)[:, :k]
        cs = np.take_along_axis(s, cand, axis=1)
        all_s, all_i = np.hstack([best_s, cs]), np.hstack([best_i, cand + i])
        keep = np.argsort(-all_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(all_s, keep, axis=1), np.take_along_axis(all_i, keep, axis=1)
    return best_i


def recall_sweep(vindex, vecs: np.ndarray, qvecs: np.ndarray, nprobes=NPROBES, k: int = 10,
                 pool: int = 100) -> list[dict]:
    """recall@k of the IVF index against exact search, and its search latency, per nprobe; also
    the share of the exact top-k found among the IVF's first ``pool`` (what search fuses: 100)."""
    truth = exact_top(vecs, qvecs, k) + 1  # the synthetic ids are row + 1
    default = vindex.nprobe
    rows = []
    for nprobe in nprobes:
        vindex.nprobe = nprobe
        if vindex.nprobe != nprobe:  # more than nlist
            break
        hits, in_pool, times = 0, 0, []
        for q, t in zip(qvecs, truth, strict=True):
            t0 = time.perf_counter()
            ids, _ = vindex.search(q, k)
            times.append(time.perf_counter() - t0)
            hits += len(set(ids.tolist()) & set(t.tolist()))
            in_pool += len(set(vindex.search(q, pool)[0].tolist()) & set(t.tolist()))
        rows.append({"nprobe": nprobe, "recall@10": round(hits / truth.size, 4),
                     f"recall10@{pool}": round(in_pool / truth.size, 4), **percentiles(times)})
        log(f"  nprobe {nprobe}: recall@10 {rows[-1]['recall@10']}, p50 {rows[-1]['p50_ms']} ms")
    vindex.nprobe = default
    return rows


def tuned_nprobe(rows: list[dict]) -> int | None:
    return next((r["nprobe"] for r in rows if r["recall@10"] >= TARGET_RECALL), None)


WRITE_DOC = "laws/全国/行政法/公证法(2017-09-01).md"  # a real law (15 kB), under ../shared/corpus


def write_cost(index_dir: Path, corpus: Path) -> dict:
    """Run in a fresh process: what one write costs at this size. Ingests one real document
    (``kb.ingest_bytes``, as an upload to the server does) and then removes it; the snapshot
    update (indexer.build + save) is timed apart from embedding, and the peak RSS is the
    process's VmHWM after each step."""
    from kb import indexer

    spent = {"build": 0.0, "save": 0.0}

    def timed(name, fn):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[name] += time.perf_counter() - t0
        return wrapper

    indexer.build, indexer.save = timed("build", indexer.build), timed("save", indexer.save)
    kb, _ = latency.open_kb(index_dir)
    t0 = time.perf_counter()
    kb.snapshot()
    rec: dict = {"open_s": round(time.perf_counter() - t0, 2), "after_open": rss_mb()}
    path = corpus / WRITE_DOC
    if not path.is_file():
        raise FileNotFoundError(f"write benchmark document not found: {path}")
    before = kb.embedder.texts_embedded
    t0 = time.perf_counter()
    summary = kb.ingest_bytes([(f"bench-write/{path.name}", path.read_bytes())])
    rec["ingest"] = {"wall_s": round(time.perf_counter() - t0, 2), "texts_embedded": kb.embedder.texts_embedded - before,
                     "index_update_s": round(spent["build"], 2), "index_save_s": round(spent["save"], 2),
                     "ok": summary.ingested == [f"bench-write/{path.name}"], **rss_mb()}
    spent.update(build=0.0, save=0.0)
    t0 = time.perf_counter()
    removed = kb.remove(f"bench-write/{path.name}")
    rec["remove"] = {"wall_s": round(time.perf_counter() - t0, 2), "index_update_s": round(spent["build"], 2),
                     "index_save_s": round(spent["save"], 2), "ok": removed, **rss_mb()}
    snap = kb.snapshot()
    if not snap.remote:  # Milvus mode (bench/milvus_scale.py) keeps no BM25 segments here
        rec["bm25_segments"], rec["bm25_tombstones"] = len(snap.bm25.segments), len(snap.bm25) - snap.bm25.n_live
    kb.close()
    return rec


def run_write_cost(index_dir: Path, args) -> dict:
    cmd = [sys.executable, "-m", "bench.scale", "--write-cost", str(index_dir), "--corpus", str(args.corpus)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"write benchmark failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def breakdown(index_dir: Path, queries: list[str]) -> dict:
    """Run in a fresh process: RSS after each part of an index is loaded, and the sizes of the
    arrays themselves (vectors as stored vs float32, BM25 matrix, chunk ids, SQLite cache)."""
    import faiss

    from kb.lexical import BM25Index
    from kb.vectors import VectorIndex

    steps = {"imports": rss_mb()["rss_mb"]}
    v = VectorIndex.load(index_dir / "vectors.faiss")
    steps["+ vectors"] = rss_mb()["rss_mb"]
    b = BM25Index.load(index_dir / "bm25")
    steps["+ bm25"] = rss_mb()["rss_mb"]
    ids = np.load(index_dir / "chunk_ids.npy")
    steps["+ chunk ids"] = rss_mb()["rss_mb"]
    del v, b
    kb, emb = latency.open_kb(index_dir)
    for mode in latency.MODES:
        for q in queries:
            kb.search(q, k=10, mode=mode)
    steps["KnowledgeBase after queries"] = rss_mb()["rss_mb"]
    snap = kb.snapshot()
    n, d = len(ids), snap.vectors.dim
    bm = snap.bm25
    arrays = {"vectors_stored_mb": round((Path(index_dir) / "vectors.faiss").stat().st_size / 2**20, 1),
              "vectors_float32_mb": round(n * d * 4 / 2**20, 1),
              "vectors_sq8_codes_mb": round(n * d / 2**20, 1),
              "bm25_postings_mb": round(sum(s.indptr.nbytes + s.docs.nbytes + s.tfs.nbytes for s in bm.segments)
                                        / 2**20, 1),
              "bm25_per_position_mb": round((bm.doc_len.nbytes + bm.live.nbytes + bm._norm.nbytes) / 2**20, 1),
              "bm25_vocab_terms": len(bm.vocab),
              "chunk_ids_mb": round(ids.nbytes / 2**20, 1)}
    arrays["sqlite_cache_per_connection_mb"] = round(kb.store.cache_bytes() / 2**20, 1)
    arrays["faiss_threads"] = faiss.omp_get_max_threads()
    return {"rss_mb_after": steps, "arrays": arrays, "peak_rss_mb": rss_mb()["peak_rss_mb"]}


def measure_index(index_dir: Path, queries: list[str], args, nprobe: int | None = None) -> dict:
    kb, emb = latency.open_kb(index_dir)
    snap = kb.snapshot()
    if nprobe is not None:
        snap.vectors.nprobe = nprobe
    rec: dict = {"chunks": int(len(snap.chunk_ids)), "vector_kind": snap.vectors.kind, "nprobe": snap.vectors.nprobe}
    rec["query_embedding"] = latency.query_embedding(emb.inner, queries)
    log(f"  query embedding: {rec['query_embedding']}")
    rec["latency"] = latency.mode_latency(kb, emb, queries)
    rec["hybrid_stages_ms"] = latency.stage_split(kb, emb, queries)
    log(f"  hybrid stages: {rec['hybrid_stages_ms']}")
    kb.close()
    if args.refresh:
        rec["write"] = run_write_cost(index_dir, args)
        log(f"  one write (ingest + remove of a law): {rec['write']}")
    return rec


def run_breakdown(index_dir: Path, args) -> dict:
    cmd = [sys.executable, "-m", "bench.scale", "--breakdown", str(index_dir), "--dev", str(args.dev),
           "--queries", "50"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def recall_study(rec: dict, src, out: Path, vecs: np.ndarray, queries: list[str], args) -> int | None:
    """IVF recall sweeps; returns the smallest nprobe meeting the target on random vectors."""
    from kb.embed import get_embedder
    from kb.vectors import VectorIndex

    qvecs = get_embedder(src.embedder).embed_batch(queries, "query")
    vindex = VectorIndex.load(out / "vectors.faiss")
    log("recall sweep, random unit vectors")
    rec["recall_random"] = recall_sweep(vindex, vecs, qvecs)
    rec["nprobe_for_target_random"] = tuned_nprobe(rec["recall_random"])
    del vindex
    if args.e5fit and src.vectors is not None:
        fit = synth.e5_fit(len(vecs), src.vectors)
        log("recall sweep, e5-fitted vectors (building a second IVF index)")
        vindex = VectorIndex.build(np.arange(1, len(fit) + 1), fit, flat_max=args.flat_max)
        rec["recall_e5fit"] = recall_sweep(vindex, fit, qvecs)
        rec["nprobe_for_target_e5fit"] = tuned_nprobe(rec["recall_e5fit"])
    # latency is then measured at the nprobe that meets the target: on random vectors if they reach
    # it, else on the e5-fitted ones (closer to real embeddings), else the index's default
    return rec["nprobe_for_target_random"] or rec.get("nprobe_for_target_e5fit")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", type=Path, default=ROOT / "indexes/eval", help="real index to replicate")
    p.add_argument("--sizes", default="100000,1000000", help="synthetic sizes (chunks), comma-separated")
    p.add_argument("--work", type=Path, default=scratch("fazhi-scale"), help="where synthetic indexes go")
    p.add_argument("--dev", type=Path, default=DEV_SET)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--flat-max", type=int, default=200_000, help="IVF-SQ8 above this many chunks")
    p.add_argument("--no-source", action="store_true", help="skip measuring the source index itself")
    p.add_argument("--refresh", action="store_true", help="also time one write (ingest + remove of a real law)")
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus", help="where --refresh finds its law")
    p.add_argument("--e5fit", action="store_true", help="also sweep recall on e5-fitted vectors (IVF sizes)")
    p.add_argument("--keep", action="store_true", help="keep synthetic indexes (for http_load --index)")
    p.add_argument("--reuse", action="store_true", help="measure synthetic indexes kept by an earlier --keep run")
    p.add_argument("--name", default="scale", help="result file name under bench/results/")
    p.add_argument("--breakdown", type=Path, help=argparse.SUPPRESS)  # internal: fresh-process memory
    p.add_argument("--write-cost", type=Path, help=argparse.SUPPRESS)  # internal: fresh-process write
    args = p.parse_args(argv)

    if args.write_cost:
        sys.stdout.write(json.dumps(write_cost(args.write_cost, args.corpus)))
        return
    if args.breakdown:
        qs = load_queries(args.dev, None, args.queries)
        sys.stdout.write(json.dumps(breakdown(args.breakdown, qs)))
        return
    queries = load_queries(args.dev, args.source / "store.sqlite", args.queries)
    log(f"{len(queries)} queries; source {args.source}")
    result: dict = {"queries": len(queries), "sizes": {}}
    if not args.no_source:
        copy = synth.copy_index(args.source, args.work / "source")
        log(f"source index {args.source} (measured on a copy in {copy})")
        rec = measure_index(copy, queries, args)
        rec["memory"] = run_breakdown(copy, args)
        result["sizes"]["source"] = rec
        save_result(args.name, result)
    src = synth.load_source(args.source)
    log(f"source: {len(src.chunks)} chunks, {len(src.docs)} documents")
    for n in (int(s) for s in args.sizes.split(",") if s.strip()):
        out = args.work / f"n{n}"
        log(f"building synthetic index of {n} chunks in {out}")
        if args.reuse and (out / "derived.json").exists():  # same seed: the same vectors again
            prev = json.loads((RESULTS_FILE).read_text())["sizes"].get(str(n), {}) if RESULTS_FILE.exists() else {}
            build = prev.get("build") or {"vector_kind": json.loads((out / "manifest.json").read_text())["vector_index"]}
            vecs = synth.random_unit(n, src.dim)
        else:
            if out.exists():
                shutil.rmtree(out)
            build, vecs = synth.build_index(src, n, out, "random", args.flat_max)
        rec: dict = {"build": build}
        nprobe = None
        if build["vector_kind"] == "ivf_sq8":
            nprobe = recall_study(rec, src, out, vecs, queries, args)
        del vecs
        rec.update(measure_index(out, queries, args, nprobe))
        rec["memory"] = run_breakdown(out, args)
        log(f"  memory: {rec['memory']}")
        result["sizes"][str(n)] = rec
        save_result(args.name, result)
        if not args.keep:
            shutil.rmtree(out)


if __name__ == "__main__":
    main()
