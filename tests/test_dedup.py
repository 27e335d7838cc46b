"""Near-duplicate collapsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.dedup import collapse

ARTICLE = "第二十五条 决策草案提交决策机关讨论前，应当由负责合法性审查的部门进行合法性审查。不得以征求意见等方式代替合法性审查。"


def test_copies_differing_in_spaces_and_punctuation_collapse_onto_the_best():
    copy = ARTICLE.replace("，", ",").replace(" ", "\u3000").replace("。", ".")
    other = "今年以来，全县深入推进政务服务一网通办，企业开办时间压缩到一个工作日以内。"
    assert collapse([other, ARTICLE, copy]) == [[0], [1, 2]]


def test_a_passage_contained_in_a_longer_one_collapses():
    longer = "第二章 决策草案的形成\n" + ARTICLE + "第二十六条 决策草案经合法性审查后提交讨论。"
    assert collapse([ARTICLE, longer]) == [[0, 1]]
    # containment needs both sides ≥ 20 characters: a short phrase is not a duplicate
    assert collapse(["合法性审查", ARTICLE]) == [[0], [1]]


def test_threshold_decides_borderline_pairs():
    edited = ARTICLE.replace("不得以征求意见等方式代替合法性审查", "应当听取法律顾问和公职律师的意见")
    assert collapse([ARTICLE, edited], threshold=0.8) == [[0], [1]]
    assert collapse([ARTICLE, edited], threshold=0.3) == [[0, 1]]
    with pytest.raises(ValueError, match="threshold"):
        collapse([ARTICLE], threshold=0)


def test_every_index_once_and_edge_cases():
    texts = [ARTICLE, "甲", ARTICLE, "甲", "", "，。"]
    groups = collapse(texts)
    assert sorted(i for g in groups for i in g) == list(range(len(texts)))
    assert groups == [[0, 2], [1, 3], [4, 5]]  # punctuation only equals empty
    assert collapse([]) == []


@given(st.lists(st.sampled_from([ARTICLE, ARTICLE[:30], ARTICLE[10:], "今年以来全县深入推进政务服务", "甲乙", ""]),
                max_size=12))
def test_groups_partition_the_input_in_rank_order(texts):
    groups = collapse(texts)
    assert sorted(i for g in groups for i in g) == list(range(len(texts)))
    assert all(g == sorted(g) for g in groups) and [g[0] for g in groups] == sorted(g[0] for g in groups)
    for g in groups:  # identical texts always share a group
        for j in range(len(texts)):
            if texts[j] == texts[g[0]]:
                assert j in g
