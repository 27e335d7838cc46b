"""FAISS vector index: exact and IVF-SQ8, ids, filters, copies and files."""

from __future__ import annotations

import numpy as np
import pytest

from kb.vectors import VectorIndex, ivf_nlist


def unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def flat():
    ids = np.arange(200, dtype=np.int64) * 11 + 5  # arbitrary, not contiguous
    return VectorIndex.build(ids, unit(200, 16)), ids, unit(200, 16)


def test_flat_search_finds_itself_best_first(flat):
    index, ids, vecs = flat
    assert index.kind == "flat" and index.dim == 16 and len(index) == 200
    got, scores = index.search(vecs[42], 5)
    assert got.dtype == np.int64 and got[0] == ids[42] and np.isclose(scores[0], 1.0, atol=1e-5)
    assert np.all(np.diff(scores) <= 1e-7)
    exact = np.argsort(-(vecs @ vecs[42]))[:5]
    assert got.tolist() == ids[exact].tolist()


def test_add_remove_and_ids_stay_consistent(flat):
    index, ids, vecs = flat
    assert index.remove(ids[:50]) == 50 and len(index) == 150
    assert index.remove(np.array([10**12])) == 0  # absent ids are ignored
    assert sorted(index.ids().tolist()) == sorted(ids[50:].tolist())
    assert ids[3] not in index.search(vecs[3], 10)[0]
    index.add(ids[:1], vecs[:1])
    assert index.search(vecs[0], 1)[0].tolist() == [ids[0]]
    with pytest.raises(ValueError, match="already in the index"):
        index.add(ids[60:61], vecs[60:61])
    with pytest.raises(ValueError, match="repeated"):
        index.add(np.array([1, 1]), vecs[:2])
    with pytest.raises(ValueError, match=r"\(n, 16\)"):
        index.add(np.array([2]), np.ones((1, 8), np.float32))


def test_allowed_restricts_results_and_drops_padding(flat):
    index, ids, vecs = flat
    allowed = ids[[7, 90, 150]]
    got, scores = index.search(vecs[0], 10, allowed=allowed)
    assert sorted(got.tolist()) == sorted(allowed.tolist())  # three, not ten padded with -1
    assert index.search(vecs[0], 10, allowed=np.array([], np.int64))[0].size == 0
    assert len(index.search(vecs[0], 1000)[0]) == 200


def test_copy_is_independent(flat):
    index, ids, _ = flat
    clone = index.copy()
    clone.remove(ids[:100])
    assert len(clone) == 100 and len(index) == 200


def test_save_load_round_trip(tmp_path, flat):
    index, ids, vecs = flat
    path = tmp_path / "vectors.faiss"
    index.save(path)
    again = VectorIndex.load(path)
    assert again.kind == "flat" and again.dim == 16 and len(again) == 200
    assert again.search(vecs[9], 3)[0].tolist() == index.search(vecs[9], 3)[0].tolist()
    assert not (tmp_path / "vectors.faiss.tmp").exists()
    with pytest.raises(ValueError, match="missing.faiss"):
        VectorIndex.load(tmp_path / "missing.faiss")
    (tmp_path / "junk.faiss").write_bytes(b"not an index")
    with pytest.raises(ValueError, match="junk.faiss"):
        VectorIndex.load(tmp_path / "junk.faiss")


def test_empty_index():
    empty = VectorIndex.empty(8)
    assert len(empty) == 0 and empty.ids().size == 0 and empty.kind == "flat"
    assert empty.search(np.ones(8, np.float32), 5)[0].size == 0
    assert empty.remove(np.array([1])) == 0
    empty.add(np.array([3]), unit(1, 8))
    assert empty.search(unit(1, 8)[0], 5)[0].tolist() == [3]


def test_ivf_recall_against_exact_and_its_life_cycle(tmp_path):
    n, dim = 5000, 32
    vecs = unit(n, dim, seed=1)
    ids = np.random.default_rng(2).choice(10**9, n, replace=False).astype(np.int64)
    exact = VectorIndex.build(ids, vecs)
    ivf = VectorIndex.build(ids, vecs, flat_max=1000, nprobe=64)  # random vectors: no clusters to exploit
    assert ivf.kind == "ivf_sq8" and len(ivf) == n and ivf.nprobe == 64
    assert set(ivf.ids().tolist()) == set(ids.tolist())
    queries = unit(50, dim, seed=3)
    recall = np.mean([len(set(ivf.search(q, 10)[0]) & set(exact.search(q, 10)[0])) / 10 for q in queries])
    assert recall >= 0.9, recall

    allowed = ids[:30]  # a small filter probes every list, so all 30 are reachable
    assert sorted(ivf.search(queries[0], 30, allowed=allowed)[0].tolist()) == sorted(allowed.tolist())

    ivf.save(tmp_path / "ivf.faiss")
    again = VectorIndex.load(tmp_path / "ivf.faiss")
    assert again.kind == "ivf_sq8" and again.nprobe == 64 and len(again) == n
    assert again.remove(ids[:100]) == 100 and len(again) == n - 100 and len(ivf) == n
    again.add(ids[:1], vecs[:1])
    assert again.search(vecs[0], 1)[0].tolist() == [ids[0]]
    assert again.copy().kind == "ivf_sq8"


def test_ivf_default_probes_half_of_the_lists():
    rng = np.random.default_rng(3)
    n = 20_000
    vecs = rng.standard_normal((n, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ivf = VectorIndex.build(np.arange(n, dtype=np.int64), vecs, flat_max=1000)
    nlist = ivf_nlist(n)
    assert ivf.kind == "ivf_sq8" and ivf.nprobe == nlist // 2
