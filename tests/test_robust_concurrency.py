"""Concurrent reads during writes, through the real app: searches and document reads in
several threads while uploads, replacements and deletions run. No read may fail, and none
may see a half-written document: every hit is an exact span of a whole version of its
document, and a document read always comes with exactly that version's chunks.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from conftest import HIT_FIELDS
from fastapi.testclient import TestClient

DATA = Path(__file__).parent / "data" / "robust"
KEY = "robust-write-key"
WRITE = {"Authorization": f"Bearer {KEY}"}
CHANGING = "变更中的办法.md"  # uploaded in turn as two different versions
QUERIES = [("人民调解委员会 调解纠纷", "hybrid"), ("代表视察", "lexical"), ("司法工作监督", "dense"),
           ("法治政府建设", "hybrid"), ('"人民代表大会"', "hybrid"), ("营商环境", "lexical"),
           ("宪法修正案 社会主义市场经济", "dense"), ("集体资产 处置 公开", "hybrid"),
           ("村务监督委员会", "lexical")]
ROUNDS = 8  # writer rounds: upload all, replace one, delete one
MAX_READS = 400  # per reader thread
DEADLINE = 60.0  # seconds; a guard against hanging, never asserted on


class Versions:
    """Every version each path may have: (text, [(start, end, section)]) as parse_bytes makes it."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[tuple[str, list]]] = {}

    def add(self, path: str, data: bytes) -> None:
        from ingest import parse_bytes

        doc = parse_bytes(data, path)
        self.by_path.setdefault(path, []).append((doc.text, [(c.start, c.end, c.section) for c in doc.chunks]))

    def add_doc(self, doc: dict) -> None:
        spans = [(c["start"], c["end"], c["section"]) for c in doc["chunks"]]
        self.by_path.setdefault(doc["path"], []).append((doc["text"], spans))

    def hit_problem(self, h: dict) -> str | None:
        if set(h) != HIT_FIELDS:
            return f"hit keys {sorted(h)}"
        if not (0 <= h["start"] < h["end"]) or not h["text"]:
            return f"bad span {h['start']}..{h['end']}"
        for text, spans in self.by_path.get(h["path"], []):
            # a hit may widen its chunk with neighbours; its section is its chunk's
            if text[h["start"]:h["end"]] == h["text"] and any(sec == h["section"] for _, _, sec in spans):
                return None
        return f"hit {h['path']} [{h['start']}:{h['end']}] is no span of any version of that document"

    def doc_problem(self, d: dict) -> str | None:
        spans = [(c["start"], c["end"], c["section"]) for c in d["chunks"]]
        versions = self.by_path.get(d["path"], [])
        if (d["text"], spans) in versions:
            return None
        if any(d["text"] == text for text, _ in versions):
            return f"{d['path']}: whole text but {len(spans)} chunks that are not its version's"
        return f"{d['path']}: text of no known version ({len(d['text'])} chars)"


CHANGING_V1 = """某县农村集体资产管理办法

第一条 为了加强农村集体资产管理，维护农村集体经济组织及其成员的合法权益，制定本办法。

第二条 本办法所称农村集体资产，是指农村集体经济组织成员集体所有的资源性资产、经营性资产和非经营性资产。

第三条 农村集体资产的所有权不因村民委员会的换届而改变，任何单位和个人不得侵占、挪用、私分。

第四条 村务监督委员会负责对集体资产的承包、租赁、出让等事项进行监督，发现问题应当及时报告乡镇人民政府。

第五条 集体资产的处置应当经成员大会或者成员代表会议讨论决定，并将处置结果公开不少于七日。

第六条 违反本办法规定，造成集体资产损失的，依法承担赔偿责任；构成犯罪的，依法追究刑事责任。
"""


def _changing_versions() -> tuple[bytes, bytes]:
    v2 = (CHANGING_V1.replace("某县农村集体资产管理办法", "某县农村集体资产管理办法（修订）", 1)
          .replace("不少于七日", "不少于十五日").replace("村务监督委员会负责", "村务监督委员会和审计机构共同负责")
          + "\n第七条 本办法自发布之日起施行。\n")
    return CHANGING_V1.encode(), v2.encode()


