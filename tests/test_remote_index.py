"""An index whose vectors and BM25 live in Milvus (milvus-lite in process), KB_MILVUS_URI set."""

import json

import numpy as np
import pytest

from kb import remote_index
from kb.core import KnowledgeBase
from kb.errors import IndexMismatch
from kb.settings import Settings

DOCS = {
    "a.md": "# 重大行政决策程序规定\n\n第一条 重大行政决策应当经过公众参与、专家论证、风险评估、合法性审查和集体讨论决定。\n\n"
            "第二条 决策草案提交讨论前，应当进行合法性审查。\n",
    "b.md": "# 行政处罚听证办法\n\n第一条 当事人要求听证的，应当在告知后五日内提出。\n\n第二条 听证应当公开举行。\n",
    "c.md": "# 优化营商环境条例\n\n第一条 保护市场主体合法权益，优化营商环境。\n",
}


@pytest.fixture()
def corpus(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def settings(tmp_path) -> Settings:
    return Settings(milvus_uri=str(tmp_path / "milvus.db"))


def ranked(kb, query, mode):
    return [(h.path, round(h.score, 4)) for h in kb.search(query, k=5, mode=mode)]


@pytest.mark.parametrize("page", [5_000, 2])
def test_same_hits_as_the_embedded_index(tmp_path, corpus, monkeypatch, page):
    monkeypatch.setattr(remote_index, "PAGE", page)  # a fill written in pages is normalised as one
    remote = KnowledgeBase(tmp_path / "remote", embedder="fake", settings=settings(tmp_path))
    local = KnowledgeBase(tmp_path / "local", embedder="fake")
    for kb in (remote, local):
        assert not kb.ingest([corpus], root=corpus).failed
    manifest = json.loads((tmp_path / "remote" / "manifest.json").read_text())
    assert manifest["vector_index"] == manifest["keyword_index"] == "milvus" and manifest["collection"]
    assert not (tmp_path / "remote" / "vectors.faiss").exists()  # nothing derived on local disk
    for query in ("合法性审查", "听证 五日", "营商环境"):
        for mode in ("lexical", "dense", "hybrid"):
            assert ranked(remote, query, mode) == ranked(local, query, mode), (query, mode)
    assert remote.check()["ok"]


def test_a_crash_before_the_milvus_write_is_repaired_on_open(tmp_path, corpus):
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", settings=settings(tmp_path))
    kb.ingest([corpus], root=corpus)
    last = kb.store.chunk_ids_of([kb.store.find_doc_id("c.md")])  # the last write's chunks
    vectors, keywords = kb.remote
    vectors.remove(last)  # as if the process died between the store commit and Milvus
    keywords.remove(last[-1:])
    vectors.set_marker(vectors.marker() - 1)
    del kb, vectors, keywords
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", settings=settings(tmp_path))
    report = kb.check(repair=False)
    assert not report["ok"] and any("missing from the Milvus vectors" in p for p in report["problems"])
    assert any("missing from the Milvus keywords" in p for p in report["problems"])
    assert kb.search("营商环境", k=3)[0].path == "c.md"  # the next open replayed the last generation
    assert kb.check(repair=False)["ok"]
    assert np.array_equal(np.sort(kb.remote[0].ids()), kb.store.chunk_ids())


def test_check_repairs_chunks_missing_from_milvus_in_any_generation(tmp_path, corpus):
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", settings=settings(tmp_path))
    kb.ingest([corpus], root=corpus)
    vectors, keywords = kb.remote
    held = vectors.ids()
    vectors.remove(held[:2])  # lost some other way: the marker still says all is there
    keywords.remove(held[-1:])
    report = kb.check(repair=False)
    assert not report["ok"] and len(report["problems"]) == 2, report
    report = kb.check()
    assert report["ok"] and report["repaired"], report
    assert np.array_equal(np.sort(kb.remote[0].ids()), kb.store.chunk_ids())
    assert np.array_equal(np.sort(kb.remote[1].ids()), kb.store.chunk_ids())


def test_a_write_replays_only_what_it_changed(tmp_path, corpus, monkeypatch):
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", settings=settings(tmp_path))
    kb.ingest([corpus], root=corpus)
    listed: list[str] = []
    for backend in kb.remote:
        monkeypatch.setattr(backend, "ids", lambda b=backend: listed.append(b.kind) or np.zeros(0, np.int64))
    (corpus / "d.md").write_text("# 新规\n\n第一条 城市更新应当公开征求意见。\n", encoding="utf-8")
    kb.ingest([corpus], root=corpus)
    assert kb.remove("a.md")
    assert listed == []  # neither write listed a collection's ids
    assert kb.search("城市更新", k=1)[0].path == "d.md"
    assert "a.md" not in {h.path for h in kb.search("合法性审查", k=5)}


def test_remove_reaches_milvus(tmp_path, corpus):
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", settings=settings(tmp_path))
    kb.ingest([corpus], root=corpus)
    assert kb.remove("b.md")
    assert all(h.path != "b.md" for h in kb.search("听证", k=5, mode="lexical"))
    assert kb.remote[1].count() == kb.remote[0].count() == len(kb.store.chunk_ids())


def test_opening_without_the_uri_says_what_to_set(tmp_path, corpus):
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", settings=settings(tmp_path))
    kb.ingest([corpus], root=corpus)
    del kb
    with pytest.raises(IndexMismatch, match="KB_MILVUS_URI"):
        KnowledgeBase(tmp_path / "idx")


def test_reindex_refills_the_milvus_vectors_from_the_cache(tmp_path, corpus):
    from kb.embed import get_embedder
    from kb.reindex import reindex
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", settings=settings(tmp_path))
    kb.ingest([corpus], root=corpus)
    keywords_before = kb.remote[1].ids().tolist()
    summary = reindex(kb, "fake:32")
    assert summary.embedded == summary.chunks > 0 and kb.manifest.dim == 32
    assert kb.remote[0].dim == 32 and kb.remote[0].ids().tolist() == keywords_before
    local = KnowledgeBase(tmp_path / "local", embedder=get_embedder("fake:32"))
    local.ingest([corpus], root=corpus)
    assert ranked(kb, "合法性审查", "dense") == ranked(local, "合法性审查", "dense")
    assert kb.check()["ok"]
    reopened = KnowledgeBase(tmp_path / "idx", settings=settings(tmp_path), create=False)
    assert reopened.manifest.embedder == "fake:32" and ranked(reopened, "听证", "hybrid") == ranked(kb, "听证", "hybrid")
    assert reindex(kb, "fake").embedded == 0  # back again: every vector is cached


def test_a_store_older_than_milvus_is_compared_whole(tmp_path, corpus):
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", settings=settings(tmp_path))
    kb.ingest([corpus], root=corpus)
    kb.remote[0].set_marker(kb.store.generation() + 5)  # as after restoring the store from a backup
    extra = kb.store.chunk_ids_of([kb.store.find_doc_id("a.md")])
    with kb.store.write() as con:  # the backup lacks a.md, which Milvus still holds
        con.execute("DELETE FROM chunks WHERE doc_id = ?", (kb.store.find_doc_id("a.md"),))
        con.execute("DELETE FROM documents WHERE path = 'a.md'")
    kb2 = KnowledgeBase(tmp_path / "idx", embedder="fake", settings=settings(tmp_path))
    kb2.snapshot()
    assert not np.isin(extra, kb2.remote[0].ids()).any() and kb2.check(repair=False)["ok"]
