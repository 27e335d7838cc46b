"""Ingest benchmark over the eval corpus: where ingest time goes, re-ingest of an unchanged
folder and of a folder with one file changed, and the embedder's throughput.

    python -m bench.ingest_bench --cache-from indexes/eval

Whole-corpus embedding is not repeated here (the eval index takes 11 min 30 s to build on 2 quiet
cores, ~99% of it embedding; longer on a busy machine): the new index's
embedding cache is seeded from ``--cache-from`` (the eval index), so the timed ingest measures
every non-embedding part exactly, and the cold embedding time is computed from the throughput
measured on a ~50k-character sample. A guard refuses to embed more than ``--max-embed-chars``.
``--embedder fake`` runs the same mechanics without the model (no cache needed).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

from bench.measure import SHARED, StageTimer, log, rss_mb, save_result, scratch
from kb.embed import Embedder

ROOT = Path(__file__).resolve().parent.parent
EDIT = "（本句为基准测试所作修改。）"


class BudgetEmbedder(Embedder):
    """The real embedder behind a character budget. Past the budget, texts go to a stand-in
    (the fake embedder at the same dimension) when one is given, else it is an error: the
    throw-away index stays consistent, the time still counts as embedding, and the non-embedding
    stages are measured exactly. ``stand_in_texts`` says how many texts took that path."""

    def __init__(self, inner: Embedder, max_chars: int, stand_in: Embedder | None = None) -> None:
        super().__init__()
        self.inner, self.name, self.dim, self.max_chars, self.chars = inner, inner.name, inner.dim, max_chars, 0
        self.stand_in, self.stand_in_texts = stand_in, 0

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if self.chars + sum(map(len, texts)) > self.max_chars:
            if self.stand_in is None:
                raise RuntimeError(f"embedding budget of {self.max_chars} characters exceeded: the seeded cache "
                                   "lacks these texts (is the --cache-from index built with the same chunker?)")
            self.stand_in_texts += len(texts)
            return self.stand_in.embed_batch(texts, kind)
        self.chars += sum(map(len, texts))
        return self.inner.embed_batch(texts, kind)


def read_list(list_file: Path) -> list[str]:
    if not list_file.is_file():
        raise FileNotFoundError(f"corpus list not found: {list_file}")
    return [ln.strip() for ln in list_file.read_text(encoding="utf-8").splitlines() if ln.strip()]


def copy_corpus(corpus: Path, rels: list[str], dst: Path) -> list[Path]:
    """A private copy of the listed files (one of them gets edited later)."""
    if dst.exists():
        shutil.rmtree(dst)
    out = []
    for rel in rels:
        src = corpus / rel
        if not src.is_file():
            raise FileNotFoundError(f"listed file missing: {src}")
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst / rel)
        out.append(dst / rel)
    return out


def seed_cache(store: Path, cache_from: Path, embedder: str) -> int:
    """Copy ``embedder``'s cached vectors from another index's store; returns how many."""
    src = cache_from / "store.sqlite"
    if not src.is_file():
        raise FileNotFoundError(f"no store to take the embedding cache from: {src}")
    con = sqlite3.connect(store)
    try:
        con.execute("ATTACH DATABASE ? AS src", (f"file:{src}?mode=ro",))
        con.execute("INSERT OR IGNORE INTO embeddings SELECT * FROM src.embeddings WHERE embedder = ?", (embedder,))
        con.commit()
        return con.execute("SELECT COUNT(*) FROM embeddings WHERE embedder = ?", (embedder,)).fetchone()[0]
    finally:
        con.close()


def embed_throughput(texts: list[str], sample_chars: int, batch: int) -> dict:
    """Embed a deterministic ~``sample_chars`` sample of passages with e5-small: chars/s, tokens/s."""
    from kb.embed import E5SmallEmbedder, _E5Nano

    picked, total = [], 0
    for t in texts[:: max(1, len(texts) // 400)]:  # spread over the corpus, not its first files
        if total >= sample_chars:
            break
        picked.append(t)
        total += len(t)
    emb = E5SmallEmbedder()
    emb.embed_batch(picked[:2])  # load the model outside the timing
    model = _E5Nano.get()
    tokens = sum(model.token_count(t) for t in picked)
    t0 = time.perf_counter()
    for i in range(0, len(picked), batch):
        emb.embed_batch(picked[i:i + batch])
    secs = time.perf_counter() - t0
    all_chars = sum(map(len, texts))
    t1 = time.perf_counter()
    all_tokens = sum(model.token_count(t) for t in texts)
    return {"texts": len(picked), "chars": total, "tokens": tokens, "seconds": round(secs, 2),
            "chars_per_s": round(total / secs), "tokens_per_s": round(tokens / secs),
            "texts_per_s": round(len(picked) / secs, 2), "chars_per_token": round(total / tokens, 2),
            "corpus_index_chars": all_chars, "corpus_tokens": all_tokens,
            "token_count_s": round(time.perf_counter() - t1, 2),
            "cold_embed_estimate_s": round(all_tokens / (tokens / secs), 1)}


@contextmanager
def timed_stages(timer: StageTimer):
    """Wrap the ingest path's stages where kb looks them up (names as they appear in kb.core/indexer)."""
    import kb.core as core
    import kb.indexer as ix
    from kb.lexical import BM25Index
    from kb.store import Store
    from kb.vectors import VectorIndex

    targets = [(core.KnowledgeBase, "_parse_if_changed", "parse (load+clean+structure+split)"),
               (ix, "embed_missing", "embed"), (ix, "tokenize", "tokenize (jieba)"), (core, "text_hash", "hash"),
               (Store, "put_document", "store write"), (ix, "build", "index build (total)"),
               (ix, "save", "index save"), (Store, "all_chunks", "  build: read chunk rows"),
               (BM25Index, "build", "  build: BM25"), (ix, "_vectors_for", "  build: vectors from cache"),
               (VectorIndex, "build", "  build: FAISS"), (VectorIndex, "copy", "  build: FAISS copy"),
               (VectorIndex, "add", "  build: FAISS add"), (VectorIndex, "remove", "  build: FAISS remove")]
    with ExitStack() as stack:
        for owner, attr, label in targets:
            raw = owner.__dict__[attr]  # the descriptor itself, so classmethods are restored intact
            setattr(owner, attr, timer.wrap(label, getattr(owner, attr)))
            stack.callback(setattr, owner, attr, raw)
        yield


