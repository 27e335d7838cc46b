"""The common alternative on the same chunks and embedder: LangChain's BM25Retriever (rank-bm25,
jieba ``lcut_for_search``) + FAISS vector store + EnsembleRetriever 0.5/0.5, against our indexes.

    python -m bench.langchain_alt --index indexes/eval
    python -m bench.langchain_alt --index WORK/n100000 --cache-from indexes/eval --name langchain_100k

(WORK: the --work folder of bench.scale, fazhi-scale in the temporary directory by default.)

Both sides index the same texts (title + section path + chunk, as our embedder sees them) and
the same vectors, read from our embedding cache through a LangChain ``Embeddings`` wrapper (no
re-embedding); queries are embedded by e5-small on both sides. Needs the ``bench`` extra:
``pip install langchain-community langchain-classic rank-bm25``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import latency, synth
from bench.measure import DEV_SET, log, percentiles, rss_mb, save_result, scratch
from bench.queries import load_queries

ROOT = Path(__file__).resolve().parent.parent
K = 10


def cached_embeddings(lookup: Callable[[list[str]], np.ndarray], query_embed: Callable[[str], np.ndarray]):
    """A LangChain Embeddings whose passages come from ``lookup`` and queries from ``query_embed``."""
    from langchain_core.embeddings import Embeddings

    class CachedEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return np.asarray(lookup(list(texts)), dtype=np.float32).tolist()

        def embed_query(self, text: str) -> list[float]:
            return np.asarray(query_embed(text), dtype=np.float32).tolist()

    return CachedEmbeddings()


def build_langchain(texts: list[str], metadatas: list[dict], embeddings, k: int = K) -> dict:
    """BM25 (jieba) + FAISS + 0.5/0.5 ensemble, the Langchain-Chatchat recipe, with build timings."""
    import jieba
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever
    from langchain_community.vectorstores import FAISS

    jieba.initialize()  # dictionary load is a one-off per process, not index building
    tok_s = [0.0]

    def tokenize(text: str) -> list[str]:
        t0 = time.perf_counter()
        out = jieba.lcut_for_search(text)
        tok_s[0] += time.perf_counter() - t0
        return out

    rss0 = rss_mb()["rss_mb"]
    t0 = time.perf_counter()
    bm25 = BM25Retriever.from_texts(texts, metadatas=metadatas, preprocess_func=tokenize, k=k)
    t1 = time.perf_counter()
    store = FAISS.from_texts(texts, embeddings, metadatas=metadatas)
    t2 = time.perf_counter()
    dense = store.as_retriever(search_kwargs={"k": k})
    ensemble = EnsembleRetriever(retrievers=[bm25, dense], weights=[0.5, 0.5])
    return {"lexical": bm25, "dense": dense, "hybrid": ensemble,
            "build": {"bm25_s": round(t1 - t0, 2), "of_which_jieba_s": round(tok_s[0], 2),
                      "faiss_s": round(t2 - t1, 2), "total_s": round(t2 - t0, 2),
                      "rss_delta_mb": round(rss_mb()["rss_mb"] - rss0, 1)}}


def build_ours(ids: np.ndarray, texts: list[str], vecs: np.ndarray, flat_max: int) -> dict:
    """Our derived indexes from the same texts and vectors (tokenizing included, as at ingest)."""
    from kb.lexical import BM25Index
    from kb.manifest import BM25_PARAMS
    from kb.tokenize import tokenize
    from kb.vectors import VectorIndex

    tokenize("预热")
    rss0 = rss_mb()["rss_mb"]
    t0 = time.perf_counter()
    tokens = [tokenize(t) for t in texts]
    t1 = time.perf_counter()
    bm25 = BM25Index.build(tokens, **BM25_PARAMS)
    t2 = time.perf_counter()
    vindex = VectorIndex.build(ids, vecs, flat_max=flat_max)
    t3 = time.perf_counter()
    del tokens
    out = {"tokenize_s": round(t1 - t0, 2), "bm25_s": round(t2 - t1, 2), "faiss_s": round(t3 - t2, 2),
           "total_s": round(t3 - t0, 2), "rss_delta_mb": round(rss_mb()["rss_mb"] - rss0, 1)}
    del bm25, vindex
    return out


def load_chunks(index: Path) -> tuple[np.ndarray, list[str], list[str], list[dict]]:
    """(chunk ids, index texts, index hashes, metadatas) of an index's store."""
    from kb.indexer import index_text

    con = sqlite3.connect(f"file:{index / 'store.sqlite'}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT c.chunk_id, d.title, c.section, c.text, c.index_hash, d.path FROM chunks c"
                           " JOIN documents d USING (doc_id) ORDER BY c.chunk_id").fetchall()
    finally:
        con.close()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    texts = [index_text(r[1], json.loads(r[2]), r[3]) for r in rows]
    return ids, texts, [r[4] for r in rows], [{"chunk_id": r[0], "path": r[5]} for r in rows]


