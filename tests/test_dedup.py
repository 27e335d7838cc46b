"""Near-duplicate collapsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.dedup import _candidates, _core, _cores, collapse, collapse_sets

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


# The numpy path of collapse() must equal the pairwise definition (collapse_sets) exactly,
# repetitive texts (few distinct shingles for their length), short ones and odd cases included.
_PIECES = [ARTICLE, ARTICLE[:30], ARTICLE[10:], "合法性审查" * 6, "审查合法性" * 5, "甲乙" * 12, "甲乙丙",
           "ＡＢ Σσ İ ab", "𠀀𠀁𠀂𠀃𠀄" * 5, "_-，。", ""]


@given(st.lists(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3).map("".join), max_size=14),
       st.sampled_from([0.8, 0.5, 0.3, 1.0, 0.05]))
def test_fast_collapse_equals_the_pairwise_definition(texts, threshold):
    assert collapse(texts, threshold) == collapse_sets(texts, threshold)


@given(st.lists(st.text(st.sampled_from(list("甲乙丙丁ab_ ，ΣİAＡ\x00")), max_size=30), max_size=8))
def test_cores_in_bulk_equal_cores_one_by_one(texts):
    assert _cores(texts) == [_core(t) for t in texts]
    assert collapse(texts) == collapse_sets(texts)


def test_fallbacks_to_the_set_path_give_the_same_groups():
    letters = [chr(c) for c in [*range(0x4E00, 0x9FA6), *range(0xAC00, 0xD7A4)]]  # CJK and Hangul, 32k
    wide = ["".join(letters[i * 400:(i + 1) * 400]) for i in range(80)]
    assert _candidates(wide, 0.8) is None  # too many distinct characters to pack 4-grams in 63 bits
    assert collapse(wide + wide[:3]) == collapse_sets(wide + wide[:3])
    near = [ARTICLE + str(i) for i in range(300)]  # hundreds of near-copies: too many shared pairs
    assert _candidates(near, 0.8) is None
    assert collapse(near) == collapse_sets(near) == [list(range(300))]
