"""A bounded loopback load test: a real uvicorn server on 127.0.0.1 over a small fake-embedder
index, 16 client threads for KB_LOAD_SECONDS (default 20) of searches and document reads.
Zero errors allowed; throughput and latency are printed (run with -s), never asserted.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "robust"
THREADS = 16
SECONDS = float(os.environ.get("KB_LOAD_SECONDS", "20"))
TERMS = ["人民调解", "调解纠纷", "代表视察", "司法工作监督", "法治政府建设", "营商环境", "宪法修正案", "社会主义市场经济",
         "人民代表大会", "依法行政", "行政复议", "重大行政决策", "合法性审查", "政务公开", "基层治理", "罚款"]
MODES = ("hybrid", "hybrid", "dense", "lexical")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """uvicorn in a thread, on a loopback socket bound here (port chosen by the OS)."""
    import uvicorn

    from api.app import create_app
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    kb = KnowledgeBase(tmp_path_factory.mktemp("load") / "index", embedder="fake",
                       settings=Settings(api_key="", read_key=""))
    assert not kb.ingest([DATA / "a", DATA / "b"]).failed
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(kb), log_level="warning", access_log=False, lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):  # bounded wait for startup
        if srv.started:
            break
        time.sleep(0.02)
    assert srv.started, "uvicorn did not start"
    host, port = sock.getsockname()
    yield f"http://{host}:{port}", kb
    srv.should_exit = True
    thread.join(30)
    sock.close()
    kb.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def test_sixteen_clients_searching_get_no_errors(server):
    import httpx

    base, kb = server
    texts = {r["doc_id"]: kb.document(r["doc_id"]).text for r in kb.documents(limit=100)[1]}
    ids = sorted(texts)
    latencies: list[float] = []
    errors: list[str] = []
    counts = {"search": 0, "documents": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + SECONDS

    def client(n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(base_url=base, timeout=60, trust_env=False) as http:
            i = 0
            while i < 3 or time.monotonic() < stop_at:  # every client does each kind at least once
                i += 1
                if i % 20 == 2:
                    kind, url, params = "documents", "/api/documents", {"limit": 50}
                elif i % 10 in (1, 2):
                    kind, url, params = "documents", f"/api/documents/{rng.choice(ids)}", None
                else:
                    kind = "search"
                    q = " ".join(rng.sample(TERMS, rng.randint(1, 3)))
                    url, params = "/api/search", {"q": q, "k": rng.choice((5, 10, 20)), "mode": rng.choice(MODES)}
                t0 = time.perf_counter()
                try:
                    resp = http.get(url, params=params)
                    body = resp.json()
                except Exception as e:  # noqa: BLE001 — every failure is counted, none may happen
                    with lock:
                        errors.append(f"{url} {params}: {type(e).__name__}: {e}")
                    continue
                elapsed = time.perf_counter() - t0
                problem = None
                if resp.status_code != 200:
                    problem = f"{resp.status_code} {resp.text[:200]}"
                elif kind == "search":
                    bad = [h for h in body["hits"] if texts.get(h["doc_id"], "")[h["start"]:h["end"]] != h["text"]]
                    problem = f"{len(bad)} hits not exact spans" if bad else None
                elif url == "/api/documents":
                    problem = None if body["total"] == len(texts) else f"{body['total']} documents listed"
                elif body["text"] != texts[body["doc_id"]]:
                    problem = "document text changed"
                with lock:
                    latencies.append(elapsed)
                    counts[kind] += 1
                    if problem:
                        errors.append(f"{url} {params}: {problem}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 120)
    wall = time.monotonic() - started
    assert not any(t.is_alive() for t in threads), "a client thread hung"
    total = sum(counts.values())
    print(f"\nload: {THREADS} threads × {SECONDS:g} s → {total} requests ({counts['search']} searches, "
          f"{counts['documents']} document reads), {total / wall:.1f} req/s, "
          f"p50 {_percentile(latencies, 0.5) * 1000:.0f} ms, p99 {_percentile(latencies, 0.99) * 1000:.0f} ms")
    assert errors == [], errors[:10]
    assert counts["search"] >= THREADS and counts["documents"] >= 2 * THREADS, counts
