"""KnowledgeBase mechanics with the fake embedder: store, cache, replace/remove, filters, phrases."""

from __future__ import annotations

import numpy as np
import pytest

from kb.core import KnowledgeBase
from kb.errors import IndexMismatch, InvalidInput, NotFound
from kb.indexer import load as load_snapshot
from kb.records import SearchFilters


def _store_ids(kb: KnowledgeBase) -> np.ndarray:
    return kb.store.chunk_ids()


def _assert_consistent(kb: KnowledgeBase) -> None:
    snap = kb.snapshot()
    ids = _store_ids(kb)
    assert np.array_equal(np.sort(snap.vectors.ids()), ids)
    assert np.array_equal(snap.live_ids(), ids)
    assert len(snap.bm25) == len(snap.chunk_ids) and snap.bm25.n_live == len(ids)
    assert kb.check()["ok"], kb.check()["problems"]


def test_ingest_reingest_is_noop_and_uses_cache(tmp_path, small_corpus):
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    first = kb.ingest([small_corpus])
    assert len(first.ingested) == 3 and not first.failed
    embedded = kb.embedder.texts_embedded
    assert embedded > 0
    gen = kb.store.generation()
    again = kb.ingest([small_corpus])
    assert sorted(again.unchanged) == sorted(first.ingested) and not again.ingested
    assert kb.embedder.texts_embedded == embedded  # nothing embedded the second time
    assert kb.store.generation() == gen


def test_changed_file_replaces_and_reembeds_only_changed_chunks(tmp_path, small_corpus):
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    kb.ingest([small_corpus])
    doc_before = kb.document("002_5300b03fe4b43074.txt")
    old_chunk_ids = {c["chunk_id"] for c in doc_before.chunks}
    embedded = kb.embedder.texts_embedded
    f = small_corpus / "002_5300b03fe4b43074.txt"
    f.write_text(f.read_text(encoding="utf-8") + "\n（五）新增一条独特测试措施：建立蓝鲸档案制度。\n", encoding="utf-8")
    res = kb.ingest([small_corpus])
    assert res.ingested == ["002_5300b03fe4b43074.txt"] and len(res.unchanged) == 2
    assert 0 < kb.embedder.texts_embedded - embedded <= 2  # only the changed chunk(s)
    doc_after = kb.document("002_5300b03fe4b43074.txt")
    assert not old_chunk_ids & {c["chunk_id"] for c in doc_after.chunks}
    hits = kb.search('"蓝鲸档案"', k=5)
    assert hits and all("蓝鲸档案" in h.text for h in hits)
    _assert_consistent(kb)


def test_remove_updates_store_and_indexes(tmp_path, small_corpus):
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    kb.ingest([small_corpus])
    doc = kb.document("004_6277130b06efc827.txt")
    assert kb.remove(doc.doc_id) is True
    assert kb.remove(doc.doc_id) is False
    with pytest.raises(NotFound):
        kb.document(doc.doc_id)
    assert all(h.doc_id != doc.doc_id for h in kb.search("清泉乡 法治政府建设", k=20))
    _assert_consistent(kb)
    saved = load_snapshot(kb.dir)
    assert saved is not None and saved.generation == kb.store.generation()


def test_reopen_and_embedder_mismatch(tmp_path, small_corpus):
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    kb.ingest([small_corpus])
    hits = [h.chunk_id for h in kb.search("重大行政决策", k=5)]
    again = KnowledgeBase(tmp_path / "idx")
    assert again.manifest.embedder == "fake"
    assert [h.chunk_id for h in again.search("重大行政决策", k=5)] == hits
    with pytest.raises(IndexMismatch, match="--embedder fake"):
        KnowledgeBase(tmp_path / "idx", embedder="fake:32")
    with pytest.raises(NotFound, match="kb ingest"):
        KnowledgeBase(tmp_path / "missing", create=False)


