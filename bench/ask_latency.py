"""``KnowledgeBase.ask`` over the dev set's lookup questions: latency per question and whether the
answer holds every answer key, in passes. Each pass forgets the query-vector LRU, so every ask
embeds its question; the first pass over a fresh index also embeds the candidate answer units,
later passes find them in the store's embedding cache (what a repeated or overlapping question
costs).

    python -m bench.ask_latency --index indexes/eval --dev ../shared/eval/dev.jsonl [--passes 2]
    python -m bench.ask_latency --index indexes/eval --dev bench/ask_lookups.jsonl

bench/ask_lookups.jsonl: 18 list, definition and requirement lookups written from the eval corpus
(query and answer keys only, the dev set's format).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.measure import log, save_result
from kb.evaluate import answer_hit


def lookups(dev: Path) -> list[dict]:
    recs = [json.loads(line) for line in Path(dev).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in recs if r.get("answer_keys")]


def run(index: Path, dev: Path, passes: int = 2, show: bool = False) -> dict:
    import numpy as np

    from kb.core import KnowledgeBase

    kb = KnowledgeBase(index, create=False)
    recs = lookups(dev)
    kb.search("预热", k=5)  # model, snapshot, jieba: not a question's cost
    out = {"index": str(index), "questions": len(recs), "passes": []}
    for n in range(passes):
        kb._query_vector.cache_clear()
        rows = []
        for rec in recs:
            t0 = time.perf_counter()
            res = kb.ask(rec["query"])
            ms = 1000 * (time.perf_counter() - t0)
            rows.append({"id": rec["id"], "ms": round(ms, 1), "hit": answer_hit(res.answer, rec)})
            if show and n == 0:
                log(f"{rec['id']} {rec['query']} hit={rows[-1]['hit']} {ms:.0f} ms\n    {res.answer}")
        ms = np.asarray([r["ms"] for r in rows])
        summary = {"pass": n + 1, "p50_ms": round(float(np.percentile(ms, 50)), 1),
                   "p90_ms": round(float(np.percentile(ms, 90)), 1),
                   "hits": sum(r["hit"] for r in rows), "rows": rows}
        log(f"pass {n + 1}: median {summary['p50_ms']} ms, p90 {summary['p90_ms']} ms, "
            f"answer keys {summary['hits']}/{len(rows)}")
        out["passes"].append(summary)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--dev", type=Path, required=True)
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--show", action="store_true", help="print each answer of the first pass")
    args = ap.parse_args()
    save_result("ask_latency", run(args.index, args.dev, args.passes, args.show))


if __name__ == "__main__":
    main()
