"""The SQLite store against the PostgreSQL store on one index: top-10 agreement and latency.

The embedded index is copied into an empty PostgreSQL database with ``kb migrate``'s copy (no file
read or embedded again); the PostgreSQL side rebuilds its FAISS and BM25 files from the copied store
in a temporary folder, or with ``--milvus`` fills Milvus (a URI, or ``lite`` for milvus-lite in a
temporary folder): the scale-out mode, nothing on local disk. Both then answer the dev queries in
each mode, and each takes one write (ingest and removal of one law file).

    python -m bench.postgres_compare --index indexes/eval --database postgresql://user@host/empty_db [--milvus lite]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.measure import DEV_SET
from bench.milvus_compare import run
from bench.queries import dev_queries
from kb.core import KnowledgeBase
from kb.migrate import migrate
from kb.settings import Settings

LAW = Path(__file__).resolve().parent.parent / "tests/data/ask/laws/全国/行政法规/重大行政决策程序暂行条例(2019-04-20).md"


def one_write(kb: KnowledgeBase, work: Path) -> tuple[float, float]:
    """Seconds to ingest one law file (its vectors already cached after the first run) and to remove it."""
    src = work / "write"
    src.mkdir(exist_ok=True)
    shutil.copy(LAW, src / "bench-write.md")
    t0 = time.perf_counter()
    kb.ingest([src], root=src)
    t1 = time.perf_counter()
    kb.remove("bench-write.md")
    return t1 - t0, time.perf_counter() - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True, help="an embedded index (built with kb ingest)")
    ap.add_argument("--database", required=True, help="URL of an empty PostgreSQL database")
    ap.add_argument("--dev", type=Path, default=DEV_SET)
    ap.add_argument("--milvus", default="", help="Milvus URI, or 'lite' for milvus-lite in a temporary folder")
    args = ap.parse_args()
    queries = dev_queries(args.dev)
    work = Path(tempfile.mkdtemp(prefix="kb-pg-"))
    try:
        milvus = str(work / "milvus.db") if args.milvus == "lite" else args.milvus
        settings = Settings(database_url=args.database, milvus_uri=milvus)
        t0 = time.perf_counter()
        done = migrate(args.index, settings)
        took = time.perf_counter() - t0
        rows = sum(done["rows"].values())
        print(f"copied {done['rows']} in {took:.1f} s ({rows / took:,.0f} rows/s)")
        shutil.copytree(args.index, work / "embedded")  # the write below must not touch the index given
        embedded = KnowledgeBase(work / "embedded")
        t0 = time.perf_counter()
        shared = KnowledgeBase(work / "derived", settings=settings, create=False)
        shared.snapshot()
        print(f"{'Milvus filled' if milvus else 'FAISS and BM25 rebuilt'} from the PostgreSQL store in "
              f"{time.perf_counter() - t0:.1f} s")
        other = "PostgreSQL + Milvus" if milvus else "PostgreSQL"
        print(f"| mode | top-10 overlap (mean) | identical top 10 | SQLite p50 / p90 ms | {other} p50 / p90 ms |")
        print("|---|---|---|---|---|")
        for mode in ("lexical", "dense", "hybrid"):
            run(embedded, queries, mode), run(shared, queries, mode)  # warm both: query vectors, prepared statements
            a, ta = run(embedded, queries, mode)
            b, tb = run(shared, queries, mode)
            overlap = [len(set(x) & set(y)) / max(len(x), 1) for x, y in zip(a, b, strict=True)]
            same = sum(x == y for x, y in zip(a, b, strict=True))
            qa, qb = statistics.quantiles(ta, n=10), statistics.quantiles(tb, n=10)
            print(f"| {mode} | {statistics.mean(overlap):.3f} | {same}/{len(queries)} | "
                  f"{statistics.median(ta):.1f} / {qa[-1]:.1f} | {statistics.median(tb):.1f} / {qb[-1]:.1f} |")
        for name, kb in (("SQLite", embedded), (other, shared)):
            one_write(kb, work)  # first: embeds the law's chunks into the cache
            add, remove = one_write(kb, work)
            print(f"one write, {name}: ingest {add * 1000:.0f} ms, remove {remove * 1000:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
