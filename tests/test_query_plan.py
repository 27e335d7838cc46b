"""Query plan (kb/query_plan.py): what a query names besides its topic, and how search uses it softly."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ingest.data import rows
from kb.cite import LEGAL_TYPES
from kb.query_plan import cue_table, parse_cues, plan
from kb.settings import Settings

KB_SCRIPT = Path(sys.executable).with_name("kb")
AS_OF = "2026-12-03"


@pytest.mark.parametrize("query, places, spread", [
    ("上海 优化营商环境条例", ["上海市"], False),
    ("天河区政务公开", ["广东省广州市天河区"], False),
    ("北京市和浙江的法律援助条例", ["北京市", "浙江省"], False),
    ("各区停车管理办法", [], True),
    ("各地信访事项办理期限规定", [], True),
    ("重大行政决策程序", [], False),
])
def test_places(query, places, spread):
    p = plan(query, AS_OF)
    assert (p.places, p.spread) == (places, spread)


@pytest.mark.parametrize("query, span", [
    ("2023年政府工作报告", (2023, 2023)),
    ("2021—2023年法治政府建设情况", (2021, 2023)),
    ("2021年至2023年的通知", (2021, 2023)),
    ("2023-2021 规划", (2021, 2023)),
    ("近三年 政务公开要点", (2024, 2026)),
    ("近5年", (2022, 2026)),
    ("去年的工作要点", (2025, 2025)),
    ("第12345号 处罚决定", (None, None)),
    ("行政处罚法", (None, None)),
])
def test_years(query, span):
    p = plan(query, AS_OF)
    assert (p.year_from, p.year_to) == span


def test_relative_years_count_back_from_the_date_asked_about():
    assert (plan("近三年", "2020-06-01").year_from, plan("近三年", "2020-06-01").year_to) == (2018, 2020)


@pytest.mark.parametrize("query, kinds, doc_type", [
    ("上海 停车 条例", ["条例"], "local_regulation"),
    ("2023年政府工作报告 法治", ["政府工作报告"], "work_report"),  # the longest kind word wins
    ("数字政府建设实施方案", ["方案"], "plan"),
    ("各地地方性法规草案公开征求意见时间", [], None),  # 征求意见 names no 意见
    ("柔性执法 讲话素材", [], None),  # the speech being written, not a kind of source
])
def test_kinds(query, kinds, doc_type):
    p = plan(query, AS_OF)
    assert p.kinds == kinds
    if doc_type:
        assert doc_type in p.doc_types


@pytest.mark.parametrize("query, intent", [
    ("柔性执法 讲话素材", "material"),
    ("法治政府建设的战略定位怎么表述", "material"),
    ("行政复议主渠道作用 金句", "material"),
    ("行政处罚听证要在几日内提出", "requirement"),
    ("重大行政决策草案需经哪些程序", "requirement"),
    ("电子印章是否有效", "requirement"),
    ("各地政府规章设定罚款限额对比", "compare"),
    ("不同地区法律援助经济困难标准", "compare"),
    ("各地信访事项办理期限规定", "compare"),  # compare wins over the requirement word 期限
    ("党政主要负责人抓法治建设", "lookup"),  # 负责人 holds the rule word 负责 but asks no rule
    ("拍板拍错了人调走了还追责吗", "lookup"),
    ("推进严格规范公正文明执法", "material"),  # opens like a policy line and asks nothing
    ("全面推行行政执法公示制度吗", "lookup"),  # the same opening, asked as a question
    ("坚持什么原则", "lookup"),
    ("推进政务公开有哪些要求", "requirement"),
    ("行政执法全面推行公示制度", "lookup"),  # the word inside, not at the opening
])
def test_intents(query, intent):
    assert plan(query, AS_OF).intent == intent


def test_label_names_what_was_read():
    p = plan("上海 2023年 条例 讲话素材", AS_OF)
    assert p.label() == "按地区：上海市 · 年份：2023 · 类型：条例 · 意图：素材"
    assert plan("重大行政决策", AS_OF).label() == ""
    assert set(p.to_dict()) == {"places", "spread", "year_from", "year_to", "kinds", "doc_types", "intent", "cues",
                                "duration", "bridge", "label"}
    assert plan("行政处罚听证要在几日内提出", AS_OF).label() == "意图：规定要求 · 问：期限"


@pytest.mark.parametrize("query, duration", [
    ("大型企业拖欠中小企业货款多久必须付", True),
    ("行政许可决定作出期限", True),
    ("公务员受记过处分期间多长", True),
    ("行政处罚的追责时效", True),
    ("收到罚款决定书后多少日内缴纳", True),
    ("公职人员政务处分有哪几种", False),
    ("疫情防控期间行政执法要求", False),  # 期间: during
    ("重大行政决策程序", False),
])
def test_questions_of_how_long(query, duration):
    assert plan(query, AS_OF).duration is duration


def test_cue_table_is_well_formed():
    table = cue_table()
    known = {r[0] for r in rows("doc_types.tsv")} | LEGAL_TYPES
    for word, value in table["kind"]:
        assert value == "-" or set(value.split(",")) <= known, (word, value)
    assert {v for _, v in table["intent"]} <= {"compare", "material", "-"}
    words = [w for rows_ in table.values() for w, _ in rows_]
    assert len(words) == len(set(zip(words, [k for k, rs in table.items() for _ in rs], strict=True)))
    with pytest.raises(ValueError, match="query_cues.tsv line 2"):
        parse_cues("spread\t各地\nintent\t素材\tspeech\n")
    with pytest.raises(ValueError, match="line 1: a years row"):
        parse_cues("years\t近三年\tthree\n")
    with pytest.raises(ValueError, match="line 1: expected one of"):
        parse_cues("place\t上海\n")
    with pytest.raises(ValueError, match="line 1: an opening row names compare or material"):
        parse_cues("opening\t坚持\t-\n")


def test_a_named_place_ranks_up_but_filters_nothing(fake_kb):
    # no document of 上海 in the corpus: the others' hits still come back
    hits = fake_kb.search("上海 优化营商环境条例", k=5)
    assert hits and not any(h.region.startswith("上海") for h in hits)
    saved = fake_kb.search_config
    try:
        fake_kb.search_config = replace(saved, place_boost=1.0)
        plain = {h.chunk_id: h for h in fake_kb.search("河南 优化营商环境条例", k=20)}
        fake_kb.search_config = replace(saved, place_boost=2.0)
        boosted = fake_kb.search("河南 优化营商环境条例", k=20)
    finally:
        fake_kb.search_config = saved
    both = [h for h in boosted if h.chunk_id in plain]
    assert {h.region.startswith("河南省") for h in both} == {True, False}  # both kinds of hits remain
    for h in both:
        factor = 2.0 if h.region.startswith("河南省") else 1.0
        assert h.score == pytest.approx(plain[h.chunk_id].score * factor, abs=1e-5)


def test_comparison_spreads_the_page_over_provinces(fake_kb):
    hits = fake_kb.search("各地优化营商环境条例对比", k=6)
    provinces = [h.region[:3] for h in hits]
    assert len(set(provinces[:4])) == 4, provinces  # 全国, 河南, 广东, 山东 before any second one


def test_a_page_with_few_documents_fills_with_their_further_passages(tmp_path):
    """One passage per document for a comparison, until every document is shown; then further
    passages of the same documents fill the page instead of leaving it half empty, beyond the
    two a document that bound the candidate list."""
    from kb.core import KnowledgeBase
    from kb.search_config import SearchConfig

    src = tmp_path / "src"
    src.mkdir()
    rng = random.Random(7)
    words = [chr(c) for c in range(0x4E00 + 3000, 0x4E00 + 3400)]  # filler no two articles share much of
    for place in ("北京市", "上海市"):
        body = "\n\n".join(f"第{n}条 {place}矛盾纠纷多元化解工作应当坚持调解优先。" + "".join(rng.sample(words, 300)) + "。"
                           for n in "一二三四五六")
        (src / f"{place}矛盾纠纷多元化解条例.txt").write_text(f"{place}矛盾纠纷多元化解条例\n\n{body}\n",
                                                             encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake", search_config=SearchConfig(window=0))
    kb.ingest([src])
    hits = kb.search("各地矛盾纠纷多元化解条例对比", k=8)
    capped = kb.search("各地矛盾纠纷多元化解条例对比", k=8, per_doc=1)  # as kb.compare asks: a cap set holds
    kb.close()
    titles = [h.title for h in hits]
    assert len(hits) == 8, titles
    assert len(set(titles[:2])) == 2, titles  # each document once before any is shown twice
    spans = [(h.doc_id, h.start) for h in hits]
    assert len(set(spans)) == 8, spans  # eight different passages
    assert sorted(h.title for h in capped) == sorted(set(titles)), [h.title for h in capped]


def test_a_question_of_how_long_ranks_passages_stating_a_period_up():
    """Of two articles of one law, the one saying within how many days leads for 多久, by the
    configured factor; other questions keep the order."""
    from kb.query_plan import priors
    from kb.search_config import SearchConfig

    class Store:  # the two reads priors makes
        texts = {1: "第一条 大型企业不得拖欠中小企业货款。", 2: "第二条 应当自货物交付之日起30日内支付款项。"}

        def chunk_docs(self, ids):
            return {c: {"doc_id": "d", "doc_type": "regulation", "level": "行政法规", "region": "全国",
                        "year": 2025, "title": "保障中小企业款项支付条例"} for c in ids}

        def chunk_rows(self, ids):
            return {c: {"text": self.texts[c]} for c in ids}

    cfg = SearchConfig()
    fused = [(1, 1.0), (2, 0.8)]
    asked = priors(Store(), fused, plan("大型企业拖欠中小企业货款多久必须付", AS_OF), cfg, 10)
    assert [c for c, _ in asked] == [2, 1]
    assert dict(asked)[2] / dict(asked)[1] == pytest.approx(0.8 * cfg.duration_boost)
    other = priors(Store(), fused, plan("大型企业拖欠中小企业货款有什么规定", AS_OF), cfg, 10)
    assert [c for c, _ in other] == [1, 2]


def test_requirement_questions_lean_on_meaning_but_definitions_do_not(fake_kb, monkeypatch):
    import kb.search as search_module
    real, seen = search_module.get_fusion, []

    def spy(name):
        def fuse(runs, weights):
            seen.append(tuple(weights))
            return real(name)(runs, weights)
        return fuse
    monkeypatch.setattr(search_module, "get_fusion", spy)
    per_query = []
    for query in ("重大行政决策草案需经哪些程序", "什么是重大行政决策", "优化营商环境"):
        seen.clear()
        fake_kb.search(query, k=3)
        assert seen and len(set(seen)) == 1, seen  # keyword feedback fuses again, with the same weights
        per_query.append(seen[0])
    cfg = fake_kb.search_config
    assert cfg.requirement_weights != cfg.weights
    assert per_query == [cfg.requirement_weights, cfg.weights, cfg.weights]


def test_query_plan_in_cli_json(fake_kb):
    proc = subprocess.run([str(KB_SCRIPT), "search", "上海 2023年 条例 讲话素材", "--json", "-k", "3",
                           "--as-of", AS_OF, "--index", str(fake_kb.dir)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["query_plan"]["places"] == ["上海市"] and out["query_plan"]["intent"] == "material"
    assert out["query_plan"]["label"] == "按地区：上海市 · 年份：2023 · 类型：条例 · 意图：素材"
    assert isinstance(out["hits"], list) and out["hits"]


def test_query_plan_in_api_response(fake_kb):
    client = TestClient(create_app(kb=fake_kb, settings=Settings(api_key="", read_key="")))
    resp = client.get("/api/search", params={"q": "近三年 各地 优化营商环境条例", "k": 3, "as_of": AS_OF})
    assert resp.status_code == 200, resp.text
    qp = resp.json()["query_plan"]
    assert (qp["intent"], qp["spread"], qp["year_from"], qp["year_to"]) == ("compare", True, 2024, 2026)
    assert qp["kinds"] == ["条例"] and resp.json()["hits"]
