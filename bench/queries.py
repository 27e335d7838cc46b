"""The benchmark query set: the dev set's queries first, then section headings and titles
of the indexed documents (what officials type), drawn deterministically."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

MIN_CHARS = 6  # shorter headings are bare numbering (第十条, 一、) and not queries


def dev_queries(dev: Path) -> list[str]:
    dev = Path(dev)
    if not dev.is_file():
        raise FileNotFoundError(f"dev set not found: {dev}")
    return [json.loads(line)["query"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]


def heading_queries(store: Path) -> list[str]:
    """Distinct section headings and document titles of an index's store, sorted."""
    store = Path(store)
    if not store.is_file():
        raise FileNotFoundError(f"index store not found: {store}")
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        out = {t for (t,) in con.execute("SELECT title FROM documents") if len(t) >= MIN_CHARS}
        for (path,) in con.execute("SELECT path FROM sections"):
            parts = json.loads(path)
            if parts and len(parts[-1]) >= MIN_CHARS:
                out.add(parts[-1][:40])
    finally:
        con.close()
    return sorted(out)


def load_queries(dev: Path | None, store: Path | None, n: int, seed: int = 7) -> list[str]:
    """``n`` queries: all dev queries (when given), topped up with sampled headings."""
    qs = dev_queries(dev) if dev else []
    if store is not None and len(qs) < n:
        pool = [h for h in heading_queries(store) if h not in qs]
        random.Random(seed).shuffle(pool)
        qs += pool[: n - len(qs)]
    if not qs:
        raise ValueError("no queries: give the dev set and/or an index store")
    return qs[:n]