def test_failures_are_reported_and_others_stored(tmp_path, small_corpus):
    (small_corpus / "empty.txt").write_bytes(b"")
    (small_corpus / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    (small_corpus / "table.xls").write_bytes(b"x")
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    res = kb.ingest([small_corpus, tmp_path / "nope.txt"])
    failed = dict(res.failed)
    assert set(failed) == {"empty.txt", "binary.txt", "nope.txt"}
    assert all(reason for reason in failed.values())
    assert [p for p, _ in res.skipped] == ["table.xls"]
    assert len(res.ingested) == 3


def test_phrase_and_filters(fake_kb):
    hits = fake_kb.search('"合法性审查"', k=10)
    assert hits and all("合法性审查" in h.text for h in hits)
    for f, ok in [
        (SearchFilters(doc_type="news"), lambda h: h.doc_type == "news"),
        (SearchFilters(region="重庆"), lambda h: "重庆" in h.region),
        (SearchFilters(year_from=2020, year_to=2023), lambda h: 2020 <= int(h.date[:4]) <= 2023),
        (SearchFilters(path_prefix="seeds/"), lambda h: h.path.startswith("seeds/")),
    ]:
        hits = fake_kb.search("法治政府建设", k=5, filters=f)
        assert hits, f
        assert all(ok(h) for h in hits), f
    assert fake_kb.search("法治", filters=SearchFilters(region="火星")) == []


def test_hits_are_exact_spans_with_citations(fake_kb):
    for mode in ("hybrid", "dense", "lexical"):
        hits = fake_kb.search("重大行政决策 公众参与 专家论证", k=8, mode=mode)
        assert hits, mode
        for h in hits:
            doc = fake_kb.document(h.doc_id)
            assert doc.text[h.start:h.end] == h.text
            assert h.citation.startswith("《")
            for s, e in h.highlights:
                assert 0 <= s < e <= len(h.text)


def test_near_duplicates_collapse(tmp_path, small_corpus):
    text = (small_corpus / "004_6277130b06efc827.txt").read_text(encoding="utf-8")
    (small_corpus / "copy_of_004.txt").write_text(text, encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    kb.ingest([small_corpus])
    hits = kb.search("清泉乡 提高依法决策水平", k=5)
    top = hits[0]
    assert {a["path"] for a in top.also_in} & {"copy_of_004.txt", "004_6277130b06efc827.txt"}
    flat = kb.search("清泉乡 提高依法决策水平", k=5, collapse=False)
    assert len({h.text for h in flat}) < len(flat)  # without collapsing the copy shows up twice


def test_bad_queries(fake_kb):
    with pytest.raises(InvalidInput):
        fake_kb.search("   ")
    with pytest.raises(InvalidInput, match="mode"):
        fake_kb.search("法治", mode="fuzzy")
    assert fake_kb.search("？？！！。。") == []


def test_passage_span_and_citation(fake_kb):
    hit = fake_kb.search("重大行政决策", k=1)[0]
    p = fake_kb.passage(hit.doc_id, hit.start, hit.end)
    assert p["text"] == hit.text and p["citation"]
    with pytest.raises(InvalidInput):
        fake_kb.passage(hit.doc_id, 5, 2)


def test_windows_cross_articles_of_a_law_without_chapters_but_not_chapters(tmp_path):
    flat = "\n".join(f"第{n}条 本市规章设定罚款应当遵守第{n}项程序要求并依法公开。" for n in "一二三四五") + \
        "\n第六条 对违反行政管理秩序的行为设定罚款的限额为十万元。\n"
    chaptered = ("第一章 总则\n第一条 为了规范罚款设定，制定本条例。\n第二条 罚款限额由省人大常委会规定。\n"
                 "第三条 本条例适用于本省。\n第二章 附则\n第四条 本条例自公布之日起施行。\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "某市规章设定罚款限额规定.txt").write_text(flat, encoding="utf-8")
    (tmp_path / "docs" / "某省罚款设定条例.txt").write_text(chaptered, encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    kb.ingest([tmp_path / "docs"])
    hit = next(h for h in kb.search("第五项程序要求", k=5, mode="lexical") if "某市" in h.path)
    assert "第六条" in hit.text and "限额为十万元" in hit.text  # the next article completes it
    hit = next(h for h in kb.search("罚款限额由省人大常委会规定", k=5, mode="lexical") if "某省" in h.path)
    assert "第三条" in hit.text and "第四条" not in hit.text  # never across 第二章


def test_index_saved_with_other_bm25_parameters_is_rebuilt_from_tokens(tmp_path, small_corpus):
    import json

    from kb.manifest import BM25_PARAMS

    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    kb.ingest([small_corpus])
    expected = [h.chunk_id for h in kb.search("法治政府建设", k=5, mode="lexical")]
    old = {**BM25_PARAMS, "b": 0.75}
    record = tmp_path / "idx" / "bm25" / "fazhi_bm25.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "params": old}))
    manifest = tmp_path / "idx" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "bm25": old}))
    with kb.store.write() as con:  # the saved vectors must be kept, not rebuilt from the cache
        con.execute("DELETE FROM embeddings")
    kb.close()

    reopened = KnowledgeBase(tmp_path / "idx")  # an older version's index opens, never refused
    assert [h.chunk_id for h in reopened.search("法治政府建设", k=5, mode="lexical")] == expected
    assert reopened.snapshot().bm25.params == BM25_PARAMS
    assert reopened.embedder.texts_embedded == 0  # BM25 rebuilt from stored tokens, vectors kept
    assert json.loads(manifest.read_text())["bm25"] == BM25_PARAMS
    assert load_snapshot(tmp_path / "idx").bm25.params == BM25_PARAMS


def test_prefetched_neighbours_widen_exactly_like_the_per_chunk_query(fake_kb):
    """window.neighbours() fetches by chunk id in one query; for every chunk it answers for,
    widen() must give what its own doc_id/ord query gives, and it must answer for most."""
    from dataclasses import asdict

    from kb.window import neighbours, widen

    store = fake_kb.store
    with store.reading():
        rows = list(store.chunk_rows(int(i) for i in store.chunk_ids()).values())
        near = neighbours(store, rows)
        assert len(near) > len(rows) // 2
        for row in rows:
            for budget, avoid in ((800, []), (2000, [(row["pos_end"] + 1, row["pos_end"] + 2)]), (0, [])):
                assert (asdict(widen(store, row, budget, avoid, near.get(row["chunk_id"])))
                        == asdict(widen(store, row, budget, avoid))), (row["chunk_id"], budget)


def test_hit_to_dict_is_asdict_without_chunk_id(fake_kb):
    from dataclasses import asdict

    hits = fake_kb.search("重大行政决策 合法性审查", k=10, per_doc=None)
    assert hits and any(h.highlights for h in hits)
    for h in hits:
        d = asdict(h)
        d.pop("chunk_id")
        assert h.to_dict() == d and list(h.to_dict()) == list(d)
        assert h.to_dict()["highlights"] is not h.highlights


def test_markdown_stored_with_heading_marks_is_read_again_once(tmp_path):
    """A .md file ingested by an older parser (its text still held '## ' marks) is parsed again by the
    next ingest, and then left alone."""

    src = tmp_path / "src"
    src.mkdir()
    raw = "# 某办法\n\n## 第一章 总则\n\n第一条 为了规范管理，制定本办法。\n\n第二条 本办法自公布之日起施行。\n"
    (src / "办法.md").write_text(raw, encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    kb.ingest([src])
    with kb.store.write() as con:  # what an index built before the change holds
        con.execute("UPDATE documents SET parser = '1'")
    assert kb.ingest([src]).ingested == ["办法.md"]
    assert kb.ingest([src]).unchanged == ["办法.md"]
    assert "#" not in kb.document("办法.md").text
    kb.close()