@pytest.fixture
def served(tmp_path):
    from api.app import create_app
    from kb.core import KnowledgeBase
    from kb.settings import Settings

    folder = tmp_path / "a"
    shutil.copytree(DATA / "a", folder)
    kb = KnowledgeBase(tmp_path / "index", embedder="fake", settings=Settings(api_key=KEY, read_key=""))
    assert not kb.ingest([folder]).failed
    versions = Versions()
    for name in sorted(p.name for p in folder.iterdir()):
        versions.add_doc(kb.document(name).to_dict())
    uploads = [(p.name, p.read_bytes()) for p in sorted((DATA / "b").iterdir())]
    for name, data in uploads:
        versions.add("uploads/" + name, data)
    changing = _changing_versions()
    for data in changing:
        versions.add("uploads/" + CHANGING, data)
    with TestClient(create_app(kb), raise_server_exceptions=False) as client:  # a 500 is a response
        yield client, kb, versions, uploads, changing
    kb.close()


def _upload(client: TestClient, files: list[tuple[str, bytes]]):
    return client.post("/api/documents", headers=WRITE, files=[("files", (n, d)) for n, d in files])


# Races this stress test can catch that are pinned down deterministically by the xfail tests
# below. While their fixes are pending, catching one xfails this test (visibly) instead of
# making it flaky; anything else still fails it. Set to False once the fixes are in.
PENDING_RACE_FIXES = False
TORN_DOCUMENT = "chunks that are not its version's"  # test_document_read_is_one_consistent_version


def _window_race(record) -> bool:
    """A logged 500 caused by widen()'s StopIteration (test_search_while_a_document_shrinks_is_not_a_500)."""
    exc = record.exc_info[1] if record.exc_info else None
    while exc is not None and not isinstance(exc, StopIteration):
        exc = exc.__cause__ or exc.__context__
    return exc is not None


def test_reads_during_writes_never_fail_or_see_half_documents(served, caplog):
    client, kb, versions, uploads, changing = served
    errors: list[str] = []
    writing = threading.Event()
    writing.set()
    reads_during_writes = [0]
    stop_at = time.monotonic() + DEADLINE

    def writer() -> None:
        try:
            for r in range(ROUNDS):
                resp = _upload(client, [*uploads, (CHANGING, changing[r % 2])])
                if resp.status_code != 200 or resp.json()["failed"]:
                    errors.append(f"upload round {r}: {resp.status_code} {resp.text[:300]}")
                gone = "uploads/" + uploads[r % len(uploads)][0]
                resp = client.delete(f"/api/documents/{gone}", headers=WRITE)
                if resp.status_code != 200:
                    errors.append(f"delete {gone}: {resp.status_code} {resp.text[:300]}")
        finally:
            writing.clear()

    def reader(n: int) -> None:
        try:
            read(n)
        except Exception as e:  # noqa: BLE001 — a reader must never die silently
            errors.append(f"reader {n}: {type(e).__name__}: {e}")

    def read(n: int) -> None:
        for i in range(MAX_READS):
            if i and (not writing.is_set() or time.monotonic() > stop_at):  # at least one read each
                return
            q, mode = QUERIES[(i + n) % len(QUERIES)]
            resp = client.get("/api/search", params={"q": q, "mode": mode, "k": 10})
            reads_during_writes[0] += 1
            if resp.status_code != 200:
                errors.append(f"search {q!r}: {resp.status_code} {resp.text[:300]}")
                continue
            hits = resp.json()["hits"]
            errors.extend(p for h in hits if (p := versions.hit_problem(h)))
            for doc_id in {h["doc_id"] for h in hits[:3]}:
                d = client.get(f"/api/documents/{doc_id}")
                if d.status_code == 200:
                    errors.extend(p for p in [versions.doc_problem(d.json())] if p)
                elif d.status_code != 404:  # deleted meanwhile is fine; anything else is not
                    errors.append(f"document {doc_id}: {d.status_code} {d.text[:300]}")
            rows = client.get("/api/documents", params={"limit": 200})
            if rows.status_code != 200:
                errors.append(f"documents list: {rows.status_code} {rows.text[:300]}")
                continue
            for row in rows.json()["items"]:
                counts = {len(text): len(spans) for text, spans in versions.by_path.get(row["path"], [])}
                if counts.get(row["chars"]) != row["chunks"]:
                    errors.append(f"listed {row['path']}: {row['chars']} chars with {row['chunks']} chunks")

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(3)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE + 30)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    known = [e for e in errors if TORN_DOCUMENT in e]
    races_500 = [r for r in caplog.records if _window_race(r)]
    search_500 = [e for e in errors if e.startswith("search") and ": 500 " in e]
    if len(search_500) == len(races_500):
        known += search_500
    assert [e for e in errors if e not in known] == [], errors[:10]
    if known and PENDING_RACE_FIXES:
        pytest.xfail(f"caught a race whose fix is pending: {known[0]}")
    assert known == [], known[:10]
    assert reads_during_writes[0] >= 3
    print(f"{reads_during_writes[0]} searches (with document reads) overlapped {ROUNDS} write rounds")

    # afterwards: the index agrees with itself and holds the last version of each upload
    res = kb.check()
    assert res["ok"], res["problems"]
    final = client.get(f"/api/documents/uploads/{CHANGING}").json()
    assert (final["text"], [(c["start"], c["end"], c["section"]) for c in final["chunks"]]) == \
        versions.by_path["uploads/" + CHANGING][(ROUNDS - 1) % 2]


