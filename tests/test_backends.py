"""The derived-index seams (kb/backends.py): the embedded FAISS and BM25-segment implementations
satisfy the protocols, the manifest's names pick them, and a scale-out name is refused clearly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kb.backends import BackendUnavailable, KeywordBackend, VectorBackend, keyword_backend, vector_backend
from kb.core import KnowledgeBase
from kb.keywords import SegmentKeywords
from kb.lexical import BM25Index
from kb.manifest import BM25_PARAMS
from kb.vectors import VectorIndex

DOCS = [["行政", "复议", "申请"], ["行政", "诉讼"], ["复议", "决定", "复议"], ["法律", "援助"], ["行政", "处罚", "决定"]]


def test_embedded_implementations_satisfy_the_protocols():
    vectors: VectorBackend = VectorIndex.empty(4)
    keywords: KeywordBackend = SegmentKeywords.build(np.arange(3, dtype=np.int64), [DOCS[:3]], BM25_PARAMS)
    assert isinstance(vectors, VectorBackend) and isinstance(keywords, KeywordBackend)
    assert not isinstance(keywords, VectorBackend)


def test_manifest_names_pick_the_embedded_backends():
    assert vector_backend("flat") is VectorIndex and vector_backend("ivf_sq8") is VectorIndex
    assert keyword_backend("bm25") is SegmentKeywords
    with pytest.raises(BackendUnavailable, match="'milvus' .* not installed or configured"):
        vector_backend("milvus")
    with pytest.raises(BackendUnavailable, match="unknown"):
        keyword_backend("lucene9")


def test_keyword_search_maps_positions_to_chunk_ids_and_honours_allowed():
    ids = np.array([10, 11, 12, 13, 14], dtype=np.int64)
    kw = SegmentKeywords.build(ids, [DOCS], BM25_PARAMS)
    bm25 = BM25Index.build(DOCS, **BM25_PARAMS)
    pos, scores = bm25.top(["复议"], 5)
    got, got_scores = kw.search(["复议"], 5)
    assert got.tolist() == ids[pos].tolist() and np.array_equal(got_scores, scores)
    only, _ = kw.search(["复议"], 5, allowed=np.array([10, 99], dtype=np.int64))
    assert only.tolist() == [10]


def test_keyword_add_and_remove_score_like_a_fresh_build():
    kw = SegmentKeywords.build(np.array([1, 2, 3], dtype=np.int64), [DOCS[:3]], BM25_PARAMS)
    before = kw.copy()
    kw.add(np.array([4, 5], dtype=np.int64), DOCS[3:])
    kw.remove(np.array([2], dtype=np.int64))
    assert kw.ids().tolist() == [1, 3, 4, 5] and kw.count() == 4
    assert before.ids().tolist() == [1, 2, 3], "a copy is not disturbed by updates"
    fresh = SegmentKeywords.build(np.array([1, 3, 4, 5], dtype=np.int64), [[DOCS[0], DOCS[2], *DOCS[3:]]],
                                  BM25_PARAMS)
    for terms in (["复议"], ["行政", "决定"], ["援助"]):
        a, sa = kw.search(terms, 4)
        b, sb = fresh.search(terms, 4)
        assert a.tolist() == b.tolist() and np.allclose(sa, sb)
    with pytest.raises(ValueError, match="larger than every id"):
        kw.add(np.array([2], dtype=np.int64), [["行政"]])


def test_an_index_naming_a_scale_out_backend_is_refused(tmp_path, small_corpus):
    KnowledgeBase(tmp_path / "idx", embedder="fake").ingest([small_corpus])
    manifest = tmp_path / "idx" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "vector_index": "opensearch"}))
    with pytest.raises(BackendUnavailable, match="opensearch"):
        KnowledgeBase(tmp_path / "idx")
