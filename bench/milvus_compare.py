"""Embedded (FAISS + BM25 files) against Milvus mode on one store: top-10 overlap and latency.

The Milvus index is made from a copy of the embedded index's store, so both hold the same chunks
and vectors (the copy embeds nothing: vectors come from the embedding cache). ``--milvus`` is a
Milvus endpoint or a local file for milvus-lite (the default, in this process).

    python -m bench.milvus_compare --index indexes/default --dev ../shared/eval/dev.jsonl
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.queries import dev_queries
from kb.core import KnowledgeBase
from kb.settings import Settings


def run(kb: KnowledgeBase, queries: list[str], mode: str) -> tuple[list[list[tuple]], list[float]]:
    out, times = [], []
    for q in queries:
        t0 = time.perf_counter()
        hits = kb.search(q, k=10, mode=mode)
        times.append(1000 * (time.perf_counter() - t0))
        out.append([(h.doc_id, h.start) for h in hits])
    return out, times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True, help="an embedded index (built with kb ingest)")
    ap.add_argument("--dev", type=Path, required=True)
    ap.add_argument("--milvus", default="", help="Milvus URI (default: milvus-lite in a temporary folder)")
    args = ap.parse_args()
    queries = dev_queries(args.dev)
    work = Path(tempfile.mkdtemp(prefix="kb-milvus-"))
    try:
        copy = work / "index"
        copy.mkdir()
        shutil.copy(args.index / "store.sqlite", copy / "store.sqlite")
        embedded = KnowledgeBase(args.index)
        t0 = time.perf_counter()
        remote = KnowledgeBase(copy, embedder=embedded.manifest.embedder,
                               settings=Settings(milvus_uri=args.milvus or str(work / "milvus.db")))
        remote.snapshot()
        print(f"Milvus filled from the store in {time.perf_counter() - t0:.1f} s "
              f"({remote.remote[0].count()} vectors, {remote.remote[1].count()} keyword vectors)")
        print("| mode | top-10 overlap (mean) | identical top 10 | embedded p50 ms | Milvus p50 ms |")
        print("|---|---|---|---|---|")
        for mode in ("lexical", "dense", "hybrid"):
            run(embedded, queries[:3], mode), run(remote, queries[:3], mode)  # warm both
            a, ta = run(embedded, queries, mode)
            b, tb = run(remote, queries, mode)
            overlap = [len(set(x) & set(y)) / max(len(x), 1) for x, y in zip(a, b, strict=True)]
            same = sum(x == y for x, y in zip(a, b, strict=True))
            print(f"| {mode} | {statistics.mean(overlap):.3f} | {same}/{len(queries)} | "
                  f"{statistics.median(ta):.1f} | {statistics.median(tb):.1f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
