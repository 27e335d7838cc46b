"""Crash safety: a `kb ingest` SIGKILLed at any fault point (kb/faults.py) loses nothing.

Documents A are ingested first; a child `kb ingest` of documents B then kills itself at one
point. Afterwards the store must be whole (only the derived indexes may be stale), A must
be intact and searchable, and the next ingest of B must finish the interrupted work.
The checks after the crash run the real CLI commands in-process (CliRunner): each opens
the index afresh, exactly as a new `kb` process would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "robust"
A_DIR, B_DIR = DATA / "a", DATA / "b"
A_NAMES = sorted(p.name for p in A_DIR.iterdir())
B_NAMES = sorted(p.name for p in B_DIR.iterdir())
REGULATION = "人民调解委员会组织条例(1989-06-16).md"
# What `kb check --no-repair` may report after a crash: derived indexes behind the store.
# Anything else (offset mismatches, orphan chunks, missing embeddings) is a damaged store.
STALE = re.compile(r"saved indexes|FAISS|BM25")


def cli(*args) -> tuple[int, str]:
    from kb.cli import app

    res = CliRunner().invoke(app, [str(a) for a in args])
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout


def cli_json(*args):
    code, out = cli(*args, "--json")
    return code, json.loads(out)


def crash_run(point: str, *args, batch: int = 2) -> subprocess.CompletedProcess:
    """`kb ARGS` in a child process that SIGKILLs itself at ``point``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(KB_CRASH_AT=point, KB_EMBED_BATCH=str(batch))
    proc = subprocess.run([sys.executable, "-m", "kb.cli", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, (
        f"`kb {' '.join(map(str, args))}` with KB_CRASH_AT={point} did not die by SIGKILL "
        f"(rc {proc.returncode}): {proc.stderr[-2000:]}")
    return proc


def peek(index: Path) -> dict:
    """The on-disk state, read straight from SQLite (no KnowledgeBase, so nothing is repaired)."""
    con = sqlite3.connect(f"file:{index / 'store.sqlite'}?mode=ro", uri=True)
    try:
        paths = sorted(r[0] for r in con.execute("SELECT path FROM documents"))
        gen = int(con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        embeddings = con.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        chunk_ids = sorted(r[0] for r in con.execute("SELECT chunk_id FROM chunks"))
    finally:
        con.close()
    derived = json.loads((index / "derived.json").read_text())["generation"]
    return {"paths": paths, "generation": gen, "embeddings": embeddings, "chunk_ids": chunk_ids,
            "derived": derived}


def phrase_of(doc: dict) -> str:
    """A verbatim stretch of the document's longest passage, to search for in quotes."""
    c = max(doc["chunks"], key=lambda c: c["end"] - c["start"])
    line = max(doc["text"][c["start"]:c["end"]].splitlines(), key=len)
    return line[2:14].strip()


def spans(doc: dict) -> list[tuple[int, int, list[str]]]:
    return [(c["start"], c["end"], c["section"]) for c in doc["chunks"]]


def assert_searchable(index: Path, doc: dict, present: bool = True) -> None:
    phrase = phrase_of(doc)
    for mode in ("lexical", "dense"):
        code, out = cli_json("search", f'"{phrase}"', "--index", index, "--mode", mode, "-k", "20")
        assert code == 0
        hits = out["hits"]
        found = {h["path"] for h in hits}
        assert (doc["path"] in found) == present, f"{mode} search for “{phrase}”: {found}"
        assert all(phrase in h["text"] for h in hits)


def assert_whole(index: Path, reference: dict[str, dict]) -> None:
    """`kb check` ok, and every document exactly as a clean ingest makes it, no chunk twice."""
    code, res = cli_json("check", "--index", index)
    assert code == 0 and res["ok"], res["problems"]
    code, rows = cli_json("docs", "--index", index)
    assert sorted(r["path"] for r in rows) == sorted(reference)
    n = 0
    for path, ref in reference.items():
        code, doc = cli_json("doc", path, "--index", index)
        assert code == 0
        assert doc["text"] == ref["text"], path
        assert spans(doc) == spans(ref), f"{path}: chunks differ from a clean ingest"
        n += len(doc["chunks"])
    assert res["chunks"] == n, "duplicate or leftover chunks"


@pytest.fixture(scope="module")
def a_index(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    """An index holding documents A (built once, copied by each test) and their `kb doc --json`."""
    index = tmp_path_factory.mktemp("a") / "index"
    code, summary = cli_json("ingest", "--index", index, "--embedder", "fake", A_DIR)
    assert code == 0 and sorted(summary["ingested"]) == A_NAMES, summary
    docs = {name: cli_json("doc", name, "--index", index)[1] for name in A_NAMES}
    return index, docs


@pytest.fixture(scope="module")
def reference(tmp_path_factory, a_index) -> dict[str, dict]:
    """Documents A and B as one uninterrupted ingest stores them."""
    index = tmp_path_factory.mktemp("ref") / "index"
    shutil.copytree(a_index[0], index)
    code, _ = cli_json("ingest", "--index", index, B_DIR)
    assert code == 0
    return {name: cli_json("doc", name, "--index", index)[1] for name in A_NAMES + B_NAMES}


@pytest.fixture
def index(tmp_path, a_index) -> Path:
    dst = tmp_path / "index"
    shutil.copytree(a_index[0], dst)
    return dst


def _died_at_embed(before: dict, after: dict) -> None:
    assert after["paths"] == A_NAMES and after["generation"] == before["generation"]
    assert after["embeddings"] == before["embeddings"] + 4, "two batches of two were cached before the kill"


def _died_at_store(before: dict, after: dict) -> None:
    assert after["paths"] == sorted(A_NAMES + B_NAMES[:2]), "killed after the second document commit"
    assert after["generation"] == before["generation"] + 2 and after["derived"] == before["generation"]


def _died_at_faiss_tmp(before: dict, after: dict) -> None:
    assert after["paths"] == sorted(A_NAMES + B_NAMES)
    assert after["derived"] == before["generation"] < after["generation"]


_died_at_index = _died_at_faiss_tmp

POINTS = {"embed:2": _died_at_embed, "store:2": _died_at_store, "faiss_tmp": _died_at_faiss_tmp,
          "index": _died_at_index}


@pytest.mark.parametrize("point", POINTS)
def test_crash_during_ingest_loses_nothing(point, index, a_index, reference):
    a_docs = a_index[1]
    b_texts = sum(len(reference[n]["chunks"]) for n in B_NAMES)
    assert b_texts > 4, "documents B must need more than two embedding batches"
    before = peek(index)

    crash_run(point, "ingest", "--index", index, B_DIR)
    after = peek(index)
    POINTS[point](before, after)
    if point == "faiss_tmp":
        assert (index / "vectors.faiss.tmp").exists(), "killed with the FAISS temp file written"
    if point == "index":
        import numpy as np
        assert np.load(index / "chunk_ids.npy").tolist() == after["chunk_ids"], "new index files in place"

    # judged as left on disk: stale indexes may be reported, a damaged store never
    code, res = cli_json("check", "--index", index, "--no-repair")
    assert [p for p in res["problems"] if not STALE.search(p)] == []
    stale = after["generation"] != after["derived"]
    assert res["ok"] is not stale and code == (1 if stale else 0), res
    code, res = cli_json("check", "--index", index)
    assert code == 0 and res["ok"], res["problems"]
    assert (res["repaired"] is not None) is stale

    for name, doc in a_docs.items():
        assert cli_json("doc", name, "--index", index) == (0, doc), f"{name} changed by the crash"
        assert_searchable(index, doc)

    code, summary = cli_json("ingest", "--index", index, B_DIR)
    assert code == 0, summary
    assert sorted(summary["ingested"] + summary["unchanged"]) == B_NAMES and not summary["failed"]
    assert_whole(index, reference)
    for name, doc in a_docs.items():
        assert cli_json("doc", name, "--index", index) == (0, doc)
    for name in B_NAMES:
        assert_searchable(index, reference[name])


@pytest.mark.parametrize("point, survivor", [("embed:1", "old"), ("store", "new")])
def test_crash_while_replacing_a_document_keeps_one_whole_version(point, survivor, index, a_index, tmp_path):
    from ingest import parse_file

    folder = tmp_path / "a2"
    shutil.copytree(A_DIR, folder)
    f = folder / REGULATION
    text = f.read_text(encoding="utf-8")
    assert "人民调解委员会是" in text
    f.write_text(text.replace("人民调解委员会是", "人民调解委员会（修订）是", 1)
                 + "\n第十八条 本条例的修订内容自发布之日起施行。\n", encoding="utf-8")
    new = parse_file(f, REGULATION)
    old = a_index[1][REGULATION]
    assert new.text != old["text"]

    crash_run(point, "ingest", "--index", index, folder, batch=1)
    code, doc = cli_json("doc", REGULATION, "--index", index)
    assert code == 0
    if survivor == "old":
        assert doc == old
    else:
        assert doc["text"] == new.text
        assert spans(doc) == [(c.start, c.end, c.section) for c in new.chunks]
    code, res = cli_json("check", "--index", index)
    assert code == 0 and res["ok"], res["problems"]
    assert_searchable(index, doc)

    code, summary = cli_json("ingest", "--index", index, folder)
    assert code == 0 and (REGULATION in summary["ingested"]) == (survivor == "old"), summary
    code, doc = cli_json("doc", REGULATION, "--index", index)
    assert doc["text"] == new.text and spans(doc) == [(c.start, c.end, c.section) for c in new.chunks]
    code, res = cli_json("check", "--index", index)
    assert code == 0 and res["ok"] and res["chunks"] == sum(
        len(d["chunks"]) for d in a_index[1].values()) - len(old["chunks"]) + len(new.chunks)


def test_crash_during_the_very_first_ingest(tmp_path, reference):
    index = tmp_path / "index"
    crash_run("store:2", "ingest", "--index", index, "--embedder", "fake", B_DIR)
    code, res = cli_json("check", "--index", index, "--no-repair")
    assert res["documents"] == 2 and [p for p in res["problems"] if not STALE.search(p)] == []
    assert code == 1 and not res["ok"], "no saved indexes yet: reported, not hidden"
    code, summary = cli_json("ingest", "--index", index, B_DIR)
    assert code == 0 and sorted(summary["unchanged"]) == B_NAMES[:2] and summary["ingested"] == B_NAMES[2:]
    assert_whole(index, {n: reference[n] for n in B_NAMES})


def test_crash_during_remove_leaves_no_ghost_hits(index, a_index):
    doc = a_index[1][REGULATION]
    crash_run("faiss_tmp", "remove", REGULATION, "--index", index)
    assert REGULATION not in peek(index)["paths"]
    code, res = cli_json("check", "--index", index)
    assert code == 0 and res["ok"], res["problems"]
    assert_searchable(index, doc, present=False)
    for name in A_NAMES:
        if name != REGULATION:
            assert_searchable(index, a_index[1][name])


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _garbage(p: Path) -> None:
    p.write_bytes(os.urandom(max(64, p.stat().st_size)))


DAMAGE = {
    "truncated vectors.faiss": lambda d: _truncate(d / "vectors.faiss"),
    "garbage vectors.faiss": lambda d: _garbage(d / "vectors.faiss"),
    "empty vectors.faiss": lambda d: (d / "vectors.faiss").write_bytes(b""),
    "missing vectors.faiss": lambda d: (d / "vectors.faiss").unlink(),
    "garbage bm25 files": lambda d: [_garbage(p) for p in (d / "bm25").iterdir()],
    "truncated bm25 files": lambda d: [_truncate(p) for p in (d / "bm25").iterdir()],
    "bm25 folder gone": lambda d: shutil.rmtree(d / "bm25"),
    "bm25 folder is a file": lambda d: (shutil.rmtree(d / "bm25"), (d / "bm25").write_bytes(b"\0" * 10)),
    "garbage chunk_ids.npy": lambda d: _garbage(d / "chunk_ids.npy"),
    "garbage derived.json": lambda d: _garbage(d / "derived.json"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_index_files_are_rebuilt_on_open(damage, index, a_index):
    from kb import indexer
    from kb.core import KnowledgeBase

    DAMAGE[damage](index)
    kb = KnowledgeBase(index)
    for doc in a_index[1].values():
        phrase = phrase_of(doc)
        for mode in ("lexical", "dense"):
            assert doc["path"] in {h.path for h in kb.search(f'"{phrase}"', k=20, mode=mode)}, (damage, mode)
    res = kb.check(repair=False)
    kb.close()
    assert res["ok"], res["problems"]
    snap = indexer.load(index)
    assert snap is not None and len(snap.vectors) == len(snap.live_ids()) == res["chunks"], "files rewritten whole"
