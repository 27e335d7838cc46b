"""The HTTP API through the real app: every endpoint, every error status with the
{error, detail} body, auth on writes and reads, upload limits, export files."""

from __future__ import annotations

import inspect
import io
import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app, safe_upload_name
from kb.settings import Settings

DOC_TXT = (
    "某市行政规范性文件管理办法\n\n"
    "第一章 总则\n\n"
    "第一条 为了规范行政规范性文件的制定和监督管理工作，制定本办法。\n\n"
    "第二条 行政规范性文件应当经过合法性审核，未经审核的，不得提交集体审议。\n"
).encode()


def assert_error(resp, status: int, code: str, *words: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "detail"} and body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert "Traceback" not in body["detail"]
    for w in words:
        assert w in body["detail"], (w, body["detail"])
    return body


@pytest.fixture(scope="module")
def client(fake_kb):
    return TestClient(create_app(kb=fake_kb, settings=Settings(api_key="", read_key="")))


@pytest.fixture(scope="module")
def first_hits(client):
    hits = client.get("/api/search", params={"q": "重大行政决策 合法性审查", "k": 5}).json()["hits"]
    assert len(hits) >= 2
    return hits


@pytest.fixture
def fresh(tmp_path):
    """A private empty index with writes and reads keyed, for the write paths."""
    from kb.core import KnowledgeBase

    kb = KnowledgeBase(tmp_path / "idx", embedder="fake")
    settings = Settings(api_key="write-secret", max_upload_bytes=5_000)
    yield TestClient(create_app(kb=kb, settings=settings)), kb
    kb.close()


WRITE = {"Authorization": "Bearer write-secret"}


# ---- reads -------------------------------------------------------------------------------------
def test_healthz_and_stats(client, fake_kb):
    assert client.get("/healthz").json() == {"status": "ok", "documents": fake_kb.stats()["documents"]}
    stats = client.get("/api/stats").json()
    assert stats["documents"] > 0 and stats["chunks"] >= stats["documents"]
    assert stats["embedder"] == "fake" and sum(stats["by_type"].values()) == stats["documents"]


def test_search_hits_trace_to_exact_source(client, first_hits):
    keys = {"doc_id", "path", "title", "doc_type", "region", "date", "section", "text", "start", "end", "page",
            "score", "citation", "highlights", "also_in", "status", "level", "effective", "versions"}
    for h in first_hits:
        assert set(h) == keys
        doc = client.get(f"/api/documents/{h['doc_id']}").json()
        assert doc["text"][h["start"]:h["end"]] == h["text"]
        for s, e in h["highlights"]:
            assert 0 <= s < e <= len(h["text"])


def test_search_filters_and_modes(client, fake_kb):
    by_type = fake_kb.stats()["by_type"]
    some_type = next(iter(sorted(by_type)))
    hits = client.get("/api/search", params={"q": "政务服务", "type": some_type, "k": 50}).json()["hits"]
    assert hits and all(h["doc_type"] == some_type for h in hits)
    hits = client.get("/api/search", params={"q": "政务服务", "year_from": 2020, "year_to": 2021}).json()["hits"]
    assert all(2020 <= int(h["date"][:4]) <= 2021 for h in hits)
    for mode in ("dense", "lexical"):
        hits = client.get("/api/search", params={"q": "营商环境", "mode": mode, "k": 3}).json()["hits"]
        assert 1 <= len(hits) <= 3


@pytest.mark.parametrize("params, field", [
    ({}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "a" * 10_000}, "q"),  # a 10k-character query
    ({"q": "法治", "k": 0}, "k"),
    ({"q": "法治", "k": 51}, "k"),
    ({"q": "法治", "mode": "fuzzy"}, "mode"),
    ({"q": "法治", "year_from": "abc"}, "year_from"),
    ({"q": "法治", "year_from": 2022, "year_to": 2020}, "year_from"),
])
def test_search_validation_is_422_naming_the_field(client, params, field):
    assert_error(client.get("/api/search", params=params), 422, "invalid_input", field)


def test_ask(client):
    out = client.post("/api/ask", json={"question": "重大行政决策需经哪些程序", "k": 5}).json()
    assert set(out) >= {"answer", "found", "citations", "mode"} and out["mode"] == "extractive"
    assert out["found"] == bool(out["citations"])
    assert_error(client.post("/api/ask", json={"question": " "}), 422, "invalid_input", "question")
    assert_error(client.post("/api/ask", json={"question": "法治", "k": 99}), 422, "invalid_input", "k")
    assert_error(client.post("/api/ask", content=b"{not json", headers={"Content-Type": "application/json"}),
                 400, "bad_request")


