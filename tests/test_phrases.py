"""Quoted phrases through the trigram index (kb/store/phrases.py): exactly the chunks a plain
``instr`` scan finds, kept in step with replace/remove, and built once on an older store."""

from __future__ import annotations

import random
import sqlite3

import numpy as np
import pytest

from ingest.records import Chunk, Document
from kb.records import SearchFilters
from kb.store import Store, phrases
from kb.store.filters import filter_where

DOCS = {
    "a.txt": ("重庆", "plan", ["推进一带一路建设，落实十四五规划。", "法治政府建设实施纲要", "法治",
                              "重大行政决策程序暂行条例", "GDP 增长 50% 以上，a_b 与 a%b"]),
    "b.txt": ("北京", "news", ["一带和一路不是短语", "他说“引号”和\"直引号\"以及'单引号'", "法",
                              "gdp 小写；以法治", "𠀀𠀁 生僻字\x1f分隔", "十四五"]),
    "c.txt": ("重庆市", "law", ["第一条 为了规范重大行政决策程序", "路", "依法行政 法治政府 一带一路",
                               "政府 建设 有空格", "末尾是十四"]),
}
PHRASES = ["法", "治", "法治", "一带一路", "十四五", "法治政府", "重大行政决策", "gdp", "GDP", "引号", "“引号”",
           '"直引号"', "'单引号'", "50%", "%", "a_b", "_", '"', "'", "不存在的短语", "带一", "路", "𠀀𠀁", "𠀀",
           "政府 建设", "十四", "四五", "\x1f", "字\x1f分", "a%b", "一带一路建设，落实十四五规划。"]


def _doc(path: str, region: str, doc_type: str, texts: list[str]) -> Document:
    text = "\n".join(texts)
    chunks, pos = [], 0
    for t in texts:
        chunks.append(Chunk(section=[], start=pos, end=pos + len(t), text=t))
        pos += len(t) + 1
    return Document(path=path, text=text, title=path, region=region, doc_type=doc_type, chunks=chunks)


def _put(store: Store, path: str, region: str, doc_type: str, texts: list[str]) -> None:
    store.put_document(_doc(path, region, doc_type, texts), ["h"] * len(texts), [[] for _ in texts])


def _scan(store: Store, filters: SearchFilters | None, phrase_list: list[str]) -> set[int]:
    """The reference: the plain instr scan over every chunk that filtered_chunk_ids used to run."""
    where, args = filter_where(filters, "d")
    where += ["instr(c.text, ?) > 0"] * len(phrase_list)
    sql = "SELECT c.chunk_id FROM chunks c JOIN documents d USING (doc_id) WHERE " + " AND ".join(where)
    return {r[0] for r in store.con.execute(sql, args + phrase_list)}


def _ids(store: Store, filters: SearchFilters | None, phrase_list: list[str]) -> set[int]:
    got = store.filtered_chunk_ids(filters, phrase_list)
    assert got is not None
    assert len(got) == len(set(got.tolist())), "no chunk twice"
    return set(got.tolist())


def _indexed(store: Store) -> set[int]:
    return {r[0] for r in store.con.execute(f"SELECT DISTINCT doc FROM {phrases.TERMS}")}


def _chunk_ids(store: Store) -> set[int]:
    return {r[0] for r in store.con.execute("SELECT chunk_id FROM chunks")}


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "store.sqlite")
    for path, (region, doc_type, texts) in DOCS.items():
        _put(s, path, region, doc_type, texts)
    yield s
    s.close()


def test_phrases_match_the_instr_scan(store):
    assert phrases.installed(store.con)
    rng = random.Random(7)
    texts = [t for _, _, ts in DOCS.values() for t in ts]
    sampled = [t[i:i + n] for t in texts for n in (1, 2, 3, 5) for i in [rng.randrange(max(1, len(t) - n + 1))]]
    cases = [[p] for p in PHRASES + sampled] + [["一带一路", "十四五"], ["法治", "一带一路"], ["法", "治"],
                                                ["路", "依法"], ["不存在的短语", "法"]]
    filters = [None, SearchFilters(region="重庆"), SearchFilters(doc_type="news,law"),
               SearchFilters(region="重庆", doc_type="plan")]
    for phrase_list in cases:
        for f in filters:
            assert _ids(store, f, phrase_list) == _scan(store, f, phrase_list), (phrase_list, f)
    assert _ids(store, None, ["一带一路"]) and not _ids(store, None, ["不存在的短语"])


