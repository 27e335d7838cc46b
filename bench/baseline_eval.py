"""Retrieval-quality baseline: the Langchain-Chatchat default recipe on our canonical texts,
scored on the dev set exactly like ``kb eval`` (kb.evaluate.score_run), per mode and task.

Recipe: fixed-size chunks of each document's canonical text (750 characters, 150 overlap,
Chatchat's ChineseRecursiveTextSplitter separators: paragraph, line, 。！？, ；, ，), embedded
with the same e5-small, BM25 over jieba ``lcut_for_search`` tokens, FAISS, and a 0.5/0.5
EnsembleRetriever. No titles or section paths are added to the chunks (Chatchat does not).

    python -m bench.baseline_eval --index indexes/eval --docs 3                        # proof run
    python -m bench.baseline_eval --index indexes/eval --docs 0 --max-embed-chars 0    # full (~22 min)

Chunk embeddings are cached in bench/results/baseline_cache.sqlite (the eval index's own cache
is read too, in case a text coincides), so a second run embeds nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import time
import warnings
from pathlib import Path

import numpy as np

from bench.langchain_alt import build_langchain, cached_embeddings
from bench.measure import DEV_SET, RESULTS, log, save_result

ROOT = Path(__file__).resolve().parent.parent
CHUNK, OVERLAP = 750, 150
# Langchain-Chatchat's ChineseRecursiveTextSplitter separators (regular expressions)
SEPARATORS = ["\n\n", "\n", "。|！|？", r"\.\s|\!\s|\?\s", r"；|;\s", r"，|,\s"]
K = 10


def split_text(text: str) -> list[str]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(separators=SEPARATORS, is_separator_regex=True, keep_separator="end",
                                              chunk_size=CHUNK, chunk_overlap=OVERLAP)
    return [c.strip() for c in splitter.split_text(text) if c.strip()]


class VectorCache:
    """(embedder, sha256 of text) → float32 vector in a SQLite file of our own; misses are
    looked up in the eval index's cache, then embedded in batches and stored."""

    def __init__(self, path: Path, embedder, index_store: Path | None, max_chars: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(path)
        self.con.execute("CREATE TABLE IF NOT EXISTS embeddings (embedder TEXT NOT NULL, hash TEXT NOT NULL,"
                         " vec BLOB NOT NULL, PRIMARY KEY (embedder, hash))")
        self.index_store, self.embedder, self.max_chars = index_store, embedder, max_chars
        self.embedded_chars = 0

    def _get(self, con: sqlite3.Connection, hashes: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i:i + 500]
            q = f"SELECT hash, vec FROM embeddings WHERE embedder = ? AND hash IN ({','.join('?' * len(part))})"
            out.update({h: np.frombuffer(v, dtype=np.float32) for h, v in con.execute(q, [self.embedder.name, *part])})
        return out

    def vectors(self, texts: list[str], batch: int = 32) -> np.ndarray:
        hashes = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        have = self._get(self.con, list(set(hashes)))
        if self.index_store is not None and len(have) < len(set(hashes)):
            src = sqlite3.connect(f"file:{self.index_store}?mode=ro", uri=True)
            have.update(self._get(src, [h for h in set(hashes) if h not in have]))
            src.close()
        todo = list({h: t for h, t in zip(hashes, texts, strict=True) if h not in have}.items())
        chars = sum(len(t) for _, t in todo)
        if self.max_chars and chars > self.max_chars:
            raise SystemExit(f"{len(todo)} chunks ({chars} chars, ~{chars / 1600 / 60:.0f} min at 1,600 chars/s) "
                             f"need embedding, over --max-embed-chars {self.max_chars}; pass --max-embed-chars 0 "
                             "to run them (the cache keeps them for later runs)")
        t0 = time.perf_counter()
        for i in range(0, len(todo), batch):
            part = todo[i:i + batch]
            vecs = self.embedder.embed_batch([t for _, t in part], "passage")
            self.con.executemany("INSERT OR REPLACE INTO embeddings VALUES (?,?,?)",
                                 [(self.embedder.name, h, v.tobytes()) for (h, _), v in zip(part, vecs, strict=True)])
            self.con.commit()
            have.update({h: v for (h, _), v in zip(part, vecs, strict=True)})
            self.embedded_chars += sum(len(t) for _, t in part)
            if (i // batch) % 10 == 9 or i + batch >= len(todo):
                rate = self.embedded_chars / (time.perf_counter() - t0)
                log(f"  embedded {min(i + batch, len(todo))}/{len(todo)} chunks ({rate:.0f} chars/s)")
        return np.vstack([have[h] for h in hashes]) if hashes else np.zeros((0, self.embedder.dim), np.float32)


def load_documents(index: Path, dev: Path, docs: int) -> list[tuple[str, str]]:
    """(path, canonical text) of the index's documents; with ``docs`` > 0 only that many, the
    smallest among those the dev set judges (so a small proof run still scores something)."""
    con = sqlite3.connect(f"file:{index / 'store.sqlite'}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT path, text FROM documents ORDER BY path").fetchall()
    finally:
        con.close()
    if not rows:
        raise SystemExit(f"index {index} has no documents")
    if docs > 0:
        judged = {p["path"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()
                  for p in json.loads(line)["relevant"]}
        rows = sorted((r for r in rows if r[0] in judged), key=lambda r: len(r[1]))[:docs]
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, default=ROOT / "indexes/eval", help="eval index: canonical texts + cache")
    p.add_argument("--dev", type=Path, default=DEV_SET)
    p.add_argument("--docs", type=int, default=3, help="documents to use (0 = all)")
    p.add_argument("--embedder", default="e5-small")
    p.add_argument("--cache", type=Path, default=RESULTS / "baseline_cache.sqlite")
    p.add_argument("--max-embed-chars", type=int, default=100_000, help="refuse to embed more (0 = no limit)")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore", module="langchain.*")

    from kb.embed import get_embedder
    from kb.evaluate import format_report, load_set, score_run

    if not (args.index / "store.sqlite").is_file():
        raise SystemExit(f"no index store at {args.index / 'store.sqlite'}")
    docs = load_documents(args.index, args.dev, args.docs)
    texts, metas = [], []
    for path, text in docs:
        for chunk in split_text(text):
            texts.append(chunk)
            metas.append({"path": path})
    log(f"{len(docs)} documents → {len(texts)} chunks of ≤{CHUNK} chars ({sum(map(len, texts))} chars)")
    embedder = get_embedder(args.embedder)
    cache = VectorCache(args.cache, embedder, args.index / "store.sqlite", args.max_embed_chars)
    vecs = cache.vectors(texts)
    pos = {t: i for i, t in enumerate(texts)}
    lc = build_langchain(texts, metas, cached_embeddings(lambda ts: vecs[[pos[t] for t in ts]], embedder.embed_query))
    recs = load_set(args.dev)
    out = {"documents": len(docs), "chunks": len(texts), "embedded_chars_this_run": cache.embedded_chars,
           "recipe": {"chunk": CHUNK, "overlap": OVERLAP, "separators": SEPARATORS, "weights": [0.5, 0.5], "k": K},
           "modes": {}}
    for mode in ("lexical", "dense", "hybrid"):
        retriever = lc[mode]

        def retrieve(q: str, r=retriever) -> list[dict]:
            return [{"path": d.metadata["path"], "text": d.page_content} for d in r.invoke(q)[:K]]

        report = score_run(recs, retrieve)
        report["mode"] = mode
        print(format_report(report), flush=True)
        report.pop("queries")
        out["modes"][mode] = report
    save_result("baseline_eval" if args.docs == 0 else f"baseline_eval_{args.docs}docs", out)


if __name__ == "__main__":
    main()