def test_compare(client):
    out = client.get("/api/compare", params={"q": "优化营商环境条例 政务服务", "by": "province"}).json()
    assert set(out) == {"groups", "missing"} and out["groups"]
    keys = [g["key"] for g in out["groups"]]
    assert len(keys) == len(set(keys)) and not set(keys) & set(out["missing"])
    assert_error(client.get("/api/compare", params={"q": "政务服务", "by": "city"}), 422, "invalid_input", "by")
    assert_error(client.get("/api/compare", params={"by": "region"}), 422, "invalid_input", "q")


def test_documents_paging_and_detail(client, fake_kb):
    total = fake_kb.stats()["documents"]
    page1 = client.get("/api/documents", params={"limit": 2}).json()
    page2 = client.get("/api/documents", params={"limit": 2, "offset": 2}).json()
    assert page1["total"] == total and len(page1["items"]) == min(2, total)
    assert not {r["doc_id"] for r in page1["items"]} & {r["doc_id"] for r in page2["items"]}
    assert_error(client.get("/api/documents", params={"limit": 201}), 422, "invalid_input", "limit")
    assert_error(client.get("/api/documents", params={"offset": -1}), 422, "invalid_input", "offset")
    row = page1["items"][0]
    doc = client.get(f"/api/documents/{row['doc_id']}").json()
    assert doc["doc_id"] == row["doc_id"] and len(doc["text"]) == row["chars"] and len(doc["chunks"]) == row["chunks"]
    assert client.get(f"/api/documents/{row['path']}").json()["doc_id"] == row["doc_id"]  # by path too
    assert_error(client.get("/api/documents/no-such-doc"), 404, "not_found", "no-such-doc")


def test_unknown_route_and_method(client):
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.put("/api/search"), 405, "method_not_allowed")


# ---- export ------------------------------------------------------------------------------------
def export_items(hits):
    return [{"doc_id": h["doc_id"], "start": h["start"], "end": h["end"]} for h in hits[:2]]


