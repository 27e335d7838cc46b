"""The Milvus vector backend on milvus-lite (in process), against exact search."""

import subprocess
import sys

import numpy as np
import pytest

from kb.milvus_keywords import MilvusKeywords
from kb.milvus_vectors import MilvusVectors, literal

DIM = 16


@pytest.fixture()
def vectors(tmp_path):
    rng = np.random.default_rng(7)
    v = rng.standard_normal((300, DIM)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v, MilvusVectors(str(tmp_path / "m.db"), "chunks", DIM)


def test_search_matches_exact_inner_product(vectors):
    v, mv = vectors
    ids = np.arange(1000, 1300)
    mv.add(ids, v, meta=[{"doc_id": f"d{i % 7}", "region": "上海" if i % 2 else "北京", "year": 2020} for i in ids])
    assert mv.count() == 300 and mv.ids().tolist() == ids.tolist()
    got, scores = mv.search(v[5], 10)
    exact = ids[np.argsort(-(v @ v[5]))[:10]]
    assert got[0] == 1005 and len(set(got) & set(exact)) >= 9
    assert np.allclose(scores[0], 1.0, atol=1e-4)
    allowed = ids[::3]
    got, _ = mv.search(v[5], 5, allowed=allowed)
    assert set(got) <= set(allowed) and len(got) == 5
    got, _ = mv.search(v[5], 5, expr=f"region == {literal('北京')}")
    assert all(i % 2 == 0 for i in got)


def test_remove_replay_and_generation(vectors):
    v, mv = vectors
    mv.add(np.arange(10), v[:10])
    mv.add(np.arange(10), v[:10])  # a replayed write changes nothing
    assert mv.count() == 10
    assert mv.remove(np.array([1, 2, 99])) == 2 and mv.count() == 8
    assert mv.search(v[1], 3)[0].tolist()[0] != 1
    assert mv.marker() == -1
    mv.set_marker(5)
    assert mv.marker() == 5 and mv.generation == 5


def test_wrong_dimension_and_names_are_refused(tmp_path):
    mv = MilvusVectors(str(tmp_path / "m.db"), "chunks", DIM)
    with pytest.raises(ValueError, match="16-d"):
        mv.add(np.arange(2), np.zeros((2, 8), dtype=np.float32))
    del mv
    with pytest.raises(ValueError, match="holds 16-d"):
        MilvusVectors(str(tmp_path / "m.db"), "chunks", 32)
    with pytest.raises(ValueError, match="collection name"):
        MilvusVectors(str(tmp_path / "n.db"), "bad-name; drop", DIM)


def test_literal_escapes_quotes():
    assert literal('上海"') == '"上海\\""'


WRITER = """
import sys
import numpy as np
from kb.milvus_keywords import MilvusKeywords
from kb.milvus_vectors import MilvusVectors
mv = MilvusVectors(sys.argv[1], "chunks", 16)
mv.add(np.arange(1, 4), np.eye(3, 16, dtype=np.float32))
mv.set_marker(7)
MilvusKeywords(sys.argv[1], "chunks_kw").add(np.arange(1, 4), [["行政"], ["处罚"], ["行政", "复议"]])
"""


def test_a_new_process_reads_what_an_earlier_one_wrote(tmp_path):
    # milvus-lite in a new process finds the collections released: opening must load them
    db = str(tmp_path / "m.db")
    subprocess.run([sys.executable, "-c", WRITER, db], check=True, timeout=120)
    mv = MilvusVectors(db, "chunks", DIM)
    assert mv.marker() == 7
    assert mv.search(np.eye(1, DIM, 1, dtype=np.float32)[0], 1)[0].tolist() == [2]
    assert MilvusKeywords(db, "chunks_kw").search(["复议"], 5)[0].tolist() == [3]
