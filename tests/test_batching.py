"""Concurrent query embeddings share model calls, and every caller gets its own vector."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from kb.batching import QueryBatcher


def vec(text: str) -> np.ndarray:
    return np.array([len(text), sum(map(ord, text)) % 997], dtype=np.float32)


class SlowModel:
    """Takes 50 ms a call, whatever the batch size, and records the batches it saw."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on
        self.inside = 0
        self.max_inside = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.inside += 1
        self.max_inside = max(self.max_inside, self.inside)
        self.batches.append(list(texts))
        time.sleep(0.05)
        self.inside -= 1
        if self.fail_on in texts:
            raise RuntimeError("model failed")
        return np.stack([vec(t) for t in texts])


def run_together(batcher: QueryBatcher, texts: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    start = threading.Barrier(len(texts))

    def call(t: str) -> None:
        start.wait()
        try:
            out[t] = batcher(t)
        except Exception as e:  # noqa: BLE001
            out[t] = e

    threads = [threading.Thread(target=call, args=(t,)) for t in texts]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=10)
    assert not any(th.is_alive() for th in threads), "a caller hangs"
    return out


def test_a_lone_query_is_one_call_of_one():
    model = SlowModel()
    b = QueryBatcher(model)
    assert np.array_equal(b("重大行政决策"), vec("重大行政决策"))
    assert np.array_equal(b("出庭应诉"), vec("出庭应诉"))
    assert model.batches == [["重大行政决策"], ["出庭应诉"]]


def test_concurrent_queries_share_calls_and_get_their_own_vectors():
    model = SlowModel()
    b = QueryBatcher(model, max_batch=4)
    texts = [f"问题{i}" + "法" * i for i in range(12)]
    out = run_together(b, texts)
    for t in texts:
        assert np.array_equal(out[t], vec(t)), t
    assert sorted(t for batch in model.batches for t in batch) == sorted(texts)  # each embedded once
    assert len(model.batches) < len(texts) and max(map(len, model.batches)) <= 4
    assert model.max_inside == 1  # never two model calls at once
    assert b.batches == len(model.batches)


def test_a_failed_call_fails_its_callers_only_and_nobody_hangs():
    model = SlowModel(fail_on="坏")
    b = QueryBatcher(model, max_batch=16)
    out = run_together(b, ["坏", "好一", "好二", "好三"])
    failed = [t for t, v in out.items() if isinstance(v, Exception)]
    assert "坏" in failed
    for t, v in out.items():
        assert isinstance(v, Exception) if any(t in bt and "坏" in bt for bt in model.batches) else \
            np.array_equal(v, vec(t))
    assert np.array_equal(b("之后"), vec("之后"))  # the batcher is usable afterwards


def test_bad_max_batch():
    with pytest.raises(ValueError, match="max_batch"):
        QueryBatcher(SlowModel(), max_batch=0)