def test_export_docx_and_md(client, fake_kb, first_hits):
    from docx import Document

    passages = [fake_kb.passage(h["doc_id"], h["start"], h["end"]) for h in first_hits[:2]]
    resp = client.post("/api/export", json={"items": export_items(first_hits), "format": "docx"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    assert resp.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in resp.headers["content-disposition"]
    text = "\n".join(p.text for p in Document(io.BytesIO(resp.content)).paragraphs)
    md = client.post("/api/export", json={"items": export_items(first_hits), "format": "md"})
    assert md.headers["content-type"].startswith("text/markdown")
    for p, h in zip(passages, first_hits, strict=False):
        assert p["text"] == h["text"]
        assert h["text"].strip() in text and p["citation"] in text
        assert p["citation"] in md.text
        assert all(f"> {line}".rstrip() in md.text for line in h["text"].strip().splitlines())


@pytest.mark.parametrize("item, status, code", [
    ({"doc_id": "no-such-doc", "start": 0, "end": 5}, 404, "not_found"),
    ({"start": 0, "end": 5}, 422, "invalid_input"),
    ({"doc_id": "X", "start": 5, "end": 5}, 422, "invalid_input"),
    ({"doc_id": "X", "start": -1, "end": 5}, 422, "invalid_input"),
    ({"doc_id": "X", "start": 0, "end": 10**9}, 422, "invalid_input"),
])
def test_export_validates_spans(client, first_hits, item, status, code):
    if item.get("doc_id") == "X":
        item = {**item, "doc_id": first_hits[0]["doc_id"]}
    assert_error(client.post("/api/export", json={"items": [item]}), status, code)


def test_export_bad_format_and_empty(client, first_hits):
    assert_error(client.post("/api/export", json={"items": export_items(first_hits), "format": "pdf"}),
                 422, "invalid_input", "format")
    assert_error(client.post("/api/export", json={"items": []}), 422, "invalid_input", "items")


def test_export_refuses_a_changed_quotation(client, first_hits):
    h = first_hits[0]
    item = {"doc_id": h["doc_id"], "start": h["start"], "end": h["end"], "text": h["text"]}
    assert client.post("/api/export", json={"items": [item], "format": "md"}).status_code == 200
    changed = {**item, "text": "＊" + h["text"][1:]}
    assert_error(client.post("/api/export", json={"items": [item, changed]}), 409, "quote_changed", "items[1].text")


def test_passage_is_cited_narrowly(client, fake_kb):
    doc = fake_kb.document("laws/全国/行政法规/重大行政决策程序暂行条例(2019-04-20).md")
    start = doc.text.index("不得以征求意见等方式代替合法性审查。")
    body = client.get("/api/passage", params={"doc_id": doc.doc_id, "start": start, "end": start + 5}).json()
    assert body["text"] == doc.text[start:start + 5] and body["citation"] == "《重大行政决策程序暂行条例》第二十五条"
    assert_error(client.get("/api/passage", params={"doc_id": doc.doc_id, "start": 5, "end": 5}), 422,
                 "invalid_input", "end")
    assert_error(client.get("/api/passage", params={"doc_id": "nope", "start": 0, "end": 5}), 404, "not_found")


# ---- comparison matrix -------------------------------------------------------------------------
def test_compare_matrix(client, fake_kb):
    params = {"q": "重大行政决策", "aspects": "公众参与,专家论证", "places": "全国,火星"}
    body = client.get("/api/compare/matrix", params=params).json()
    assert body == fake_kb.matrix("重大行政决策", aspects="公众参与,专家论证", places="全国,火星")
    assert body["columns"] == ["全国", "火星"] and len(body["cells"]) == 4
    assert [c["hit"] is None for c in body["cells"]] == [False, True, False, True]
    proposed = client.get("/api/compare/matrix", params={"q": "重大行政决策", "places": "全国"}).json()
    assert proposed["proposed"] and "公众参与" in proposed["aspects"]
    assert_error(client.get("/api/compare/matrix", params={**params, "by": "planet"}), 422, "invalid_input", "by")
    assert_error(client.get("/api/compare/matrix", params={**params, "by": "year"}), 422, "invalid_input", "places")


@pytest.mark.parametrize("fmt, media", [("docx", "application/vnd.openxmlformats"), ("md", "text/markdown"),
                                        ("csv", "text/csv")])
def test_compare_matrix_export(client, fmt, media):
    params = {"q": "重大行政决策", "aspects": "公众参与,专家论证", "places": "全国,火星", "format": fmt}
    resp = client.get("/api/compare/matrix/export", params=params)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith(media)
    assert f"filename=\"matrix.{fmt}\"" in resp.headers["content-disposition"]
    assert "filename*=UTF-8''" in resp.headers["content-disposition"]
    if fmt != "docx":
        assert "未见相关规定" in resp.content.decode("utf-8-sig")


# ---- writes & auth -----------------------------------------------------------------------------
def upload(client, files, headers=WRITE):
    return client.post("/api/documents", files=[("files", f) for f in files], headers=headers)


def test_writes_refused_without_configured_key(client):
    body = assert_error(upload(client, [("a.txt", DOC_TXT)], headers={}), 403, "forbidden", "KB_API_KEY")
    assert "disabled" in body["detail"]
    assert_error(client.delete("/api/documents/whatever", headers={"Authorization": "Bearer x"}), 403, "forbidden")


def test_upload_search_delete_with_key(fresh):
    client, kb = fresh
    assert_error(upload(client, [("a.txt", DOC_TXT)], headers={}), 401, "unauthorized")
    assert_error(upload(client, [("a.txt", DOC_TXT)], headers={"Authorization": "Bearer wrong"}), 401,
                 "unauthorized")
    resp = upload(client, [("../../etc/办法.txt", DOC_TXT)])
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"ingested": ["uploads/办法.txt"], "unchanged": [], "failed": [], "skipped": [],
                           "warnings": []}
    assert upload(client, [("办法.txt", DOC_TXT)]).json()["unchanged"] == ["uploads/办法.txt"]
    hits = client.get("/api/search", params={"q": "合法性审核"}).json()["hits"]
    assert hits and hits[0]["path"] == "uploads/办法.txt"
    doc_id = hits[0]["doc_id"]
    assert_error(client.delete(f"/api/documents/{doc_id}"), 401, "unauthorized")
    assert client.delete(f"/api/documents/{doc_id}", headers=WRITE).json() == {"deleted": True, "doc_id": doc_id}
    assert_error(client.get(f"/api/documents/{doc_id}"), 404, "not_found")
    assert_error(client.delete(f"/api/documents/{doc_id}", headers=WRITE), 404, "not_found")


def test_upload_limits(fresh):
    client, _ = fresh
    assert_error(upload(client, [("big.txt", DOC_TXT * 100)]), 413, "too_large", "big.txt")
    assert_error(upload(client, [("../../etc/passwd", b"root:x:0:0")]), 415, "unsupported_type", "passwd")
    assert_error(upload(client, [("tool.exe", b"MZ")]), 415, "unsupported_type", "tool.exe")
    # one bad file refuses the whole request: nothing was ingested
    assert_error(upload(client, [("ok.txt", DOC_TXT), ("x.zip", b"PK")]), 415, "unsupported_type", "x.zip")
    assert client.get("/api/documents").json()["total"] == 0
    assert_error(client.post("/api/documents", headers=WRITE), 422, "invalid_input", "files")


def test_unreadable_upload_is_reported_per_file(fresh):
    client, _ = fresh
    out = upload(client, [("broken.pdf", b"%PDF-1.4 not really"), ("ok.md", DOC_TXT)]).json()
    assert out["ingested"] == ["uploads/ok.md"]
    assert [f["path"] for f in out["failed"]] == ["uploads/broken.pdf"] and out["failed"][0]["reason"]


@pytest.mark.parametrize("raw, safe", [
    ("../../etc/passwd", "passwd"), ("/abs/path/规定.pdf", "规定.pdf"), ("C:\\Users\\x\\报告.docx", "报告.docx"),
    ("..\\..\\a.txt", "a.txt"), (".hidden.md", "hidden.md"), ("a\x00b.txt", "ab.txt"),
])
def test_safe_upload_name(raw, safe):
    assert safe_upload_name(raw) == safe


@pytest.mark.parametrize("raw", ["", "../", "..", "dir/", None])
def test_safe_upload_name_refuses_empty(raw):
    from kb.errors import InvalidInput

    with pytest.raises(InvalidInput):
        safe_upload_name(raw)


def test_read_key(fake_kb):
    client = TestClient(create_app(kb=fake_kb, settings=Settings(read_key="read-secret", api_key="write-secret")))
    assert_error(client.get("/api/search", params={"q": "法治"}), 401, "unauthorized", "KB_READ_KEY")
    assert_error(client.get("/api/stats", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    for key in ("read-secret", "write-secret"):
        assert client.get("/api/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/healthz").status_code == 200  # liveness stays open
    # the read key does not open writes
    assert_error(upload(client, [("a.txt", DOC_TXT)], headers={"Authorization": "Bearer read-secret"}), 401,
                 "unauthorized")


def test_unexpected_errors_are_500_json_without_trace(fake_kb):
    class Broken:
        settings = Settings()

        def search(self, *a, **kw):
            raise RuntimeError("secret internals /etc/shadow")

    client = TestClient(create_app(kb=Broken()), raise_server_exceptions=False)
    body = assert_error(client.get("/api/search", params={"q": "法治"}), 500, "internal_error")
    assert "shadow" not in body["detail"]


# ---- the app itself ----------------------------------------------------------------------------
def test_openapi_describes_every_route_and_field(client):
    spec = client.get("/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert routes >= {("GET", "/healthz"), ("GET", "/api/search"), ("POST", "/api/ask"), ("GET", "/api/compare"),
                      ("GET", "/api/documents"), ("POST", "/api/documents"), ("GET", "/api/documents/{doc_id}"),
                      ("DELETE", "/api/documents/{doc_id}"), ("GET", "/api/stats"), ("POST", "/api/export"),
                      ("GET", "/api/compare/matrix"), ("GET", "/api/compare/matrix/export"), ("GET", "/api/passage")}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert "200" in op["responses"], (method, path)
            for p in op.get("parameters", []):
                assert p.get("description"), (method, path, p["name"])
    for name, schema in spec["components"]["schemas"].items():
        for prop, info in schema.get("properties", {}).items():
            assert info.get("description"), f"{name}.{prop} has no description"


def test_handlers_run_in_the_threadpool(client):
    for route in client.app.routes:
        if getattr(route, "path", "").startswith("/api/"):
            assert not inspect.iscoroutinefunction(route.endpoint), route.path


def test_web_page_is_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "法治文库" in page.text
    scripts = re.findall(r'<script src="(/static/[^"]+)"', page.text)
    assert scripts == ["/static/app.js", "/static/results.js", "/static/answers.js", "/static/basket.js"]
    for asset in (*scripts, "/static/style.css"):
        assert client.get(asset).status_code == 200
    assert "http" not in page.text.replace("http-equiv", "")  # nothing fetched from outside the intranet


def test_uploads_accept_every_ingest_format_and_the_page_lists_them(fresh):
    import re

    from ofd_writer import line, make_ofd

    from ingest import SUPPORTED_SUFFIXES

    client, kb = fresh
    ofd = make_ofd([[line(30, 40, "某某区关于推进严格规范公正文明执法的通知"), line(30, 55, "一、全面推行执法公示制度"),
                     line(30, 65, "行政执法机关应当主动公开执法信息。")]])
    resp = upload(client, [("执法通知.ofd", ofd), ("坏.doc", "不是Word文件".encode())])
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["ingested"] == ["uploads/执法通知.ofd"]
    assert out["failed"] == [{"path": "uploads/坏.doc", "reason": "not a Word 97–2003 .doc file (no OLE2 or RTF header)"}]
    doc = client.get("/api/documents/uploads/执法通知.ofd").json()
    assert doc["report"]["pages"] == 1 and doc["report"]["pages_ocr"] == [] and doc["chunks"][0]["page"] == 1
    page = client.get("/").text
    accept = re.search(r'id="upload-files"[^>]*accept="([^"]+)"', page, re.S)
    assert accept and set(accept.group(1).split(",")) == set(SUPPORTED_SUFFIXES)
