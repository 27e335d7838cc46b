"""Two `kb serve` processes over one index whose vectors and BM25 live in one Milvus server
(milvus-lite run as a server process): an upload through one replica is found through the other,
and with one replica killed under load the other keeps answering. The store is either one SQLite
file both replicas open, or one PostgreSQL database, where each replica is given its own
(never created) index folder, as on separate hosts."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from kb.core import KnowledgeBase
from kb.settings import Settings

BIN = Path(sys.executable).parent
DOC = "# 城市更新条例\n\n第一条 城市更新应当坚持规划引领、民生优先。\n\n第二条 城市更新项目应当公开征求公众意见。\n"
SEED = "# 行政处罚听证办法\n\n第一条 当事人要求听证的，应当在告知后五日内提出。\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{url} exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not come up")


@pytest.fixture(params=["sqlite", "postgres"])
def cluster(request, tmp_path):
    """A milvus-lite server, an index made against it, and two API replicas; yields their URLs."""
    database = request.getfixturevalue("pg_url") if request.param == "postgres" else ""
    if shutil.which("milvus-lite", path=str(BIN)) is None:
        pytest.fail("milvus-lite is not installed (pip install -e '.[test]')")
    procs: list[subprocess.Popen] = []
    mport = free_port()
    milvus = subprocess.Popen([str(BIN / "milvus-lite"), "server", "--data-dir", str(tmp_path / "milvus"),
                               "--host", "127.0.0.1", "--port", str(mport)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(milvus)
    uri = f"http://127.0.0.1:{mport}"
    try:
        deadline = time.monotonic() + 60
        while True:  # the gRPC port answers once the server is up
            try:
                socket.create_connection(("127.0.0.1", mport), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or milvus.poll() is not None:
                    pytest.fail("milvus-lite server did not start")
                time.sleep(0.3)
        corpus = tmp_path / "corpus"
        corpus.mkdir()
        (corpus / "seed.md").write_text(SEED, encoding="utf-8")
        index = tmp_path / "idx"
        kb = KnowledgeBase(index, embedder="fake", settings=Settings(milvus_uri=uri, database_url=database))
        assert not kb.ingest([corpus], root=corpus).failed
        kb.close()
        env = {**os.environ, "KB_MILVUS_URI": uri, "KB_API_KEY": "w", "KB_DATABASE_URL": database}
        urls = []
        for n in range(2):
            port = free_port()
            folder = tmp_path / f"host{n}" if database else index
            procs.append(subprocess.Popen([str(BIN / "kb"), "serve", "--index", str(folder), "--port", str(port)],
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            urls.append(f"http://127.0.0.1:{port}")
            wait_up(urls[-1] + "/api/stats", procs[-1])
        yield urls, procs
        if database:  # stateless: neither replica wrote anything to local disk
            assert not any((tmp_path / f"host{n}").exists() for n in range(2)) and not index.exists()
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def paths(url: str, q: str) -> list[str]:
    r = httpx.get(f"{url}/api/search", params={"q": q, "k": 5}, timeout=30)
    assert r.status_code == 200, r.text
    return [h["path"] for h in r.json()["hits"]]


def test_replicas_share_writes_and_survive_a_kill(cluster):
    (a, b), procs = cluster
    assert paths(a, "听证 五日") == paths(b, "听证 五日") == ["seed.md"]
    r = httpx.post(f"{a}/api/documents", files=[("files", ("renewal.md", DOC.encode()))],
                   headers={"Authorization": "Bearer w"}, timeout=120)
    assert r.status_code == 200, r.text
    assert "uploads/renewal.md" in paths(b, "城市更新 公众意见")  # written through a, found through b
    assert paths(a, "城市更新 公众意见") == paths(b, "城市更新 公众意见")

    errors: list[str] = []
    answered = [0]
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                r = httpx.get(f"{b}/api/search", params={"q": "听证", "k": 3}, timeout=30)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                answered[0] += 1
            except httpx.HTTPError as e:
                errors.append(repr(e))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    procs[1].kill()  # replica a dies under load
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join()
    assert not errors and answered[0] > 10
    assert paths(b, "城市更新") and "uploads/renewal.md" in paths(b, "城市更新 公众意见")
