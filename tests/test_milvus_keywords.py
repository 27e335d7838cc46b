"""The Milvus keyword backend on milvus-lite: its sparse inner products are the embedded BM25 scores."""

import numpy as np
import pytest

from kb.lexical import IDF, BM25Index
from kb.milvus_keywords import MilvusKeywords, term_key

DOCS = [["重大", "行政", "决策", "公众", "参与"], ["行政", "处罚", "听证", "期限"],
        ["公众", "参与", "专家", "论证", "风险", "评估", "公众"], ["合法性", "审查", "集体", "讨论", "决定"],
        ["行政", "复议", "期限", "期限"], ["营商", "环境", "市场", "主体", "保护", "行政"]]


@pytest.fixture()
def kw(tmp_path):
    return MilvusKeywords(str(tmp_path / "k.db"), "kw", k1=1.2, b=0.4)


def test_scores_equal_embedded_bm25(kw):
    ids = np.arange(10, 10 + len(DOCS))
    kw.add(ids, DOCS)
    ref = BM25Index.build(DOCS, k1=1.2, b=0.4, method="lucene")
    for query in (["公众", "参与"], ["行政", "期限"], ["审查"], ["行政", "行政", "不存在"]):
        got_ids, got = kw.search(query, 10)
        exact = ref.scores(query)
        want = {int(ids[i]): float(exact[i]) for i in np.flatnonzero(exact > 0)}
        assert dict(zip(got_ids.tolist(), got.tolist(), strict=True)) == pytest.approx(want, rel=1e-4)
        assert list(got) == sorted(got, reverse=True)
    assert kw.count() == 6 and kw.ids().tolist() == ids.tolist()


def test_remove_and_replay_keep_frequencies_exact(kw):
    ids = np.arange(len(DOCS))
    kw.add(ids, DOCS)
    kw.add(ids[:2], DOCS[:2])  # replayed
    kw.remove(np.array([1, 4, 99]))
    kept = [d for i, d in enumerate(DOCS) if i not in (1, 4)]
    ref = BM25Index.build(kept, k1=1.2, b=0.4, method="lucene")
    q = kw.query_vector(["行政", "期限"])
    # idf follows the chunks held (期限 is gone with chunks 1 and 4)
    assert set(q) == {term_key("行政")}
    assert q[term_key("行政")] == pytest.approx(float(np.log1p((4 - 2 + 0.5) / (2 + 0.5))))
    assert kw.search(["期限"], 5)[0].tolist() == []
    got_ids, _ = kw.search(["公众"], 5, allowed=np.array([0]))
    assert got_ids.tolist() == [0] and kw.count() == len(kept) == len(ref.live)


def test_only_lucene_scoring(tmp_path):
    with pytest.raises(ValueError, match="Lucene"):
        MilvusKeywords(str(tmp_path / "k.db"), "kw", method="atire")


def test_query_frequencies_are_read_once_per_generation(kw, monkeypatch):
    kw.add(np.arange(len(DOCS)), DOCS)
    kw.generation = 5  # as remote_index.sync sets it
    reads: list[list[int]] = []
    real = kw._freqs
    monkeypatch.setattr(kw, "_freqs", lambda keys: reads.append(keys) or real(keys))
    first = kw.query_vector(["公众", "参与"])
    assert kw.query_vector(["参与", "公众"]) == first and len(reads) == 1  # the second query: no Milvus read
    kw.query_vector(["公众", "审查"])
    assert reads[-1] == [term_key("审查")]  # only the term not seen yet
    kw.add(np.array([100]), [["审查", "审查", "公众"]])  # a write drops what was read
    kw.generation = 6
    before = first[term_key("公众")]
    after = kw.query_vector(["公众"])[term_key("公众")]  # 公众 now in 3 of 7 chunks, not 2 of 6
    assert after == pytest.approx(float(IDF["lucene"](3, 7))) and after != pytest.approx(before)


def test_term_weights_and_document_frequencies_match_the_embedded_index(kw):
    """Feedback words join a query at a fraction of a query word's weight, on either backend."""
    ids = np.arange(len(DOCS))
    kw.add(ids, DOCS)
    ref = BM25Index.build(DOCS, k1=1.2, b=0.4, method="lucene")
    weights = {"期限": 0.2, "公众": 0.5}
    got_ids, got = kw.search(["行政", "期限", "公众"], 10, weights=weights)
    exact = ref.scores(["行政", "期限", "公众"], weights)
    want = {int(ids[i]): float(exact[i]) for i in np.flatnonzero(exact > 0)}
    assert dict(zip(got_ids.tolist(), got.tolist(), strict=True)) == pytest.approx(want, rel=1e-4)
    assert kw.doc_freqs(["行政", "公众", "不存在"]) == {"行政": 4, "公众": 2, "不存在": 0}
    assert {t: ref.doc_freq(t) for t in ("行政", "公众", "不存在")} == kw.doc_freqs(["行政", "公众", "不存在"])
