"""Comparison-matrix quality against the judged cells of tests/data/matrix/judged.json.

    kb ingest --index indexes/matrix --root ../shared/corpus --list bench/matrix_corpus.txt   # ~540k chars
    python -m bench.matrix_eval --index indexes/matrix

Runs the three judged queries (same aspects and columns) and prints, per topic, the precision and the
missed provisions of the judgments, and how many cells differ from the judged ones (those need judging
again before the figures hold for the current code)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

JUDGED = Path(__file__).resolve().parent.parent / "tests/data/matrix/judged.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True)
    args = ap.parse_args()
    from kb.cite import without_version
    from kb.core import KnowledgeBase

    judged = json.loads(JUDGED.read_text(encoding="utf-8"))
    kb = KnowledgeBase(args.index)
    verdicts = {(c["topic"], c["aspect"], c["column"]): c for c in judged["cells"]}
    out = {}
    for q in judged["queries"]:
        m = kb.matrix(q["topic"], aspects=q["aspects"], places=q["columns"])
        # judged before texts had versions: 《条例》（2024年修订）第十条 is the judged 《条例》第十条
        changed = [c for c in m["cells"] if (c["hit"] and without_version(c["hit"]["citation"])) !=
                   verdicts[(q["topic"], c["aspect"], c["column"])]["citation"]]
        out[q["topic"]] = {**judged["summary"][q["topic"]], "cells_changed": len(changed),
                           "changed": [f"{c['aspect']}|{c['column']}" for c in changed]}
        print(f"{q['topic']}: precision {out[q['topic']]['precision']}, missed {out[q['topic']]['missed']}, "
              f"cells differing from the judged ones {len(changed)}", file=sys.stderr)
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == "__main__":
    main()
