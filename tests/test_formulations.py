"""The corpus's quoted phrases as a bridge for questions asked in other words (kb/formulations.py)."""

import numpy as np

from kb.answer_rules import question_words
from kb.formulations import Formulations, mine, phrases_of, unknown_words


def test_quoted_phrases_are_mined_with_the_documents_that_use_them():
    text = ('各级政府不得“新官不理旧账”，落实"谁执法谁普法"，实行“一网通办”。'
            '“法”太短，“这是一句超过十六个字的引文不算固定提法的例子”太长，“ABC”没有汉字。')
    assert phrases_of(text) == ["新官不理旧账", "谁执法谁普法", "一网通办"]
    pairs = [("a", text), ("b", "决不能“新官不理旧账”。"), ("b", "再说一次“一网通办”和“一网通办”")]
    assert mine(pairs) == ["新官不理旧账", "谁执法谁普法", "一网通办"]
    # a set phrase is one that two documents use; a phrase repeated inside one document is not
    assert mine(pairs, min_docs=2) == ["新官不理旧账", "一网通办"]
    assert mine([("a", "一行“未完\n另一行”")]) == []


def test_unknown_words_leave_out_question_words_and_single_characters():
    df = {"网上": 30, "办事": 80, "哪几": 0, "哪几种": 0, "办完": 0, "跑几趟": 0, "事": 0}
    terms = ["网上", "办完", "办事", "事", "跑几趟", "办完", "哪几", "哪几种"]
    assert unknown_words(terms, df, question_words()) == ["办完", "跑几趟"]
    assert unknown_words(["网上", "办事"], df, question_words()) == []
    # numbers are not words; the places, kinds and cues the query plan read are not the topic
    df.update({"2023": 0, "黔西南": 0, "暂行办法": 0})
    assert unknown_words(["2023", "黔西南", "暂行办法", "办完"], df, ["黔西南州", "暂行办法"]) == ["办完"]


def test_nearest_phrases_by_cosine():
    vecs = np.array([[1, 0, 0], [0, 1, 0], [0.6, 0.8, 0]], dtype=np.float32)
    f = Formulations(["甲", "乙", "丙"], vecs)
    assert f.nearest(np.array([0.0, 1.0, 0.0]), 2) == ["乙", "丙"]
    assert f.nearest(np.array([1.0, 0.0, 0.0]), 0) == []
    assert Formulations([], np.zeros((0, 3), dtype=np.float32)).nearest(np.ones(3), 1) == []


TEXTS = {
    "广东省数字政府条例": "第一条 政务服务事项实行“一网通办”，统一受理、统一反馈。",
    "浙江省政务服务条例": "第一条 推行“一网通办”，减少群众跑腿次数。",
    "山东省信访条例": "第一条 信访事项应当自受理之日起六十日内办结。",
    "上海市城市管理行政执法条例": "第一条 城管执法人员应当出示执法证件。",
    "北京市物业管理条例": "第一条 业主委员会在网上公布办事指南。",
    "河南省行政执法条例": "第一条 地方各级人民政府负责本条例的实施。",
}


def _kb(tmp_path):
    from kb.core import KnowledgeBase
    from kb.search_config import SearchConfig

    src = tmp_path / "src"
    src.mkdir()
    for title, body in TEXTS.items():
        (src / f"{title}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", search_config=SearchConfig(window=0, feedback_docs=0))
    kb.ingest([src])
    return kb


def test_a_question_in_other_words_borrows_the_nearest_phrase(tmp_path):
    """办完 is in no text: the phrase nearest the question lends its words (一网通办), which only the
    two 政务服务 texts hold, and both rise above the texts that share no query word. The fake
    embedder's nearest phrase is arbitrary, so the bridge is a spy answering what e5-small picks."""
    kb = _kb(tmp_path)
    assert kb._bridge(np.ones(kb.embedder.dim, dtype=np.float32), 5) == ["一网通办"]  # in two documents
    asked = []
    kb._bridge = lambda vector, m: asked.append(m) or ["一网通办"]
    query = "办事能不能只在网上一个地方办完"
    bridged = [h.title for h in kb.search(query, k=3)]
    assert asked == [1]
    # 北京's text shares 网上 and 办事 with the question and stays first
    assert bridged == ["北京市物业管理条例", "浙江省政务服务条例", "广东省数字政府条例"], bridged
    # not asked: no word the texts lack, a lexical search (no query vector), a matrix cell or kb ask
    # (feedback off), a request for speech material
    kb.search("信访事项办结", k=2)
    kb.search(query, k=2, mode="lexical")
    kb.search(query, k=2, feedback=False)
    kb.search(query + " 讲话素材", k=2)
    kb.search("各地 " + query + " 对比", k=2)  # a comparison names a measure in the texts' words
    kb.search("2023年信访事项办结", k=2)  # a year is no word the texts lack
    assert asked == [1]
    kb.search_config.bridge_phrases = 0
    plain = [h.title for h in kb.search(query, k=3)]
    assert asked == [1]
    assert "广东省数字政府条例" not in plain, plain
    kb.search_config.bridge_phrases = 1
    # the query plan names the phrase, as search --json, the API and the page show it
    qp = kb.query_plan(query)
    assert qp.bridge == ["一网通办"] and qp.label().endswith("近似提法：“一网通办”"), qp
    assert kb.query_plan(query, mode="lexical").bridge == kb.query_plan("信访事项办结").bridge == []
    kb.close()


def test_ingest_embeds_the_new_phrases_so_a_search_does_not(tmp_path):
    kb = _kb(tmp_path)
    calls = []
    embed = kb.embedder.embed_batch
    kb.embedder.embed_batch = lambda texts, kind="passage": calls.append((kind, list(texts))) or embed(texts, kind)
    kb.search("办事能不能只在网上一个地方办完", k=2)
    assert [kind for kind, _ in calls] == ["query"], calls
    kb.close()


def test_a_new_embedder_brings_its_own_phrase_vectors(tmp_path):
    """kb reindex embeds the phrases with the new embedder, and search does not reuse the old ones
    (64-d phrase vectors against a 32-d query would fail)."""
    from kb.reindex import reindex

    kb = _kb(tmp_path)
    query = "办事能不能只在网上一个地方办完"
    assert kb.query_plan(query).bridge == ["一网通办"]  # phrases read with the 64-d fake embedder
    reindex(kb, "fake:32")
    calls = []
    embed = kb.embedder.embed_batch
    kb.embedder.embed_batch = lambda texts, kind="passage": calls.append(kind) or embed(texts, kind)
    assert kb.embedder.dim == 32 and kb.search(query, k=2)
    assert kb.query_plan(query).bridge == ["一网通办"] and calls == ["query"], calls
    kb.close()
