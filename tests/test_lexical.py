"""Tokenizer and BM25 index."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kb.lexical import BM25Index
from kb.tokenize import domain_terms, function_words, tokenize

# -- tokenize ------------------------------------------------------------------------------------


def test_domain_terms_stay_whole_and_keep_their_parts():
    toks = tokenize("各级政府要落实重大行政决策程序，推行行政执法公示制度。")
    assert "重大行政决策" in toks and "行政执法公示" in toks
    assert {"重大", "行政", "决策", "执法", "公示"} <= set(toks)  # search-mode parts


def test_nested_and_punctuated_domain_terms():
    toks = tokenize("严格执行重大执法决定法制审核制度，全面推行“双随机、一公开”监管")
    assert "重大执法决定法制审核" in toks and "法制审核" in toks  # 4-char term inside a longer one
    assert toks.count("双随机一公开") == 1  # jieba splits at 、; the term is found in the raw text
    assert "双随机一公开" in tokenize("双随机一公开")  # a query without the 、 gives the same token


def test_domain_words_are_never_dropped():
    toks = tokenize("重大事项必须按照规定要求办理，应当依法，不得拖延，可以申请")
    for w in ("重大", "必须", "规定", "要求", "应当", "不得", "可以"):
        assert w in toks


def test_function_words_whitespace_and_punctuation_are_dropped():
    toks = tokenize("政府的职责和义务，  以及公民在法律面前是平等的！")
    assert not {"的", "和", "以及", "在", "是", "，", "！", " ", ""} & set(toks)
    assert {"政府", "职责", "义务", "公民", "法律", "平等"} <= set(toks)


def test_nfkc_lower_case_and_numbers():
    toks = tokenize("第２５条 ＡＩ监管 GDP增长3.5%")
    assert "25" in toks and "ai" in toks and "gdp" in toks and "3.5" in toks
    assert tokenize("") == [] and tokenize(" \n，。") == []


def test_single_cjk_characters_are_kept_unless_function_words():
    toks = tokenize("罚和没")
    assert "罚" in toks and "没" in toks and "和" not in toks


def test_data_tables_are_loaded_and_sane():
    terms = domain_terms()
    assert 150 <= len(terms) <= 300
    stop = function_words()
    assert {"的", "了", "和", "与", "及", "是", "在"} <= stop
    assert not {"重大", "规定", "应当", "必须", "要求", "不得", "可以"} & stop


# -- BM25 ----------------------------------------------------------------------------------------

DOCS = [
    ["行政", "复议", "申请", "期限"],
    ["行政", "诉讼", "起诉", "期限", "期限"],
    ["天气", "晴朗"],
    ["行政", "复议", "复议", "机关", "决定", "行政", "复议"],
]


def test_lucene_scores_match_the_formula():
    ix = BM25Index.build(DOCS, k1=1.2, b=0.75)
    n, avgdl = len(DOCS), sum(map(len, DOCS)) / len(DOCS)

    def expected(doc, term):
        df = sum(term in d for d in DOCS)
        tf = doc.count(term)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        # Lucene (since 8) leaves the constant (k1 + 1) out of the numerator
        return idf * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * len(doc) / avgdl))

    s = ix.scores(["复议", "期限"])
    want = [expected(d, "复议") + expected(d, "期限") for d in DOCS]
    assert s.dtype == np.float32 and s.shape == (4,)
    assert np.allclose(s, want, rtol=1e-4)
    assert ix.params == {"k1": 1.2, "b": 0.75, "method": "lucene"} and len(ix) == 4


def test_unknown_and_repeated_query_tokens():
    ix = BM25Index.build(DOCS)
    assert np.array_equal(ix.scores(["复议", "不存在的词"]), ix.scores(["复议"]))
    assert np.array_equal(ix.scores(["复议", "复议"]), ix.scores(["复议"]))
    assert not ix.scores(["不存在的词", ""]).any() and not ix.scores([]).any()


def test_top_orders_limits_and_masks():
    ix = BM25Index.build(DOCS)
    pos, sc = ix.top(["复议"], 10)
    assert pos.tolist() == [3, 0] and sc[0] > sc[1] > 0  # only positions with score > 0
    assert ix.top(["复议"], 1)[0].tolist() == [3]
    mask = np.array([True, True, True, False])
    assert ix.top(["复议"], 10, mask=mask)[0].tolist() == [0]
    assert ix.top(["天气"], 0)[0].size == 0
    with pytest.raises(ValueError, match="mask"):
        ix.top(["复议"], 3, mask=np.ones(2, bool))


def test_empty_index_and_empty_documents(tmp_path):
    empty = BM25Index.build([])
    assert len(empty) == 0 and empty.scores(["行政"]).shape == (0,)
    assert empty.top(["行政"], 5)[0].size == 0
    blank = BM25Index.build([[], []])
    assert blank.scores(["行政"]).tolist() == [0.0, 0.0]
    for ix in (empty, blank):
        ix.save(tmp_path / "e")
        again = BM25Index.load(tmp_path / "e")
        assert len(again) == len(ix) and not again.scores(["行政"]).any()


def test_save_load_round_trip_replaces_the_old_folder(tmp_path):
    folder = tmp_path / "bm25"
    BM25Index.build([["旧", "索引"]]).save(folder)
    ix = BM25Index.build(DOCS, k1=1.5, b=0.6)
    ix.save(folder, meta={"generation": 7})
    again = BM25Index.load(folder)
    assert len(again) == 4 and again.params == {"k1": 1.5, "b": 0.6, "method": "lucene"}
    assert again.meta == {"generation": 7}
    assert np.allclose(again.scores(["行政", "期限"]), ix.scores(["行政", "期限"]))
    assert not again.scores(["旧"]).any()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm25"]  # no temp or old folders left


def test_load_names_the_broken_folder(tmp_path):
    with pytest.raises(ValueError, match="nothing-here"):
        BM25Index.load(tmp_path / "nothing-here")
    with pytest.raises(TypeError, match="#1"):
        BM25Index.build([["a"], "not a list"])


def test_index_tokens_equal_tokenizing_the_whole_index_text():
    from collections import Counter

    from kb.indexer import index_text, index_tokens
    from kb.tokenize import tokenize

    heads: dict = {}
    title = "某市推进“双随机、一公开”监管实施方案"
    for section, text in [(["一、总体要求"], "全面推行双随机、一公开监管，重大执法决定法制审核。"),
                          (["一、总体要求"], "坚持依法行政。"), (["二、主要任务", "（一）健全制度"], "")]:
        got = index_tokens(title, section, text, heads)
        assert Counter(got) == Counter(tokenize(index_text(title, section, text)))
    assert len(heads) == 2  # one head per section


# -- updates: segments and tombstones ------------------------------------------------------------

def _corpus(rng, n: int) -> list[list[str]]:
    words = [f"词{i}" for i in range(40)]
    return [list(rng.choice(words, size=rng.integers(0, 12))) for _ in range(n)]


def _by_doc(ix: BM25Index, ids: list, query: list[str]) -> dict:
    s = ix.scores(query)
    return {ids[p]: round(float(s[p]), 5) for p in np.flatnonzero(ix.live) if s[p] > 0}


def test_updates_score_exactly_like_a_fresh_build_of_the_live_documents():
    rng = np.random.default_rng(3)
    docs = dict(enumerate(_corpus(rng, 30)))  # doc id -> tokens
    ids = list(docs)  # position -> doc id
    ix = BM25Index.build([docs[i] for i in ids], k1=1.2, b=0.4)
    next_id = len(ids)
    for step in range(12):
        live_ids = [ids[p] for p in np.flatnonzero(ix.live)]
        gone = list(rng.choice(live_ids, size=min(len(live_ids), int(rng.integers(0, 6))), replace=False))
        added = _corpus(rng, int(rng.integers(0, 6)))
        ix = ix.updated(np.array([ids.index(g) for g in gone], dtype=np.int64), added)
        for g in gone:
            del docs[g]
        for toks in added:
            docs[next_id], next_id = toks, next_id + 1
            ids.append(next_id - 1)
        if step == 8:
            ix, keep = ix.compacted()
            ids = [ids[p] for p in keep]
            assert len(ix.segments) == 1 and ix.live.all()
        fresh = BM25Index.build([docs[i] for i in sorted(docs)], k1=1.2, b=0.4)
        for q in (["词1"], ["词2", "词3", "词39"], ["没有"]):
            assert _by_doc(ix, ids, q) == _by_doc(fresh, sorted(docs), q), (step, q)
    assert len(ix) == len(ids) and ix.n_live == len(docs)


def test_scores_equal_bm25s_on_a_random_corpus():
    import bm25s  # the reference implementation (a test dependency)

    rng = np.random.default_rng(11)
    docs = _corpus(rng, 60)
    vocab = {t: i for i, t in enumerate(sorted({t for d in docs for t in d}))}
    ref = bm25s.BM25(k1=1.2, b=0.4, method="lucene")
    ref.index(([[vocab[t] for t in d] for d in docs], vocab), show_progress=False)
    ix = BM25Index.build(docs, k1=1.2, b=0.4)
    for q in (["词0"], ["词5", "词7"], ["词1", "词2", "词3", "词4"]):
        want = ref.get_scores_from_ids([vocab[t] for t in q if t in vocab])
        assert np.allclose(ix.scores(q), want, rtol=1e-5, atol=1e-6), q


def test_a_save_after_an_update_writes_only_the_new_segment(tmp_path):
    folder = tmp_path / "bm25"
    ix = BM25Index.build(DOCS)
    ix.save(folder)
    first = {p.name: p.stat().st_mtime_ns for p in folder.glob("seg-*.npz")}
    nxt = ix.updated(np.array([1]), [["行政", "处罚", "听证"]])
    nxt.save(folder)
    segs = {p.name: p.stat().st_mtime_ns for p in folder.glob("seg-*.npz")}
    assert len(segs) == 2 and all(segs[name] == t for name, t in first.items())  # old segment untouched
    again = BM25Index.load(folder)
    assert again.live.tolist() == [True, False, True, True, True]
    assert np.allclose(again.scores(["行政", "听证"]), nxt.scores(["行政", "听证"]))
    compact, keep = again.compacted()
    compact.save(folder)
    assert len(list(folder.glob("seg-*.npz"))) == 1 and keep.tolist() == [0, 2, 3, 4]
    assert len(list(folder.glob("state-*.npz"))) == 1  # files no record names are deleted


def test_an_index_in_the_old_format_is_refused_with_its_folder_named(tmp_path):
    folder = tmp_path / "old-bm25"
    folder.mkdir()
    (folder / "fazhi_bm25.json").write_text('{"n": 2, "params": {"k1": 1.2, "b": 0.75, "method": "lucene"}}')
    with pytest.raises(ValueError, match="old-bm25.*format 1"):
        BM25Index.load(folder)


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="lucene, atire"):
        BM25Index.build(DOCS, method="bm25x")


def test_term_weights_scale_each_terms_contribution():
    ix = BM25Index.build(DOCS)
    both = ix.scores(["复议", "期限"], weights={"期限": 0.25})
    assert np.allclose(both, ix.scores(["复议"]) + 0.25 * ix.scores(["期限"]), rtol=1e-5)
    assert np.array_equal(ix.scores(["复议"], weights={"不存在的词": 3.0}), ix.scores(["复议"]))
    pos, _ = ix.top(["复议", "期限"], 10, weights={"复议": 0.0})
    assert set(pos.tolist()) == {i for i, d in enumerate(DOCS) if "期限" in d}


def test_document_frequency_counts_live_positions():
    ix = BM25Index.build(DOCS)
    assert ix.doc_freq("复议") == sum("复议" in d for d in DOCS) == 2
    assert ix.doc_freq("不存在的词") == 0
    gone = ix.updated(np.array([3]), [["复议"]])  # position 3 tombstoned, a new one holds 复议
    assert gone.doc_freq("复议") == 2 and ix.doc_freq("复议") == 2
