"""Rank fusion functions."""

from __future__ import annotations

import pytest

from kb.fuse import FUSIONS, get_fusion, rrf, weighted

DENSE = [(1, 0.9), (2, 0.8), (3, 0.7)]
LEXICAL = [(3, 12.0), (4, 6.0), (1, 3.0)]


def test_rrf_sums_reciprocal_ranks():
    fused = dict(rrf([DENSE, LEXICAL]))
    assert fused[1] == pytest.approx(1 / 61 + 1 / 63)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62) and fused[4] == pytest.approx(1 / 62)
    assert [i for i, _ in rrf([DENSE, LEXICAL])] == [1, 3, 2, 4]  # ties: first seen first


def test_rrf_weights_and_k0():
    fused = rrf([DENSE, LEXICAL], [1.0, 3.0], k0=1)
    assert fused[0][0] == 3 and fused[0][1] == pytest.approx(1 / 4 + 3 / 2)
    assert rrf([[(7, 1.0), (7, 0.5)]]) == [(7, pytest.approx(1 / 61))]  # a repeat counts once


def test_weighted_min_max_normalises_each_run():
    fused = dict(weighted([DENSE, LEXICAL], [0.5, 0.5]))
    assert fused[1] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0)
    assert fused[3] == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)
    assert fused[2] == pytest.approx(0.5 * 0.5)
    assert fused[4] == pytest.approx(0.5 * (6 - 3) / 9)
    assert dict(weighted([[(5, 2.0), (6, 2.0)]])) == {5: 1.0, 6: 1.0}  # equal scores: no division by 0


def test_results_are_best_first_and_empty_runs_work():
    for fusion in FUSIONS.values():
        out = fusion([DENSE, LEXICAL])
        assert [s for _, s in out] == sorted((s for _, s in out), reverse=True)
        assert fusion([[], []]) == [] and fusion([]) == []
        assert [i for i, _ in fusion([[], LEXICAL])] == [3, 4, 1]


def test_get_fusion_by_name():
    assert get_fusion("rrf") is rrf and get_fusion("weighted") is weighted
    with pytest.raises(ValueError, match="rrf, weighted"):
        get_fusion("borda")
    with pytest.raises(ValueError, match="2 runs"):
        rrf([DENSE, LEXICAL], [1.0])
