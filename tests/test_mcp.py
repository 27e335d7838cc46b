"""`kb mcp` and `kb serve --mcp` through the official MCP SDK's own client, as an assistant
reaches them: the installed `kb` script spawned over stdio (and over streamable HTTP), each
tool's result checked against the documents, errors returned as tool errors by a server that
keeps answering."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

DATA = Path(__file__).parent / "data" / "robust"
KB = str(Path(sys.executable).parent / "kb")
TOOLS = {"search", "get_passage", "get_document", "ask", "compare"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    from kb.core import KnowledgeBase

    directory = tmp_path_factory.mktemp("mcp") / "index"
    kb = KnowledgeBase(directory, embedder="fake")
    assert not kb.ingest([DATA / "a", DATA / "b"]).failed
    kb.close()
    return directory


def over_stdio(index: Path, session) -> object:
    """Spawn `kb mcp --index INDEX`, run ``session(client)`` against it, return what it returns."""
    params = StdioServerParameters(command=KB, args=["mcp", "--index", str(index)])

    async def main():
        with anyio.fail_after(120):
            async with Client(params) as client:
                return await session(client)
    return anyio.run(main)


async def call(client, tool: str, **args) -> dict:
    res = await client.call_tool(tool, args)
    assert not res.is_error, res.content
    assert res.content[0].text.startswith("{") and CJK.search(res.content[0].text)  # JSON, Chinese unescaped
    return res.structured_content


def test_tools_are_listed_read_only_with_chinese_and_english_descriptions(index):
    async def session(client):
        return (await client.list_tools()).tools

    tools = over_stdio(index, session)
    assert {t.name for t in tools} == TOOLS
    for t in tools:
        chinese, english = t.description.split("\n")  # one paragraph each
        assert CJK.search(chinese) and re.match(r"[A-Z][a-z]* [a-z]+", english), t.name
        assert t.annotations.read_only_hint and not t.annotations.destructive_hint, t.name
        for name, prop in t.input_schema["properties"].items():
            assert prop.get("description"), (t.name, name)


def test_search_passage_and_document_trace_to_the_exact_source(index):
    async def session(client):
        hits = (await call(client, "search", query="人民调解委员会 调解民间纠纷", k=3))["hits"]
        passages = [await call(client, "get_passage", doc_id=h["doc_id"], start=h["start"], end=h["end"])
                    for h in hits]
        doc = await call(client, "get_document", doc_id=hits[0]["doc_id"])
        full = await call(client, "get_document", doc_id=hits[0]["path"], include_text=True)
        filtered = await call(client, "search", query="河南 人民代表大会", region="河南", k=5)
        return hits, passages, doc, full, filtered

    hits, passages, doc, full, filtered = over_stdio(index, session)
    assert filtered["query_plan"]["places"] == ["河南省"]  # how the query was read comes with the hits
    filtered = filtered["hits"]
    assert 1 <= len(hits) <= 3 and hits[0]["title"] == "人民调解委员会组织条例"
    for h, p in zip(hits, passages, strict=True):
        assert p["text"] == h["text"] and (p["doc_id"], p["start"], p["end"]) == (h["doc_id"], h["start"], h["end"])
        assert p["citation"].startswith(f"《{h['title']}》") and h["citation"].startswith(f"《{h['title']}》")
    assert p["citation"]
    # get_document: metadata and the section tree, the text only when asked
    assert "text" not in doc and doc["title"] == "人民调解委员会组织条例" and doc["doc_type"] == "regulation"
    assert doc["chars"] == len(full["text"]) and doc["passages"] >= 1
    headings = [n["heading"] for n in doc["outline"]]
    assert "第一条" in headings and all(n["start"] < n["end"] <= doc["chars"] for n in doc["outline"])
    assert full["text"][hits[0]["start"]:hits[0]["end"]] == hits[0]["text"]
    assert filtered and all("河南" in h["region"] for h in filtered)


def test_ask_and_compare_cite_their_passages(index):
    async def session(client):
        answer = await call(client, "ask", question="人民调解委员会由哪些人组成")
        compared = await call(client, "compare", query="人民代表大会 监督", by="region")
        return answer, compared

    answer, compared = over_stdio(index, session)
    assert answer["found"] and answer["citations"] and "[1]" in answer["answer"]
    assert all(c["citation"] and c["text"] for c in answer["citations"])
    keys = [g["key"] for g in compared["groups"]]
    assert keys and len(keys) == len(set(keys))
    assert all(h["citation"] for g in compared["groups"] for h in g["hits"])


def test_bad_calls_are_tool_errors_and_the_server_keeps_answering(index):
    async def session(client):
        hit = (await call(client, "search", query="人民调解", k=1))["hits"][0]
        errors = {}
        for name, tool, args in [
            ("unknown doc", "get_passage", {"doc_id": "no-such-doc", "start": 0, "end": 5}),
            ("reversed span", "get_passage", {"doc_id": hit["doc_id"], "start": 9, "end": 3}),
            ("span past the end", "get_passage", {"doc_id": hit["doc_id"], "start": 0, "end": 10**9}),
            ("unknown document", "get_document", {"doc_id": "no-such-doc"}),
            ("k out of range", "search", {"query": "调解", "k": 0}),
            ("years reversed", "compare", {"query": "调解", "year_from": 2020, "year_to": 2010}),
            ("no question", "ask", {"question": ""}),
        ]:
            res = await client.call_tool(tool, args)
            errors[name] = (res.is_error, res.content[0].text)
        still = await call(client, "get_passage", doc_id=hit["doc_id"], start=hit["start"], end=hit["end"])
        return errors, still, hit

    errors, still, hit = over_stdio(index, session)
    assert [name for name, (is_error, _) in errors.items() if not is_error] == []
    assert "no document 'no-such-doc'" in errors["unknown doc"][1]
    assert "no document 'no-such-doc'" in errors["unknown document"][1]
    assert "span [9, 3)" in errors["reversed span"][1] and "outside document" in errors["span past the end"][1]
    assert "year_from (2020) is after year_to (2010)" in errors["years reversed"][1]
    assert "k" in errors["k out of range"][1] and "question" in errors["no question"][1]
    assert still["text"] == hit["text"]


def test_kb_mcp_without_an_index_exits_1_naming_it(tmp_path):
    out = subprocess.run([KB, "mcp", "--index", str(tmp_path / "missing")], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60)
    assert out.returncode == 1 and "no index at" in out.stderr and "missing" in out.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("read_key", ["", "mcp-read-key"], ids=["open", "read key"])
def test_kb_serve_mcp_over_streamable_http(index, read_key):
    port = _free_port()
    env = {**os.environ, "KB_READ_KEY": read_key}
    server = subprocess.Popen([KB, "serve", "--mcp", "--index", str(index), "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read()
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "kb serve did not start"
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {read_key}"} if read_key else {}
        if read_key:
            refused = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=10)
            assert refused.status_code == 401 and "KB_READ_KEY" in refused.json()["detail"]

        async def main():
            with anyio.fail_after(60):
                # the SDK's own HTTP client (httpx2) carries the key, as an assistant configured with it would
                async with httpx2.AsyncClient(headers=headers) as http, \
                        Client(streamable_http_client(url, http_client=http)) as client:
                    return await call(client, "search", query="人民调解", k=2)
        hits = anyio.run(main)["hits"]
        assert hits and all(h["citation"] and h["doc_id"] for h in hits)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_outline_nests_sections_by_heading_path():
    from kb.mcp_server import outline

    sections = [{"path": ["第一章 总则"], "start": 0, "end": 50}, {"path": ["第一章 总则", "第一条"], "start": 8, "end": 30},
                {"path": ["第一章 总则", "第二条"], "start": 30, "end": 50},
                {"path": ["第二章 备案", "第一节 程序", "第三条"], "start": 50, "end": 80},  # its parents are absent
                {"path": ["第三章 附则"], "start": 80, "end": 99}, {"path": ["第三章 附则", "第四条"], "start": 86, "end": 99}]
    tree = outline(sections)
    assert [(n["heading"], [c["heading"] for c in n["children"]]) for n in tree] == [
        ("第一章 总则", ["第一条", "第二条"]), ("第三条", []), ("第三章 附则", ["第四条"])]
    assert tree[0]["children"][1] == {"heading": "第二条", "start": 30, "end": 50, "children": []}
