"""Pseudo-relevance feedback: the best first-round passages' distinctive words join the BM25 query."""

import numpy as np
import pytest

from kb.feedback import feedback_terms
from kb.keywords import SegmentKeywords

PASSAGES = [["守信", "履约", "履行", "政策", "承诺", "违约", "毁约", "承诺", "政", "府"],
            ["履行", "政策", "承诺", "政府", "换届"]]
DF = {"履行": 3, "政策": 40, "承诺": 3, "违约": 2, "毁约": 2, "政府": 90, "换届": 1}


def test_distinctive_words_of_the_feedback_passages_weighted_by_their_score():
    terms = feedback_terms(PASSAGES, ["守信", "履约"], lambda ws: {w: DF.get(w, 0) for w in ws}, 100)
    assert "守信" not in terms and "履约" not in terms  # the query's own words
    assert "政" not in terms and "府" not in terms  # single characters
    assert "换届" not in terms  # one chunk holds it
    assert max(terms.values()) == 1.0 and all(0 < w <= 1 for w in terms.values())
    # 承诺: in both passages, rare → first; 政府: in 90 of 100 chunks → last
    assert next(iter(terms)) == "承诺" and min(terms, key=terms.get) == "政府"
    assert list(feedback_terms(PASSAGES, [], lambda ws: {w: DF.get(w, 0) for w in ws}, 100, top=2)) == ["承诺", "履行"]


def test_nothing_to_feed_back():
    df = {"x": 5}.get
    assert feedback_terms([], ["a"], lambda ws: {w: df(w, 0) for w in ws}, 100) == {}
    assert feedback_terms([["守信"]], ["守信"], lambda ws: dict.fromkeys(ws, 5), 100) == {}
    assert feedback_terms([["承诺", "履行"]], [], lambda ws: dict.fromkeys(ws, 5), 1) == {}


def test_segment_keywords_report_document_frequencies_and_take_weights():
    docs = [["守信", "履约"], ["履行", "承诺"], ["履行", "承诺", "违约"], ["天气"]]
    kw = SegmentKeywords.build(np.arange(10, 14, dtype=np.int64), [docs], {"k1": 1.2, "b": 0.4, "method": "lucene"})
    assert kw.doc_freqs(["履行", "天气", "没有"]) == {"履行": 2, "天气": 1, "没有": 0}
    ids, scores = kw.search(["守信", "违约"], 5, weights={"违约": 0.2})
    plain = dict(zip(*kw.search(["守信", "违约"], 5), strict=True))
    assert ids.tolist() == [10, 12]
    assert scores[1] == pytest.approx(0.2 * plain[12], rel=1e-5)


def _kb(tmp_path, **config):
    from kb.core import KnowledgeBase
    from kb.search_config import SearchConfig

    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    texts = {
        "河南省优化营商环境条例": "第一条 各级人民政府应当守信履约，履行依法作出的政策承诺，不得违约毁约。",
        "广东省优化营商环境条例": "第一条 县级以上人民政府应当履行向经营主体作出的政策承诺，不得以换届为由违约毁约。",
        "山东省信访条例": "第一条 信访事项应当自受理之日起六十日内办结。",
        "上海市城市管理行政执法条例": "第一条 城管执法人员应当出示执法证件。",
        "北京市物业管理条例": "第一条 业主大会依法选举业主委员会。",
    }
    for title, body in texts.items():
        (src / f"{title}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", search_config=SearchConfig(window=0, **config))
    kb.ingest([src])
    return kb


def test_feedback_finds_a_provision_worded_like_the_best_one_but_not_like_the_query(tmp_path):
    """广东's article shares no word with 守信履约; 河南's, which does, also says 政策承诺 and
    违约毁约, and those find 广东's. Without feedback the keyword run never sees it."""
    kb = _kb(tmp_path)
    titles = [h.title for h in kb.search("守信履约", k=5, mode="lexical")]
    turned_off = [h.title for h in kb.search("守信履约", k=5, mode="lexical", feedback=False)]  # a matrix cell
    kb.search_config.feedback_docs = 0
    plain = [h.title for h in kb.search("守信履约", k=5, mode="lexical")]
    kb.close()
    assert titles[:2] == ["河南省优化营商环境条例", "广东省优化营商环境条例"], titles
    assert plain == turned_off == ["河南省优化营商环境条例"], (plain, turned_off)


def test_no_feedback_for_speech_material(tmp_path):
    """素材 requests want many documents' lines, not more of the first ones' topic."""
    kb = _kb(tmp_path)
    titles = [h.title for h in kb.search("守信履约 讲话素材", k=5, mode="lexical")]
    kb.close()
    assert "广东省优化营商环境条例" not in titles, titles
