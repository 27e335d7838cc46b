"""Shared fixtures: one KnowledgeBase over the shipped corpus per session and embedder.

``fake_kb`` uses the deterministic fake embedder (mechanics, fast); ``real_kb`` the bundled
e5-small model for the handful of semantic checks (built once per session, ~1.5 min).
Set KB_TEST_CACHE=DIR to keep these indexes between runs (the embedding cache makes a
rebuild free).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The fields of a search hit in JSON (kb search --json, the API, compare and matrix cells): the contract
HIT_FIELDS = frozenset({"doc_id", "path", "title", "doc_type", "region", "date", "section", "text", "start", "end",
                        "page", "score", "citation", "highlights", "also_in", "status", "level", "effective",
                        "versions"})
CORPUS = ROOT / "corpus"


def _index_dir(tmp_path_factory, name: str) -> Path:
    cache = os.environ.get("KB_TEST_CACHE")
    if cache:
        return Path(cache) / name
    return tmp_path_factory.mktemp(name)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def fake_kb(tmp_path_factory):
    from kb.core import KnowledgeBase
    kb = KnowledgeBase(_index_dir(tmp_path_factory, "fake_kb"), embedder="fake")
    summary = kb.ingest([CORPUS])
    assert not summary.failed, summary.failed
    return kb


@pytest.fixture(scope="session")
def real_kb(tmp_path_factory):
    from kb.core import KnowledgeBase
    kb = KnowledgeBase(_index_dir(tmp_path_factory, "real_kb"), embedder="e5-small")
    summary = kb.ingest([CORPUS])
    assert not summary.failed, summary.failed
    return kb


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """A private copy of a few shipped documents, safe to modify."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("seeds/002_5300b03fe4b43074.txt", "seeds/004_6277130b06efc827.txt",
                 "seeds/000_b28d6b4caa93905a.txt"):
        dst = src / Path(name).name
        shutil.copy(CORPUS / name, dst)
    return src


@pytest.fixture(scope="session")
def output_dir() -> Path:
    out = Path(os.environ.get("KB_TEST_OUTPUT", ROOT / "test-output"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@contextmanager
def live_server(kb) -> Iterator[str]:
    """The real app over ``kb`` in a uvicorn thread on a free loopback port; yields its URL."""
    import uvicorn

    from api.app import create_app
    from kb.settings import Settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(kb=kb, settings=Settings()), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the session (tests/pgserver.py). Skipped where PostgreSQL is not
    installed, unless KB_TEST_POSTGRES=required (as in CI), where that fails."""
    from pgserver import PgServer, find_bin
    bindir = find_bin()
    if bindir is None:
        if os.environ.get("KB_TEST_POSTGRES") == "required":
            pytest.fail("PostgreSQL is not installed: apt-get install postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = PgServer(bindir)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of a fresh, empty PostgreSQL database."""
    return pg_server.new_database()