def timed_ingest(kb, paths: list[Path], root: Path) -> dict:
    timer = StageTimer()
    before = kb.embedder.texts_embedded
    t0 = time.perf_counter()
    with timed_stages(timer):
        summary = kb.ingest(paths, root=root)
    wall = time.perf_counter() - t0
    stages = timer.as_dict()
    return {"wall_s": round(wall, 3), "stages_s": stages, "non_embedding_s": round(wall - stages.get("embed", 0), 3),
            "ingested": len(summary.ingested), "unchanged": len(summary.unchanged), "failed": summary.failed,
            "texts_embedded": kb.embedder.texts_embedded - before}


def edit_one(files: list[Path]) -> Path:
    """Insert one sentence in the middle of the largest plain-text/markdown file."""
    target = max((f for f in files if f.suffix in (".md", ".txt")), key=lambda f: f.stat().st_size)
    text = target.read_text(encoding="utf-8")
    cut = text.find("。", len(text) // 2) + 1
    target.write_text(text[:cut] + EDIT + text[cut:], encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    p.add_argument("--list", type=Path, default=SHARED / "eval/eval_corpus.txt", help="paths relative to --corpus")
    p.add_argument("--cache-from", type=Path, default=ROOT / "indexes/eval", help="index whose embedding cache to reuse")
    p.add_argument("--embedder", default="e5-small", help="e5-small (cache seeded) or fake (mechanics only)")
    p.add_argument("--work", type=Path, default=scratch("fazhi-ingest"))
    p.add_argument("--sample-chars", type=int, default=50_000, help="characters embedded to measure throughput")
    p.add_argument("--max-embed-chars", type=int, default=0,
                   help="characters of passages the real model may embed during the ingests (default none)")
    p.add_argument("--stand-in", action=argparse.BooleanOptionalAction, default=True,
                   help="texts the seeded cache lacks, past the budget, go to the fake embedder (timed as embedding)")
    args = p.parse_args(argv)

    from kb.core import KnowledgeBase
    from kb.embed import FakeEmbedder, get_embedder
    from kb.indexer import index_text
    from kb.store import text_hash

    rels = read_list(args.list)
    log(f"copying {len(rels)} files to {args.work / 'corpus'}")
    files = copy_corpus(args.corpus, rels, args.work / "corpus")
    root = args.work / "corpus"
    res: dict = {"files": len(files), "file_bytes": sum(f.stat().st_size for f in files), "embedder": args.embedder}

    log("parse-only pass (also warms the OS file cache)")
    from ingest import parse_file
    t0 = time.perf_counter()
    docs = [parse_file(f, rel) for f, rel in zip(files, rels, strict=True)]
    res["parse_only_s"] = round(time.perf_counter() - t0, 3)
    texts = [index_text(d.title, c.section, c.text) for d in docs for c in d.chunks]
    res.update(docs=len(docs), chunks=len(texts), text_chars=sum(len(d.text) for d in docs),
               text_utf8_bytes=sum(len(d.text.encode()) for d in docs), index_text_chars=sum(map(len, texts)))
    log(f"  {res['docs']} docs, {res['chunks']} chunks, {res['text_chars']} chars in {res['parse_only_s']} s")

    index = args.work / "index"
    if index.exists():
        shutil.rmtree(index)
    if args.embedder == "e5-small":
        inner = get_embedder("e5-small")
        stand_in = FakeEmbedder(inner.dim) if args.stand_in else None
        kb = KnowledgeBase(index, embedder=BudgetEmbedder(inner, args.max_embed_chars, stand_in))
        res["cache_seeded"] = seed_cache(kb.store.path, args.cache_from, "e5-small")
        have = kb.store.cached_vectors("e5-small", [text_hash(t) for t in texts])
        missing = [t for t in texts if text_hash(t) not in have]
        res["cache_missing_texts"], res["cache_missing_chars"] = len(missing), sum(map(len, missing))
        log(f"  seeded {res['cache_seeded']} vectors; {len(missing)} of {len(texts)} chunk texts not cached")
        if res["cache_missing_chars"] > args.max_embed_chars and not args.stand_in:
            raise SystemExit(f"the cache from {args.cache_from} lacks {len(missing)} chunk texts "
                             f"({res['cache_missing_chars']} chars): rebuild it with this chunker, or pass --stand-in")
    else:
        kb = KnowledgeBase(index, embedder=get_embedder(args.embedder))

    log("ingest (embedding cache warm: measures everything but the model)")
    res["ingest"] = ing = timed_ingest(kb, files, root)
    ing["rss"] = rss_mb()
    ing["stand_in_texts"] = getattr(kb.embedder, "stand_in_texts", 0)
    ing["chars_per_s_non_embedding"] = round(res["text_chars"] / ing["non_embedding_s"])
    ing["mb_per_s_non_embedding"] = round(res["text_utf8_bytes"] / 2**20 / ing["non_embedding_s"], 2)
    log(f"  {ing}")

    log("re-ingest, unchanged, same process")
    res["reingest_unchanged"] = timed_ingest(kb, files, root)
    log(f"  {res['reingest_unchanged']}")
    kb.close()
    log("re-ingest, unchanged, fresh `kb ingest` process (what a user runs)")
    listing = args.work / "list.txt"
    listing.write_text("\n".join(rels) + "\n", encoding="utf-8")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "ingest", "--index", str(index), "--root", str(root),
                           "--list", str(listing), "--json"], cwd=ROOT, capture_output=True, text=True)
    res["reingest_unchanged_cli_s"] = round(time.perf_counter() - t0, 2)
    res["reingest_unchanged_cli_rc"] = proc.returncode
    log(f"  {res['reingest_unchanged_cli_s']} s (rc {proc.returncode})")

    edited = edit_one(files)
    kb = KnowledgeBase(index, embedder=kb.embedder)
    stand_in_before = getattr(kb.embedder, "stand_in_texts", 0)
    rel = edited.relative_to(root).as_posix()
    log(f"re-ingest with one file changed: {rel}")
    one = timed_ingest(kb, files, root)
    one["file"] = rel
    one["stand_in_texts"] = getattr(kb.embedder, "stand_in_texts", 0) - stand_in_before
    doc_id = kb.store.find_doc_id(rel)
    one["file_chunks"] = len(kb.store.chunks_of(doc_id)) if doc_id else 0
    res["reingest_one_changed"] = one
    log(f"  {one}")
    kb.close()

    if args.embedder == "e5-small":
        log(f"embedding throughput on a ~{args.sample_chars}-character sample")
        res["embedding"] = embed_throughput(texts, args.sample_chars, kb.settings.embed_batch)
        cold = res["embedding"]["cold_embed_estimate_s"]
        ing["cold_wall_estimate_s"] = round(ing["non_embedding_s"] + cold, 1)
        ing["non_embedding_share_cold"] = round(ing["non_embedding_s"] / ing["cold_wall_estimate_s"], 4)
        log(f"  {res['embedding']}")
    save_result(f"ingest_{args.embedder.replace(':', '_')}", res)


if __name__ == "__main__":
    main()
