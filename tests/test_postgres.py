"""The store in PostgreSQL (KB_DATABASE_URL): the same answers as the SQLite store, writes that
are whole or not at all, quoted phrases through pg_trgm, and, with Milvus beside it, an index
that keeps nothing on local disk. A real server is started per session (tests/pgserver.py)."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from ingest import parse_file
from kb.core import KnowledgeBase
from kb.errors import NotFound, Unavailable
from kb.records import SearchFilters
from kb.settings import Settings
from kb.store import Store, doc_id_for, text_hash

ROOT = Path(__file__).resolve().parent.parent
LAWS = ROOT / "tests" / "data" / "ask"  # laws with articles and validity facts, and two seed documents
BIN = Path(sys.executable).parent
QUERIES = ("重大行政决策 合法性审查", "政府信息公开 期限", "法治政府建设 报告", '"听取"', "行政复议")


def hits(kb, query, mode, **kw):
    return [(h.path, h.start, h.end, round(h.score, 4), h.status) for h in kb.search(query, k=8, mode=mode, **kw)]


@pytest.fixture()
def pair(tmp_path, pg_url):
    """The same documents in a SQLite index and in a PostgreSQL one."""
    local = KnowledgeBase(tmp_path / "local", embedder="fake")
    shared = KnowledgeBase(tmp_path / "pg", embedder="fake", settings=Settings(database_url=pg_url))
    for kb in (local, shared):
        summary = kb.ingest([LAWS], root=LAWS)
        assert not summary.failed and len(summary.ingested) > 5, summary.failed
    yield local, shared
    local.close()
    shared.close()


def test_same_results_as_the_sqlite_store(pair):
    local, shared = pair
    assert shared.store.kind == "postgres" and local.store.kind == "sqlite"
    assert shared.stats() == {**local.stats(), "index_kind": shared.stats()["index_kind"]}
    for query in QUERIES:
        for mode in ("lexical", "dense", "hybrid"):
            assert hits(shared, query, mode) == hits(local, query, mode), (query, mode)
    only = SearchFilters(doc_type="法规", year_from=2019)
    assert hits(shared, "决策", "hybrid", filters=only) == hits(local, "决策", "hybrid", filters=only)
    assert shared.documents(limit=100) == local.documents(limit=100)
    path = local.documents(limit=1)[1][0]["path"]
    assert shared.document(path) == local.document(path)
    assert shared.ask("重大行政决策应当经过哪些程序？") == local.ask("重大行政决策应当经过哪些程序？")
    assert shared.check()["ok"] and shared.check()["problems"] == []
    # the phrase bridge reads every chunk's text (a word no text holds: 办完)
    texts = [[pair for page in kb.store.chunk_texts(page=7) for pair in page] for kb in (shared, local)]
    assert texts[0] == texts[1] and len(texts[0]) == local.stats()["chunks"]
    query = "办事能不能只在网上一个地方办完"
    assert shared.query_plan(query) == local.query_plan(query)
    assert hits(shared, query, "hybrid") == hits(local, query, "hybrid")


def test_quoted_phrases_are_exact_through_the_trigram_index(pair):
    local, shared = pair
    assert shared.store.db.trigrams
    texts = {int(c): r["text"] for c, r in shared.store.chunk_rows(shared.store.chunk_ids()).items()}
    for phrase in ("合法性审查", "审", "第十", "100%", "a_b", "不存在的短语"):
        got = shared.store.filtered_chunk_ids(None, [phrase])
        assert got is not None
        assert sorted(got.tolist()) == sorted(c for c, t in texts.items() if phrase in t), phrase
        assert len(got) == len(local.store.filtered_chunk_ids(None, [phrase])), phrase


def test_a_failed_write_keeps_what_was_stored(pair):
    _, shared = pair
    store = shared.store
    rel = "laws/全国/行政法规/重大行政决策程序暂行条例(2019-04-20).md"
    doc = parse_file(LAWS / rel, rel)
    before = (store.generation(), store.counts(), store.chunk_ids_of([doc_id_for(rel)]).tolist())
    assert len(before[2]) == len(doc.chunks) > 3
    hashes = [text_hash(c.text) for c in doc.chunks]
    with pytest.raises(IndexError):  # one hash short: the last chunk's insert fails, after the old rows went
        store.put_document(doc, hashes[:-1], [[] for _ in hashes])
    assert (store.generation(), store.counts(), store.chunk_ids_of([doc_id_for(rel)]).tolist()) == before


def test_a_cache_write_gives_up_while_a_writer_holds_the_store(pg_url):
    store = Store(pg_url)
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.write():
            held.set()
            release.wait(10)
    t = threading.Thread(target=writer)
    t.start()
    held.wait(10)
    vec = np.ones(4, dtype=np.float32)
    assert store.put_vectors("fake", [("h1", vec)], wait_ms=200) is False  # gave up, did not wait 10 s
    release.set()
    t.join()
    assert store.put_vectors("fake", [("h1", vec)], wait_ms=200) is True
    assert store.cached_vectors("fake", ["h1"])["h1"].tolist() == vec.tolist()
    store.close()


def test_with_milvus_nothing_is_kept_on_local_disk(tmp_path, pg_url):
    settings = Settings(database_url=pg_url, milvus_uri=str(tmp_path / "milvus.db"))
    one = KnowledgeBase(tmp_path / "one", embedder="fake", settings=settings)
    assert not one.ingest([LAWS], root=LAWS).failed
    two = KnowledgeBase(tmp_path / "two", embedder="fake", settings=settings, create=False)  # another host
    assert not (tmp_path / "one").exists() and not (tmp_path / "two").exists()
    assert two.manifest == one.manifest and one.manifest.vector_index == "milvus"
    assert json.loads(one.store.get_meta("manifest"))["collection"] == one.manifest.collection
    for query in QUERIES[:3]:
        assert hits(two, query, "hybrid") == hits(one, query, "hybrid")
    assert two.check()["ok"]
    one.remove("laws/全国/行政法规/政府信息公开条例(2019-04-03).md")
    assert "政府信息公开条例" not in {h.title for h in two.search("政府信息公开", k=10)}
    for kb in (one, two):
        kb.close()


def test_an_empty_database_is_no_index_and_a_wrong_url_says_so(tmp_path, pg_url, pg_server):
    with pytest.raises(NotFound, match="no index in the database"):
        KnowledgeBase(tmp_path / "x", embedder="fake", settings=Settings(database_url=pg_url), create=False)
    wrong = pg_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(Unavailable, match="KB_DATABASE_URL"):
        Store(wrong)


def test_the_kb_script_against_a_database(tmp_path, pg_url):
    env = {**os.environ, "KB_DATABASE_URL": pg_url, "KB_EMBEDDER": "fake"}

    def kb(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "kb"), *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=300)
    done = kb("ingest", str(LAWS))
    assert done.returncode == 0, done.stderr
    done = kb("search", "--json", "合法性审查")
    assert done.returncode == 0, done.stderr
    assert "重大行政决策程序暂行条例" in json.loads(done.stdout)["hits"][0]["title"]
    done = kb("check")
    assert done.returncode == 0 and done.stdout.startswith("OK: 6 documents"), done.stdout + done.stderr
    assert not (tmp_path / "indexes" / "default" / "store.sqlite").exists()  # the store is the database
    bad = subprocess.run([str(BIN / "kb"), "search", "x"], env={**env, "KB_DATABASE_URL": pg_url + "_gone"},
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "KB_DATABASE_URL" in bad.stderr and "Traceback" not in bad.stderr


def test_migrate_moves_an_embedded_index_without_embedding(pair, pg_server, tmp_path):
    local, _ = pair
    url = pg_server.new_database()
    env = {**os.environ, "KB_DATABASE_URL": url}
    done = subprocess.run([str(BIN / "kb"), "migrate", "--index", str(local.dir), "--json"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"]["chunks"] == local.store.counts()[1] and report["generation"] == local.store.generation()
    moved = KnowledgeBase(tmp_path / "moved", embedder="fake", settings=Settings(database_url=url), create=False)
    assert moved.store.chunk_ids().tolist() == local.store.chunk_ids().tolist()
    for query in QUERIES:
        assert hits(moved, query, "hybrid") == hits(local, query, "hybrid"), query
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "新规.md").write_text("# 城市更新条例\n\n第一条 城市更新应当公开征求意见。\n", encoding="utf-8")
    moved.ingest([extra], root=extra)  # new ids continue after the copied ones
    assert moved.store.chunk_ids().max() > local.store.chunk_ids().max() and moved.check()["ok"]
    again = subprocess.run([str(BIN / "kb"), "migrate", "--index", str(local.dir)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 1 and "already holds an index" in again.stderr
    moved.close()


def test_a_lost_server_is_unavailable_not_a_crash(tmp_path):
    from pgserver import PgServer, find_bin
    server = PgServer(find_bin())  # its own server: this test stops it
    try:
        store = Store(server.new_database())
        assert store.counts() == (0, 0)
        server.kill()
        with pytest.raises(Unavailable, match="lost the database"):
            store.counts()
        with pytest.raises(Unavailable, match="lost the database"):
            with store.write() as con:
                con.execute("SELECT 1")
        store.close()
    finally:
        server.stop()
