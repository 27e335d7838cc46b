"""The `kb` CLI contract: JSON field names other tools parse, exit codes, stdin batch search."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kb.cli import app

DOC_FIELDS = {"doc_id", "path", "title", "doc_type", "region", "date", "issuer", "doc_number", "chars", "chunks"}
HIT_FIELDS = {"doc_id", "path", "title", "doc_type", "region", "date", "section", "text", "start", "end", "page",
              "score", "citation", "highlights", "also_in"}


@pytest.fixture
def index(tmp_path, small_corpus):
    idx = tmp_path / "idx"
    res = CliRunner().invoke(app, ["ingest", str(small_corpus), "--index", str(idx), "--embedder", "fake"])
    assert res.exit_code == 0, res.output
    assert "ingested 3" in res.output
    return idx


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def test_docs_and_doc_json(index):
    rows = json.loads(run("docs", "--json", "--index", str(index)).output)
    assert len(rows) == 3 and all(set(r) == DOC_FIELDS for r in rows)
    report = next(r for r in rows if r["path"] == "004_6277130b06efc827.txt")
    assert report["doc_type"] == "report" and report["issuer"] == "清泉乡人民政府"
    doc = json.loads(run("doc", report["doc_id"], "--json", "--index", str(index)).output)
    assert set(doc) == {"doc_id", "path", "title", "doc_type", "region", "date", "issuer", "doc_number", "text",
                        "sections", "chunks"}
    assert all(set(s) == {"path", "start", "end"} for s in doc["sections"])
    assert all(set(c) == {"chunk_id", "section", "start", "end", "page"} for c in doc["chunks"])
    by_path = json.loads(run("doc", "004_6277130b06efc827.txt", "--json", "--index", str(index)).output)
    assert by_path["doc_id"] == report["doc_id"]


def test_search_json_contract(index):
    res = run("search", "重大行政决策", "--json", "-k", "4", "--index", str(index))
    hits = json.loads(res.output)
    assert 0 < len(hits) <= 4
    for h in hits:
        assert set(h) == HIT_FIELDS
    docs = {d["doc_id"]: d for d in (json.loads(run("doc", h["doc_id"], "--json", "--index", str(index)).output)
                                     for h in hits)}
    assert all(docs[h["doc_id"]]["text"][h["start"]:h["end"]] == h["text"] for h in hits)
    typed = json.loads(run("search", "法治", "--json", "--type", "news", "--index", str(index)).output)
    assert typed and all(h["doc_type"] == "news" for h in typed)


def test_search_stdin_batch(index):
    res = run("search", "-", "--json", "--index", str(index), input="重大行政决策\n法治政府建设\n")
    lines = res.output.strip().splitlines()
    assert len(lines) == 2 and all(isinstance(json.loads(line), list) for line in lines)


def test_readable_search_output(index):
    res = run("search", "清泉乡", "--index", str(index))
    assert res.exit_code == 0 and "[1] 《" in res.output


def test_exit_code_2_when_a_file_fails(tmp_path, small_corpus, index):
    (small_corpus / "empty.txt").write_bytes(b"")
    res = run("ingest", str(small_corpus), "--index", str(index))
    assert res.exit_code == 2
    assert "FAILED  empty.txt" in res.output and "unchanged 3" in res.output


def test_remove_and_check(index):
    assert run("remove", "004_6277130b06efc827.txt", "--index", str(index)).exit_code == 0
    res = json.loads(run("check", "--json", "--index", str(index)).output)
    assert res["ok"] and res["documents"] == 2


def test_errors_are_one_line_not_tracebacks(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "search", "x", "--index", str(tmp_path / "none")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: no index at") and "Traceback" not in proc.stderr


# ---- exit codes through the installed console script ------------------------------------------
KB_SCRIPT = Path(sys.executable).with_name("kb")


def kb_script(*args: str) -> subprocess.CompletedProcess:
    assert KB_SCRIPT.exists(), f"the kb console script is not installed beside {sys.executable}"
    return subprocess.run([str(KB_SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_script_ingest_with_a_bad_file_exits_2(tmp_path, small_corpus):
    (small_corpus / "坏.pdf").write_bytes(b"%PDF-1.4 truncated")
    proc = kb_script("ingest", str(small_corpus), "--index", str(tmp_path / "idx"), "--embedder", "fake")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "ingested 3" in proc.stdout and "FAILED  坏.pdf: PDF is truncated or damaged" in proc.stdout
    again = kb_script("ingest", str(small_corpus / "004_6277130b06efc827.txt"), "--index", str(tmp_path / "idx"))
    assert again.returncode == 0, again.stdout + again.stderr


def test_script_check_on_a_damaged_index_exits_1(tmp_path, small_corpus):
    idx = tmp_path / "idx"
    assert kb_script("ingest", str(small_corpus), "--index", str(idx), "--embedder", "fake").returncode == 0
    assert kb_script("check", "--index", str(idx)).returncode == 0
    con = sqlite3.connect(idx / "store.sqlite")
    with con:  # a chunk's text no longer matches its document's span
        con.execute("UPDATE chunks SET text = text || '篡改' WHERE chunk_id = (SELECT MIN(chunk_id) FROM chunks)")
    con.close()
    proc = kb_script("check", "--index", str(idx))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PROBLEMS") and "differs from document text" in proc.stdout


@pytest.mark.parametrize("args", [["ingest", "--no-such-option"], ["search"], ["frobnicate"], []])
def test_script_usage_errors_exit_2(args):
    proc = kb_script(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Usage:" in proc.stdout + proc.stderr and "Traceback" not in proc.stderr


def test_script_missing_index_exits_1(tmp_path):
    for args in (["search", "行政执法"], ["check"], ["doc", "x"]):
        proc = kb_script(*args, "--index", str(tmp_path / "none"))
        assert proc.returncode == 1, (args, proc.stdout + proc.stderr)
        assert proc.stderr.startswith("error: no index at") and "Traceback" not in proc.stderr
