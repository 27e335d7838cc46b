"""Versions and validity: facts read at ingest (ingest/validity.py), statuses per date (kb/validity.py),
and what search, ask, the CLI and the API make of them. Files: tests/data/validity (see its README)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import parse_file
from ingest.validity import clause_events, header_history, repeals, version_key
from kb.validity import Facts, resolve

DATA = Path(__file__).parent / "data" / "validity"
SH = "laws/上海/上海市优化营商环境条例"
PAY = "laws/全国/行政法规/保障中小企业款项支付条例"
LIFA = "laws/全国/宪法相关法/立法法"
TIANHE = "gov/other/广州市天河区_2023_广州市天河区深化支持港澳青年创新创业高质量发展实施办法.html"
KB_SCRIPT = Path(sys.executable).with_name("kb")


def parse(rel: str):
    return parse_file(DATA / rel, rel)


# ---- facts read from one file ------------------------------------------------------------------
def test_admin_regulation_dates_organ_level():
    d = parse("laws/全国/行政法规/重大行政决策程序暂行条例(2019-04-20).md")
    assert (d.promulgated, d.effective, d.organ, d.level) == ("2019-04-20", "2019-09-01", "国务院", "admin_regulation")
    assert [h["event"] for h in d.history] == ["公布", "施行"]
    assert d.doc_number == "国务院令第713号"


def test_amended_local_regulation_history():
    d = parse(f"{SH}(2024-09-27).md")
    assert [(h["date"], h["event"]) for h in d.history if h["event"] == "修正"] == [
        ("2021-10-28", "修正"), ("2023-11-22", "修正"), ("2024-09-27", "修正")]
    # the last article still says 2020-04-10: the original 施行 date, not this version's
    assert ("2020-04-10", "施行") in [(h["date"], h["event"]) for h in d.history]
    assert d.version_date == "2024-09-27" and d.effective == "2024-09-27"
    assert d.level == "local_regulation" and d.organ == "上海市人民代表大会常务委员会"


def test_law_passed_and_amended_twice():
    d = parse(f"{LIFA}(2023-03-13).md")
    events = [(h["date"], h["event"]) for h in d.history if h["event"] != "施行"]
    assert events == [("2000-03-15", "通过"), ("2015-03-15", "修正"), ("2023-03-13", "修正")]
    assert d.level == "law" and d.organ == "全国人民代表大会" and d.version_key == "立法法"


def test_revised_regulation_promulgated_then_revised():
    d = parse("laws/全国/行政法规/政府信息公开条例(2019-04-03).md")
    assert (d.promulgated, d.effective) == ("2007-04-05", "2019-05-15")
    assert ("2019-04-03", "修订") in [(h["date"], h["event"]) for h in d.history]
    assert d.version_key == version_key("政府信息公开条例") == version_key("中华人民共和国政府信息公开条例")


def test_repealing_its_own_older_title():
    d = parse("laws/全国/行政法规/信访条例(2005-01-10).md")
    assert d.effective == "2005-05-01"
    assert d.repeals == [{"title": "信访条例", "key": "信访条例", "date": "1995-10-28", "doc_number": ""}]


def test_revision_effective_date_from_its_last_article():
    d = parse(f"{PAY}(2025-03-17).md")
    assert (d.version_date, d.effective) == ("2025-03-17", "2025-06-01")


def test_a_validity_period_inside_a_law_is_not_the_laws_own():
    d = parse("laws/全国/宪法相关法/居民身份证法(2011-10-29).md")
    assert d.expires == ""
    assert [r["key"] for r in d.repeals] == ["居民身份证条例"]


def test_normative_document_in_articles_after_a_notice():
    d = parse(TIANHE)
    assert "点击查看政策解读" not in d.text
    assert (d.doc_type, d.level) == ("normative", "normative")
    assert d.issuer == "天河区科技工业和信息化局"
    start = d.text.index("第二条")
    chunk = next(c for c in d.chunks if c.start <= start < c.end)
    assert chunk.section == ["第二条"]
    assert (d.effective, d.expires) == ("2023-09-08", "2026-09-08")


def test_header_clauses_nested_dates_and_full_width_digits():
    raw = ("# 某市某某条例\n\n２０１８年３月１日 某市第十五届人民代表大会常务委员会第三次会议通过\n\n"
           "2021年11月20日 某市第十六届人民代表大会常务委员会第二次会议通过并经2021年12月3日某省第十三届人民代表大会"
           "常务委员会第三十三次会议批准的《关于修改〈某市某某条例〉的决定》修正\n\n<!-- INFO END -->\n\n第一条 …")
    assert [(h["date"], h["event"]) for h in header_history(raw)] == [
        ("2018-03-01", "通过"), ("2021-11-20", "修正")]
    assert clause_events("1982年12月4日 全国人民代表大会公告公布施行") == ["公布", "施行"]
    assert clause_events("2019年4月3日 国务院第46次常务会议修订通过") == ["修订"]


def test_version_keys():
    assert version_key("中华人民共和国立法法（2015年修正）") == version_key("立法法") == "立法法"
    assert version_key("北京市人大常委会组成人员守则") == version_key("北京市人民代表大会常务委员会组成人员守则")
    assert version_key("关于《中华人民共和国行政诉讼法》的解释") == "关于《行政诉讼法》的解释"
    assert version_key("某省实施办法(试行)") != version_key("某省实施办法")  # 试行 kept
    assert version_key("中华人民共和国宪法修正案（1988年）") != version_key("中华人民共和国宪法修正案（1993年）")


def test_repeal_decision_lists_several():
    text = ("决定：\n一、废止《北京市反不正当竞争条例》（1994年7月22日北京市第十届人民代表大会常务委员会第十一次会议通过）\n"
            "二、废止《北京市邮政通信条例》（1994年7月22日…通过）\n本决定自公布之日起施行。")
    assert [(r["key"], r["date"]) for r in repeals(text)] == [
        ("北京市反不正当竞争条例", "1994-07-22"), ("北京市邮政通信条例", "1994-07-22")]


# ---- statuses: pure resolution ------------------------------------------------------------------
def _f(doc_id, key, made, start="", **kw):
    return Facts(doc_id=doc_id, title=key, path=doc_id, level="law", version_key=key, version_date=made,
                 promulgated=made, effective=start, **kw)


def test_resolve_versions_on_a_date():
    facts = [_f("old", "某法", "2010-01-01"), _f("new", "某法", "2024-06-01", "2025-01-01")]
    now = resolve(facts, "2025-03-01")
    assert (now["new"].status, now["old"].status, now["old"].superseded_by) == ("current", "superseded", "new")
    before = resolve(facts, "2024-09-01")  # promulgated, not yet in force
    assert (before["new"].status, before["old"].status) == ("not_yet_effective", "current")
    assert resolve(facts, "2009-01-01")["old"].status == "not_yet_effective"


def test_resolve_repeal_takes_effect_with_the_repealing_text():
    facts = [_f("a", "甲条例", "2001-12-14"),
             _f("b", "乙条例", "2024-08-30", "2024-11-01",
                repeals=[{"title": "甲条例", "key": "甲条例", "date": "2001-12-14", "doc_number": ""}])]
    assert resolve(facts, "2024-10-01")["a"].status == "current"
    later = resolve(facts, "2024-11-01")["a"]
    assert (later.status, later.repealed_by, later.repealed_on) == ("repealed", "b", "2024-11-01")


# ---- through the knowledge base ---------------------------------------------------------------
@pytest.fixture(scope="module")
def vkb(tmp_path_factory):
    from kb.core import KnowledgeBase
    kb = KnowledgeBase(tmp_path_factory.mktemp("validity") / "idx", embedder="fake")
    summary = kb.ingest([DATA / "laws", DATA / "gov"], root=DATA)
    assert not summary.failed, summary.failed
    return kb


def _status(kb, path, as_of=None):
    return kb.document(path).status if as_of is None else kb.versions(path, as_of=as_of)["versions"]


def test_statuses_in_the_index(vkb):
    assert vkb.document(f"{SH}(2024-09-27).md").status == "current"
    old = vkb.document(f"{SH}(2020-04-10).md")
    assert old.status == "superseded"
    assert old.superseded_by == vkb.document(f"{SH}(2024-09-27).md").doc_id
    assert vkb.document(f"{LIFA}(2015-03-15).md").status == "superseded"
    assert vkb.document(f"{PAY}(2025-03-17).md").status == "current"
    assert vkb.document(f"{PAY}(2020-07-05).md").status == "superseded"
    assert vkb.document("laws/全国/行政法规/信访条例(2005-01-10).md").status == "current"
    repealed = vkb.document("laws/全国/行政法规/法规规章备案条例(2001-12-14).md")
    assert (repealed.status, repealed.repealed_on) == ("repealed", "2024-11-01")
    assert vkb.document("laws/北京/北京市社会治安综合治理条例.md").status == "repealed"


def test_versions_as_of_a_date(vkb):
    group = vkb.versions("中华人民共和国保障中小企业款项支付条例", as_of="2025-05-01")
    assert [(v["path"], v["status"]) for v in group["versions"]] == [
        (f"{PAY}(2025-03-17).md", "not_yet_effective"), (f"{PAY}(2020-07-05).md", "current")]
    assert vkb.documents(status="expired", as_of="2026-12-01")[1][0]["path"] == TIANHE
    assert vkb.document(TIANHE).expires == "2026-09-08"
    assert [r["path"] for r in vkb.documents(status="expired", as_of="2024-01-01")[1]] == []


def test_search_shows_the_version_in_force(vkb):
    hits = vkb.search("优化营商环境条例 市场主体", k=10)
    paths = [h.path for h in hits]
    assert f"{SH}(2020-04-10).md" not in paths and f"{SH}(2024-09-27).md" in paths
    hit = next(h for h in hits if h.path == f"{SH}(2024-09-27).md")
    assert hit.status == "current" and hit.level == "local_regulation"
    assert [v["status"] for v in hit.versions] == ["superseded"]
    assert hit.citation.startswith("《上海市优化营商环境条例》（2024年修正）")
    every = vkb.search("优化营商环境条例 市场主体", k=10, all_versions=True)
    assert {h.status for h in every if h.path.startswith(SH)} == {"current", "superseded"}
    then = vkb.search("优化营商环境条例 市场主体", k=10, as_of="2021-01-01")
    assert {h.path for h in then if h.path.startswith(SH)} == {f"{SH}(2020-04-10).md"}


def test_a_repealed_text_ranks_below_an_equal_text_in_force(vkb):
    hits = vkb.search("法规规章备案", k=10, mode="lexical")
    statuses = {h.path: h.status for h in hits}
    assert statuses["laws/全国/行政法规/法规规章备案条例(2001-12-14).md"] == "repealed"
    assert all(h.score <= hits[0].score for h in hits)


def test_removing_the_new_version_restores_the_old(tmp_path):
    from kb.core import KnowledgeBase
    src = tmp_path / "src"
    for name in ("(2020-04-10).md", "(2024-09-27).md"):
        (src / SH).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / f"{SH}{name}", src / f"{SH}{name}")
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    kb.ingest([src / f"{SH}(2020-04-10).md"], root=src)
    assert kb.document(f"{SH}(2020-04-10).md").status == "current"
    chunks_before = kb.document(f"{SH}(2020-04-10).md").chunks
    kb.ingest([src / f"{SH}(2024-09-27).md"], root=src)
    assert kb.document(f"{SH}(2020-04-10).md").status == "superseded"
    assert kb.document(f"{SH}(2020-04-10).md").chunks == chunks_before  # not re-ingested
    assert kb.remove(f"{SH}(2024-09-27).md")
    assert kb.document(f"{SH}(2020-04-10).md").status == "current"


def test_ask_says_when_its_only_evidence_is_repealed(tmp_path):
    from kb.core import KnowledgeBase
    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    kb.ingest([DATA / "laws/北京"], root=DATA)  # the 条例 and the decision that repealed it
    out = kb.ask("社会治安综合治理的方针是什么", k=3).to_dict()
    assert out["found"] and {c["status"] for c in out["citations"]} == {"repealed"}
    assert "已废止" in out["answer"] and out["note"]


# ---- CLI and API --------------------------------------------------------------------------------
def test_cli_versions_and_status_filter(vkb):
    assert KB_SCRIPT.exists(), f"the kb console script is not installed beside {sys.executable}"
    out = subprocess.run([str(KB_SCRIPT), "versions", "立法法", "--json", "--index", str(vkb.dir)],
                         capture_output=True, text=True, check=True)
    group = json.loads(out.stdout)
    assert [v["status"] for v in group["versions"]] == ["current", "superseded"]
    assert group["versions"][0]["history"][0] == {"date": "2000-03-15", "event": "通过",
                                                  "text": "2000年3月15日 第九届全国人民代表大会第三次会议通过"}
    out = subprocess.run([str(KB_SCRIPT), "docs", "--status", "repealed", "--json", "--index", str(vkb.dir)],
                         capture_output=True, text=True, check=True)
    assert {r["path"] for r in json.loads(out.stdout)} == {
        "laws/全国/行政法规/法规规章备案条例(2001-12-14).md", "laws/北京/北京市社会治安综合治理条例.md"}
    bad = subprocess.run([str(KB_SCRIPT), "search", "立法", "--as-of", "2024-13-01", "--index", str(vkb.dir)],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "as_of must be a date" in bad.stderr


def test_api_versions_and_as_of(vkb):
    from fastapi.testclient import TestClient

    from api.app import create_app
    client = TestClient(create_app(vkb))
    res = client.get("/api/versions", params={"q": "上海市优化营商环境条例"})
    assert res.status_code == 200
    assert [v["status_label"] for v in res.json()["versions"]] == ["现行有效", "已被修改"]
    hits = client.get("/api/search", params={"q": "优化营商环境条例 市场主体", "as_of": "2021-01-01"}).json()["hits"]
    assert {h["path"] for h in hits if h["path"].startswith(SH)} == {f"{SH}(2020-04-10).md"}
    assert client.get("/api/search", params={"q": "立法", "as_of": "yesterday"}).status_code == 422
    assert client.get("/api/versions", params={"q": "没有这部法"}).status_code == 404
    listed = client.get("/api/documents", params={"status": "superseded"}).json()
    assert listed["total"] == 3 and all(r["status"] == "superseded" for r in listed["items"])


def test_material_requests_rank_legal_texts_lower(fake_kb):
    from dataclasses import replace

    from kb.query_plan import plan
    assert plan("柔性执法 讲话素材").intent == plan("法治政府建设的战略定位怎么表述").intent == "material"
    assert plan("重大行政决策需经哪些程序").intent != "material"
    query = "重大行政决策 讲话素材"
    saved = fake_kb.search_config
    try:
        fake_kb.search_config = replace(saved, material_legal=1.0)
        plain = {h.chunk_id: h for h in fake_kb.search(query, k=20)}
        fake_kb.search_config = replace(saved, material_legal=0.5)
        lowered = fake_kb.search(query, k=20)
    finally:
        fake_kb.search_config = saved
    both = [h for h in lowered if h.chunk_id in plain]
    assert {h.level != "none" for h in both} == {True, False}  # legal texts and others among the hits
    for h in both:
        expected = plain[h.chunk_id].score * (0.5 if h.level != "none" else 1.0)
        assert h.score == pytest.approx(expected, abs=1e-5)
