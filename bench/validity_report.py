"""Validity over a whole corpus: version groups, statuses by count, missing dates, and a seeded
sample of documents to check by hand against their files.

    python -m bench.validity_report --index indexes/validity [--corpus ../shared/corpus] [--sample 30]

With --corpus the index is built first (fake embedder: validity needs no vectors).
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from kb.core import KnowledgeBase


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, help="ingest this folder first (laws/ and gov/ are read)")
    ap.add_argument("--as-of", default=None, help="YYYY-MM-DD (default today)")
    ap.add_argument("--sample", type=int, default=30)
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args()
    kb = KnowledgeBase(args.index, embedder="fake" if args.corpus else None)
    if args.corpus:
        parts = [args.corpus / p for p in ("laws", "gov") if (args.corpus / p).exists()]
        summary = kb.ingest(parts, root=args.corpus)
        print(f"ingested {len(summary.ingested)}, unchanged {len(summary.unchanged)}, failed {len(summary.failed)}")
    view = kb.validity(args.as_of)
    _, rows = kb.documents(limit=100_000, as_of=args.as_of)
    legal = [r for r in rows if r["level"] != "none"]
    print(f"as of {view.as_of}: {len(rows)} documents, {len(legal)} legal or normative texts")
    print("levels:", dict(Counter(r["level"] for r in rows).most_common()))
    groups = {tuple(st.group) for st in view.statuses.values() if len(st.group) > 1}
    print(f"version groups (2+ versions): {len(groups)}, holding {sum(len(g) for g in groups)} texts")
    print("statuses:", dict(Counter(r["status"] for r in legal).most_common()))
    print("without 公布 date:", sum(1 for r in legal if not r["promulgated"]),
          "| without 施行 date:", sum(1 for r in legal if not r["effective"]),
          "| without organ:", sum(1 for r in legal if not r["organ"]))
    print("repeal clauses read:", sum(len(f.repeals) for f in view.facts.values()))
    for r in legal:
        if r["status"] in ("repealed", "expired", "not_yet_effective"):
            by = view.facts[r["repealed_by"]].path if r["repealed_by"] else ""
            print(f"  {r['status_label']}  {r['path']}" + (f"  ← {by} ({r['repealed_on']})" if by else ""))
    print(f"\nsample of {args.sample} (seed {args.seed}) to check against the files:")
    for r in sorted(random.Random(args.seed).sample(legal, min(args.sample, len(legal))), key=lambda r: r["path"]):
        print(f"- {r['path']}\n    {r['level']} | {r['organ'] or '-'} | 公布 {r['promulgated'] or '-'} | "
              f"施行 {r['effective'] or '-'} | {r['status_label']}{' ' + r['version'] if r['version'] else ''}")


if __name__ == "__main__":
    main()
