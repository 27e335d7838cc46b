"""A handful of semantic checks with the real bundled model (e5-small) on the shipped corpus."""

from __future__ import annotations

import pytest

from kb.query import parse_query
from kb.records import SearchFilters

pytestmark = pytest.mark.model


def test_major_decision_procedure_finds_plan_section_and_regulation(real_kb):
    hits = real_kb.search("重大行政决策程序", k=10)
    paths = [h.path for h in hits]
    assert any(h.path.startswith("seeds/002_") and any("健全行政决策机制" in s for s in h.section) for h in hits), paths
    assert any("重大行政决策程序暂行条例" in h.title for h in hits), paths


def test_court_appearance_finds_seed_000(real_kb):
    hits = real_kb.search("出庭应诉", k=10)
    assert any(h.path.startswith("seeds/000_") for h in hits), [h.path for h in hits]


def test_dense_mode_understands_meaning_without_shared_words(real_kb):
    # No query word occurs in the target sentence verbatim; only the embedding can bridge it.
    hits = real_kb.search("领导干部带头学习法律", k=10, mode="dense")
    assert any("学法" in h.text for h in hits), [h.text[:40] for h in hits]


def test_law_citation_names_the_article(real_kb):
    hits = real_kb.search("重大行政决策 合法性审查", k=10, filters=SearchFilters(doc_type="regulation"))
    assert hits
    assert any(h.citation.startswith("《重大行政决策程序暂行条例》第") and h.citation.endswith("条") for h in hits)


def test_region_filter_keeps_results_in_region(real_kb):
    hits = real_kb.search("优化营商环境 政务服务", k=5, filters=SearchFilters(region="上海"))
    assert all("上海" in h.region for h in hits)



def test_law_passages_cite_the_article_range_they_span_and_do_not_overlap(real_kb):
    hits = real_kb.search("重大行政决策需经哪些程序", k=10)
    ranged = [h for h in hits if "至第" in h.citation]
    assert ranged, [h.citation for h in hits]
    for h in ranged:
        first, last = h.citation.split("》", 1)[1].split("至")
        assert first in h.text and last in h.text  # e.g. 第四条 … 第九条 both inside the passage
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for h in hits:
        assert all(h.end <= s or e <= h.start for s, e in by_doc.get(h.doc_id, [])), "overlapping passages"
        by_doc.setdefault(h.doc_id, []).append((h.start, h.end))


def test_a_question_in_everyday_words_borrows_the_corpus_phrase(real_kb):
    """办完 is in no shipped text; e5-small puts “一网通办” nearest the question, and its words find
    the provisions that use it (kb/formulations.py)."""
    query = "办事能不能只在网上一个地方办完"
    pq = parse_query(query)
    assert real_kb._bridge(real_kb._query_vector(" ".join([pq.text, *pq.expansions])), 1) == ["一网通办"]
    assert real_kb.query_plan(query).bridge == ["一网通办"]
    bridged = sum("一网通办" in h.text for h in real_kb.search(query, k=5))
    cfg = real_kb.search_config
    cfg.bridge_phrases = 0
    try:
        plain = sum("一网通办" in h.text for h in real_kb.search(query, k=5))
    finally:
        cfg.bridge_phrases = 1
    assert bridged >= 4 and bridged > plain, (bridged, plain)