def time_queries(fn: Callable[[str], object], queries: list[str]) -> dict:
    for q in queries[:5]:
        fn(q)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - t0)
    return percentiles(times)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, default=ROOT / "indexes/eval", help="our index (chunks, and our side)")
    p.add_argument("--cache-from", type=Path, help="index whose embedding cache holds the vectors (default --index)")
    p.add_argument("--work", type=Path, default=scratch("fazhi-langchain"), help="copy of --index is made here")
    p.add_argument("--dev", type=Path, default=DEV_SET)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--name", default="langchain_10k", help="result file name under bench/results/")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore", module="langchain.*")  # deprecation chatter of the 0.x→1.x move

    from kb.embed import get_embedder
    from kb.settings import Settings

    cache_src = synth.load_source(args.cache_from or args.index)
    cache = {c[7]: v for c, v in zip(cache_src.chunks, cache_src.vectors, strict=True)} \
        if cache_src.vectors is not None else {}
    ids, texts, hashes, metas = load_chunks(args.index)
    missing = sum(h not in cache for h in hashes)
    if missing:
        raise SystemExit(f"{missing} of {len(hashes)} chunks have no cached vector in {args.cache_from or args.index}")
    vecs = np.vstack([cache[h] for h in hashes])
    pos = {t: i for i, t in enumerate(texts)}
    log(f"{len(texts)} chunks, {sum(map(len, texts))} chars; vectors from the embedding cache")
    e5 = get_embedder(cache_src.embedder)
    res: dict = {"index": str(args.index), "chunks": len(texts)}

    log("building LangChain BM25Retriever + FAISS + EnsembleRetriever")
    lc = build_langchain(texts, metas, cached_embeddings(lambda ts: vecs[[pos[t] for t in ts]], e5.embed_query))
    res["langchain_build"] = lc["build"]
    log(f"  {lc['build']}")
    log("building ours (tokenize + BM25Index + VectorIndex) from the same texts and vectors")
    res["ours_build"] = build_ours(ids, texts, vecs, Settings().flat_max)
    log(f"  {res['ours_build']}")
    del cache

    queries = load_queries(args.dev, args.index / "store.sqlite", args.queries)
    target = synth.copy_index(args.index, args.work / "index")  # never open someone else's index for writing
    kb, emb = latency.open_kb(target, e5)
    res["ours_latency"] = {m: v["end_to_end"] for m, v in latency.mode_latency(kb, emb, queries).items()}
    res["langchain_latency"] = {}
    for mode in latency.MODES:
        res["langchain_latency"][mode] = time_queries(lc[mode].invoke, queries)
        log(f"  langchain {mode}: {res['langchain_latency'][mode]}")
    res["ratio_p50_langchain_over_ours"] = {
        m: round(res["langchain_latency"][m]["p50_ms"] / res["ours_latency"][m]["p50_ms"], 2) for m in latency.MODES}
    res["ratio_build_langchain_over_ours"] = round(lc["build"]["total_s"] / res["ours_build"]["total_s"], 2)
    res["rss_end"] = rss_mb()
    save_result(args.name, res)


if __name__ == "__main__":
    main()