@pytest.mark.parametrize("phrase", ["一带一路", "十四五", "法治", "法"])
def test_phrase_query_reads_candidates_not_every_chunk(store, phrase):
    where, args = phrases.phrase_sql(store.con, [phrase], "c")
    sql = "SELECT c.chunk_id FROM chunks c WHERE " + " AND ".join(where)
    plan = [r[3] for r in store.con.execute("EXPLAIN QUERY PLAN " + sql, args)]
    assert not any(r == "SCAN c" or r.startswith("SCAN c ") for r in plan), plan
    assert any(r.startswith("SEARCH c USING INTEGER PRIMARY KEY") for r in plan), plan


def test_index_follows_replace_and_remove(store):
    _put(store, "new.txt", "上海", "plan", ["建立蓝鲸档案制度", "鲸档"])
    assert _ids(store, None, ["蓝鲸档案"]) == _scan(store, None, ["蓝鲸档案"]) != set()
    _put(store, "new.txt", "上海", "plan", ["改为白鹭规划", "白鹭"])  # replaced: old chunks gone
    for p in ["蓝鲸档案", "鲸档", "白鹭规划", "白鹭", "鹭"]:
        assert _ids(store, None, [p]) == _scan(store, None, [p]), p
    assert not _ids(store, None, ["蓝鲸档案"]) and _ids(store, None, ["白鹭规划"])
    assert _indexed(store) == _chunk_ids(store)
    assert store.delete_document(store.find_doc_id("new.txt"))
    assert store.delete_document(store.find_doc_id("a.txt"))
    assert _indexed(store) == _chunk_ids(store)
    for p in ["白鹭", "一带一路", "法治"]:
        assert _ids(store, None, [p]) == _scan(store, None, [p]), p
    store.con.execute(f"INSERT INTO {phrases.TABLE} ({phrases.TABLE}) VALUES ('integrity-check')")


CHUNKS = "SELECT * FROM chunks ORDER BY chunk_id"
DOCUMENTS = "SELECT * FROM documents ORDER BY doc_id"


def test_older_store_gets_the_index_once_without_losing_anything(store):
    path = store.path
    con = sqlite3.connect(path)  # make it a store from before the index existed
    for name in ("ins", "del", "upd"):
        con.execute(f"DROP TRIGGER {phrases.TABLE}_{name}")
    con.execute(f"DROP TABLE {phrases.TERMS}")
    con.execute(f"DROP TABLE {phrases.TABLE}")
    con.commit()
    con.close()
    store.close()
    raw = sqlite3.connect(path)
    assert not phrases.installed(raw)
    before = [raw.execute(q).fetchall() for q in (CHUNKS, DOCUMENTS)]
    raw.close()
    s = Store(path)  # opening migrates
    try:
        assert phrases.installed(s.con)
        assert [[tuple(r) for r in s.con.execute(q)] for q in (CHUNKS, DOCUMENTS)] == before
        assert _indexed(s) == _chunk_ids(s)
        for p in ["一带一路", "法治", "法", "GDP"]:
            assert _ids(s, None, [p]) == _scan(s, None, [p]), p
        _put(s, "later.txt", "", "other", ["迁移之后再写入"])  # triggers are in place too
        assert _ids(s, None, ["迁移之后"]) == _scan(s, None, ["迁移之后"]) != set()
    finally:
        s.close()


def test_without_trigram_support_phrases_fall_back_to_the_scan(tmp_path, monkeypatch):
    broken = tuple(st.replace("tokenize='trigram", "tokenize='nosuch") for st in phrases.STATEMENTS)
    monkeypatch.setattr(phrases, "STATEMENTS", broken)
    s = Store(tmp_path / "store.sqlite")
    try:
        assert not phrases.installed(s.con)
        _put(s, "a.txt", "重庆", "plan", DOCS["a.txt"][2])
        for p in ["一带一路", "法治", "50%"]:
            assert _ids(s, None, [p]) == _scan(s, None, [p]) != set(), p
        assert np.array_equal(np.sort(s.filtered_chunk_ids(None, ["法"])), np.sort(list(_scan(s, None, ["法"]))))
    finally:
        s.close()


def test_a_character_most_chunks_hold_is_scanned_a_rare_one_looked_up(tmp_path):
    s = Store(tmp_path / "store.sqlite")
    try:
        _put(s, "big.txt", "", "other", [f"第{i}条的规定" for i in range(1500)] + ["鲸"])
        for char, via_index in [("的", False), ("鲸", True), ("条的", True)]:
            where, _ = phrases.phrase_sql(s.con, [char], "c")
            assert (len(where) == 2) == via_index, char
            assert _ids(s, None, [char]) == _scan(s, None, [char]) != set(), char
    finally:
        s.close()