def _replace_midway(kb, target: str, data: bytes, name: str) -> None:
    """Make the next call of ``target`` on kb.store first replace a document from another thread."""
    original = getattr(kb.store, target)
    fired = []

    def patched(*args, **kwargs):
        if not fired:
            fired.append(True)
            t = threading.Thread(target=kb.ingest_bytes, args=([(name, data)],))
            t.start()
            t.join()
        return original(*args, **kwargs)

    setattr(kb.store, target, patched)


def test_document_read_is_one_consistent_version(served):
    client, kb, versions, _uploads, changing = served
    path = "uploads/" + CHANGING
    assert _upload(client, [(CHANGING, changing[0])]).status_code == 200
    _replace_midway(kb, "chunks_of", changing[1], path)
    resp = client.get(f"/api/documents/{path}")
    assert resp.status_code == 200
    assert versions.doc_problem(resp.json()) is None


def test_search_hit_is_one_consistent_version(served):
    client, kb, versions, _uploads, changing = served
    path = "uploads/" + CHANGING
    assert _upload(client, [(CHANGING, changing[0])]).status_code == 200
    titles = {}
    for data in changing:
        from ingest import parse_bytes

        doc = parse_bytes(data, path)
        titles[doc.title] = doc.text
    assert len(titles) == 2
    _replace_midway(kb, "doc_rows", changing[1], path)
    hits = [h for h in client.get("/api/search", params={"q": '"不少于七日"', "k": 5}).json()["hits"]
            if h["path"] == path]
    assert hits, "the passage is found in one version or the other"
    for h in hits:
        assert titles[h["title"]][h["start"]:h["end"]] == h["text"], "hit text and title from different versions"


def test_search_while_a_document_shrinks_is_not_a_500(served):
    client, kb, _versions, _uploads, changing = served
    path = "uploads/" + CHANGING
    assert _upload(client, [(CHANGING, changing[0])]).status_code == 200
    last = kb.document(path).chunks[-1]
    assert len(kb.document(path).chunks) > 2 and "赔偿责任" in kb.document(path).text[last["start"]:]
    _replace_midway(kb, "doc_rows", "某县农村集体资产管理办法\n\n第一条 本办法废止。\n".encode(), path)
    resp = client.get("/api/search", params={"q": "赔偿责任 刑事责任", "mode": "lexical"})
    assert resp.status_code == 200, resp.text
    assert kb.check()["ok"]


def test_server_answers_while_a_cli_ingest_runs_and_then_sees_it(served):
    """`kb ingest` in another process (an official loading a folder while the server runs): reads
    never fail meanwhile, and afterwards the server finds the new documents without a restart."""
    import os
    import subprocess
    import sys

    client, kb, versions, _uploads, _changing = served
    for f in sorted((DATA / "b").iterdir()):
        versions.add(f.name, f.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    proc = subprocess.Popen([sys.executable, "-m", "kb.cli", "ingest", "--index", str(kb.dir), str(DATA / "b"),
                             "--json"], cwd=Path(__file__).resolve().parent.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors: list[str] = []
    reads = 0
    stop_at = time.monotonic() + DEADLINE
    while not reads or (proc.poll() is None and reads < MAX_READS and time.monotonic() < stop_at):
        q, mode = QUERIES[reads % len(QUERIES)]
        reads += 1
        resp = client.get("/api/search", params={"q": q, "mode": mode})
        if resp.status_code != 200:
            errors.append(f"search {q!r}: {resp.status_code} {resp.text[:300]}")
            continue
        errors.extend(p for h in resp.json()["hits"] if (p := versions.hit_problem(h)))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert errors == [], errors[:10]
    print(f"{reads} searches while `kb ingest` ran in another process")
    hits = client.get("/api/search", params={"q": '"代表视察"', "k": 20}).json()["hits"]
    assert "北京市人民代表大会代表视察办法.md" in {h["path"] for h in hits}, "the server never saw the CLI ingest"
    assert kb.check()["ok"]
