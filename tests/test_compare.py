"""Comparison: one best passage per document, grouped by region/province/type/year,
weak matches dropped, and the regions that say nothing listed as missing."""

from __future__ import annotations

import pytest

from kb.compare import compare, province_of
from kb.errors import InvalidInput
from kb.records import CompareResult, Hit, SearchFilters

SERVICE = "第二十条 政务服务机构应当推行政务服务事项“一网通办”，压缩办理时限。"


def hit(n: int, title: str, region: str, text: str, doc_type: str = "local_regulation", date: str = "2021-01-01",
        score: float | None = None, section: str = "第三章 政务服务") -> Hit:
    return Hit(doc_id=f"d{n}", path=f"laws/{title}.md", title=title, doc_type=doc_type, region=region, date=date,
               section=[section], text=text, start=0, end=len(text), page=None,
               score=score if score is not None else 1.0 / (n + 1), citation=f"《{title}》", chunk_id=n)


class StubKB:
    """Just the two calls compare() makes, recording their arguments."""

    def __init__(self, hits: list[Hit], docs: list[dict]):
        self.hits, self.docs, self.calls = hits, docs, []

    def search(self, query, k=10, mode="hybrid", filters=None, collapse=True, per_doc=None, as_of=None):
        self.calls.append({"query": query, "k": k, "mode": mode, "collapse": collapse, "per_doc": per_doc})
        return self.hits

    def documents(self, filters=None, offset=0, limit=50):
        types = set((filters.doc_type or "").split(",")) if filters and filters.doc_type else None
        rows = [d for d in self.docs if types is None or d["doc_type"] in types]
        return len(rows), rows[offset:offset + limit]


@pytest.fixture
def stub():
    hits = [
        hit(0, "广东省优化营商环境条例", "广东省", SERVICE, date="2022-06-01"),
        hit(1, "北京市优化营商环境条例", "北京市", "第十五条 本市推行政务服务“一网通办”。", date="2020-03-27"),
        hit(2, "新闻联播：上海打造营商环境", "全国", "上海推进政务服务改革。", doc_type="news"),  # no 条例
        hit(3, "山东省优化营商环境条例", "山东省", "第九条 加强知识产权保护。", section="第二章 市场环境"),  # no 政务服务
        hit(4, "云浮市优化营商环境条例", "广东省云浮市", SERVICE, date="2023-03-03"),
        hit(5, "优化营商环境条例", "全国", SERVICE, doc_type="regulation", date="2019-10-22"),
    ]
    docs = [{"doc_id": f"x{i}", "doc_type": t, "region": r, "date": d} for i, (t, r, d) in enumerate([
        ("local_regulation", "广东省", "2022"), ("local_regulation", "北京市", "2020"),
        ("local_regulation", "山东省", "2020"), ("local_regulation", "河南省", "2020"),
        ("local_regulation", "广东省云浮市", "2023"), ("regulation", "全国", "2019"), ("news", "全国", "2020"),
        ("law", "全国", "2001"),
    ])]
    return StubKB(hits, docs)


def test_groups_by_region_with_strong_matches_only(stub):
    out = compare(stub, "优化营商环境条例 政务服务").to_dict()
    assert stub.calls == [{"query": "优化营商环境条例 政务服务", "k": 60, "mode": "hybrid", "collapse": False,
                           "per_doc": 1}]
    keys = [g["key"] for g in out["groups"]]
    assert keys == ["全国", *sorted(["广东省", "北京市", "广东省云浮市"])]
    kept = {h["doc_id"] for g in out["groups"] for h in g["hits"]}
    assert kept == {"d0", "d1", "d4", "d5"}  # news (no 条例) and 山东 (no 政务服务) dropped
    assert out["groups"][0]["hits"][0]["section"] == ["第三章 政务服务"]
    # missing: regions with documents of the matched types but no matching passage
    assert out["missing"] == sorted(["山东省", "河南省"])


def test_province_grouping_merges_cities(stub):
    out = compare(stub, "优化营商环境条例 政务服务", by="province").to_dict()
    groups = {g["key"]: [h["doc_id"] for h in g["hits"]] for g in out["groups"]}
    assert groups["广东省"] == ["d0", "d4"]  # best score first
    assert "广东省云浮市" not in groups
    assert province_of("内蒙古自治区呼伦贝尔市海拉尔区") == "内蒙古自治区" and province_of("全国") == "全国"


def test_year_and_type_grouping(stub):
    years = compare(stub, "优化营商环境条例 政务服务", by="year").to_dict()
    assert [g["key"] for g in years["groups"]] == ["2019", "2020", "2022", "2023"]
    assert "2001" not in years["missing"]  # laws are not of a matched doc_type
    types = compare(stub, "优化营商环境条例 政务服务", by="doc_type").to_dict()
    assert [g["key"] for g in types["groups"]] == ["local_regulation", "regulation"] and types["missing"] == []


def test_user_doc_type_filter_bounds_missing(stub):
    out = compare(stub, "优化营商环境条例 政务服务", filters=SearchFilters(doc_type="regulation")).to_dict()
    assert out["missing"] == []  # the only regulation (全国) matched


def test_nothing_matching_gives_empty_result():
    out = compare(StubKB([hit(0, "某条例", "北京市", "无关内容。")], []), "红烧肉 烹饪")
    assert out == CompareResult([], [])


@pytest.mark.parametrize("by", ["city", "", "REGION"])
def test_unknown_grouping_lists_valid_values(stub, by):
    with pytest.raises(InvalidInput) as err:
        compare(stub, "政务服务", by=by)
    assert "region" in err.value.detail and "province" in err.value.detail and "year" in err.value.detail


def test_empty_query_is_refused(stub):
    with pytest.raises(InvalidInput):
        compare(stub, "   ")


def test_shipped_corpus_one_group_per_province(fake_kb):
    out = compare(fake_kb, "优化营商环境条例 政务服务", by="province").to_dict()
    total, rows = fake_kb.documents(SearchFilters(doc_type="local_regulation"), limit=200)
    with_regulation = {province_of(r["region"]) for r in rows if "优化营商环境条例" in r["title"]}
    keys = [g["key"] for g in out["groups"]]
    assert len(keys) == len(set(keys))
    assert with_regulation and with_regulation <= set(keys)
    for g in out["groups"]:
        for h in g["hits"]:
            assert "政务服务" in h["text"] or "政务服务" in " ".join(h["section"])
