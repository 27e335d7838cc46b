"""Score a retrieval set in the ../shared/eval format (rules of its README.md, to the letter)."""

from __future__ import annotations

import json
import math
import statistics
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import InvalidInput

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

K = 10
MIN_LEN = 12


def _ws(s: str) -> str:
    return "".join(s.split())


def matches(result: dict, pair: dict, min_len: int = MIN_LEN) -> bool:
    if result["path"] != pair["path"]:
        return False
    text, must = _ws(result["text"]), _ws(pair["must_contain"])
    if len(must) <= min_len:
        return must in text
    return any(must[i:i + min_len] in text for i in range(len(must) - min_len + 1))


def score_query(results: list[dict], rec: dict, k: int = K) -> dict:
    pairs = rec["relevant"]
    first: dict[int, int] = {}
    rr = 0.0
    for rank, res in enumerate(results[:k], 1):
        hit = [j for j, p in enumerate(pairs) if matches(res, p)]
        if hit and rr == 0.0:
            rr = 1.0 / rank
        for j in hit:
            first.setdefault(j, rank)
    dcg = sum(pairs[j]["grade"] / math.log2(r + 1) for j, r in first.items())
    ideal = sorted((p["grade"] for p in pairs), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return {"ndcg@10": min(1.0, dcg / idcg) if idcg else 0.0, "recall@10": len(first) / len(pairs),
            "mrr@10": rr}


def answer_hit(answer_text: str, rec: dict) -> bool:
    def norm(s: str) -> str:
        return _ws(unicodedata.normalize("NFKC", s))
    return all(norm(key) in norm(answer_text) for key in rec["answer_keys"])


def load_set(path: Path) -> list[dict]:
    recs = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            rec["query"], rec["relevant"], rec.setdefault("answer_keys", [])  # noqa: B018 — required fields
        except (ValueError, KeyError) as e:
            raise InvalidInput(f"{path}:{n}: not a retrieval record ({e})") from e
        recs.append(rec)
    return recs


Retriever = Callable[[str], list[dict]]


def score_run(recs: list[dict], retrieve: Retriever, answer: Callable[[str], str] | None = None) -> dict:
    """Run every query through ``retrieve`` (→ [{path, text}] best first) and aggregate."""
    per_query, times = [], []
    for rec in recs:
        t0 = time.perf_counter()
        results = retrieve(rec["query"])[:K]
        times.append(time.perf_counter() - t0)
        row = {"id": rec["id"], "task": rec.get("task", ""), **score_query(results, rec)}
        if rec["answer_keys"]:
            row["context_hit"] = answer_hit("\n".join(r["text"] for r in results), rec)
            if answer is not None:
                row["answer_hit"] = answer_hit(answer(rec["query"]), rec)
        per_query.append(row)
    return {"overall": _aggregate(per_query), "by_task": {
        t: _aggregate([r for r in per_query if r["task"] == t]) for t in sorted({r["task"] for r in per_query})},
        "median_query_ms": round(1000 * statistics.median(times), 1) if times else 0.0, "queries": per_query}


def _aggregate(rows: list[dict]) -> dict:
    out: dict[str, float] = {"n": len(rows)}
    for m in ("ndcg@10", "recall@10", "mrr@10"):
        out[m] = round(sum(r[m] for r in rows) / len(rows), 4) if rows else 0.0
    for m in ("context_hit", "answer_hit"):
        vals = [r[m] for r in rows if m in r]
        if vals:
            out[m] = round(sum(vals) / len(vals), 4)
    return out


def evaluate(kb: KnowledgeBase, path: Path, mode: str = "hybrid", ask: bool = False) -> dict:
    recs = load_set(path)

    def retrieve(q: str) -> list[dict]:
        return [{"path": h.path, "text": h.text} for h in kb.search(q, k=K, mode=mode)]

    answer = (lambda q: kb.ask(q).answer) if ask else None
    report = score_run(recs, retrieve, answer)
    report["mode"] = mode
    return report


def format_report(report: dict) -> str:
    lines = [f"mode {report.get('mode', '?')}, median query {report['median_query_ms']} ms",
             f"{'task':<12}{'n':>4}{'nDCG@10':>10}{'R@10':>8}{'MRR@10':>8}{'ctx-keys':>10}{'ans-keys':>10}"]
    for name, agg in [*report["by_task"].items(), ("overall", report["overall"])]:
        lines.append(f"{name:<12}{agg['n']:>4}{agg['ndcg@10']:>10.3f}{agg['recall@10']:>8.3f}{agg['mrr@10']:>8.3f}"
                     f"{agg.get('context_hit', float('nan')):>10.3f}{agg.get('answer_hit', float('nan')):>10.3f}")
    return "\n".join(lines)
