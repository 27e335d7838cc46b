"""The `kb` CLI contract: JSON field names other tools parse, exit codes, stdin batch search."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HIT_FIELDS
from typer.testing import CliRunner

from kb.cli import app

DOC_FIELDS = {"doc_id", "path", "title", "doc_type", "region", "date", "issuer", "doc_number", "chars", "chunks",
              "level", "organ", "promulgated", "effective", "status", "status_label", "superseded_by",
              "repealed_by", "repealed_on", "version"}
VALIDITY_FIELDS = {"level", "organ", "promulgated", "effective", "expires", "history", "version_key", "version",
                   "status", "status_label", "superseded_by", "repealed_by", "repealed_on", "versions"}


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
                        "sections", "chunks", "report"} | VALIDITY_FIELDS
    assert doc["report"] == {"pages": None, "pages_ocr": [], "pages_failed": [], "chars": len(doc["text"]),
                             "warnings": [], "ocr_confidence": None}
    assert all(set(s) == {"path", "start", "end"} for s in doc["sections"])
    assert all(set(c) == {"chunk_id", "section", "start", "end", "page"} for c in doc["chunks"])
    by_path = json.loads(run("doc", "004_6277130b06efc827.txt", "--json", "--index", str(index)).output)
    assert by_path["doc_id"] == report["doc_id"]


def test_search_json_contract(index):
    res = run("search", "重大行政决策", "--json", "-k", "4", "--index", str(index))
    out = json.loads(res.output)
    assert set(out) == {"query_plan", "hits"}
    hits = out["hits"]
    assert 0 < len(hits) <= 4
    for h in hits:
        assert set(h) == HIT_FIELDS
    docs = {d["doc_id"]: d for d in (json.loads(run("doc", h["doc_id"], "--json", "--index", str(index)).output)
                                     for h in hits)}
    assert all(docs[h["doc_id"]]["text"][h["start"]:h["end"]] == h["text"] for h in hits)
    typed = json.loads(run("search", "法治", "--json", "--type", "news", "--index", str(index)).output)["hits"]
    assert typed and all(h["doc_type"] == "news" for h in typed)


def test_search_stdin_batch(index):
    res = run("search", "-", "--json", "--index", str(index), input="重大行政决策\n法治政府建设\n")
    lines = res.output.strip().splitlines()
    assert len(lines) == 2 and all(isinstance(json.loads(line)["hits"], list) for line in lines)


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


# ---- the ingest report and folder sync ----------------------------------------------------------
def test_ingest_report_file_has_one_entry_per_file(tmp_path, small_corpus, monkeypatch):
    from ingest import ocr

    (small_corpus / "坏.pdf").write_bytes(b"%PDF-1.4 truncated")
    (small_corpus / "表.xls").write_bytes(b"x")
    pdf = _scanned_pdf_with_a_text_page()
    (small_corpus / "扫描件.pdf").write_bytes(pdf)
    # the OCR path is mocked: what is tested here is the report, not Tesseract (tests/test_ingest_ocr.py)
    monkeypatch.setattr(ocr, "missing", lambda: None)
    monkeypatch.setattr(ocr, "_ocr_page", lambda page: ("第二页的扫描文字，经过文字识别。\n", [80.0, 90.0]))
    report = tmp_path / "report.json"
    res = run("ingest", str(small_corpus), "--index", str(tmp_path / "idx"), "--embedder", "fake",
              "--report", str(report))
    assert res.exit_code == 2, res.output
    assert res.output.startswith("ingested 4, unchanged 0, failed 1, skipped 1, 1 file with OCR'd pages, "
                                 "1 file with warnings  → ")
    assert "  warning 扫描件.pdf: OCR'd page 2 (mean confidence 85.0)" in res.output
    files = {e["path"]: e for e in json.loads(report.read_text(encoding="utf-8"))["files"]}
    assert set(files) == {"坏.pdf", "表.xls", "扫描件.pdf", "002_5300b03fe4b43074.txt", "004_6277130b06efc827.txt",
                          "000_b28d6b4caa93905a.txt"}
    assert files["坏.pdf"]["status"] == "failed" and files["坏.pdf"]["reason"].startswith("PDF is truncated")
    assert files["表.xls"]["status"] == "skipped"
    scan = files["扫描件.pdf"]
    assert scan["status"] == "warning" and scan["reason"] == "OCR'd page 2 (mean confidence 85.0)"
    assert scan["report"]["pages"] == 2 and scan["report"]["pages_ocr"] == [2] and scan["report"]["ocr_confidence"] == 85.0
    assert files["004_6277130b06efc827.txt"]["status"] == "ingested"
    stored = json.loads(run("doc", "扫描件.pdf", "--json", "--index", str(tmp_path / "idx")).output)
    assert stored["report"] == scan["report"]
    assert stored["text"].rstrip().endswith("第二页的扫描文字，经过文字识别。")


def _scanned_pdf_with_a_text_page() -> bytes:
    import io

    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    text = Path(__file__).resolve().parent.parent / "corpus" / "laws" / "pdf" / "全国_2018_中华人民共和国宪法.pdf"
    buf = io.BytesIO()
    img = Image.new("L", (300, 400), 255)
    img.paste(0, (30, 30, 200, 60))
    img.save(buf, format="PDF", resolution=50)
    writer = PdfWriter()
    writer.add_page(PdfReader(text).pages[0])
    writer.add_page(PdfReader(io.BytesIO(buf.getvalue())).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_sync_mirrors_a_folder(tmp_path, small_corpus):
    idx = str(tmp_path / "idx")
    sub = small_corpus / "通知"
    sub.mkdir()
    (sub / "新文件.md").write_text("# 关于做好普法工作的通知\n\n各单位要做好普法工作，落实谁执法谁普法责任制。\n", encoding="utf-8")
    res = run("ingest", str(small_corpus), "--index", idx, "--embedder", "fake", "--sync")
    assert res.exit_code == 0 and res.output.startswith("ingested 4, unchanged 0, failed 0  → "), res.output
    # change one, delete one, add one
    (sub / "新文件.md").write_text("# 关于做好普法工作的通知\n\n各单位要做好普法工作，压实普法责任。\n", encoding="utf-8")
    (small_corpus / "000_b28d6b4caa93905a.txt").unlink()
    (small_corpus / "另一个.txt").write_text("某某县司法局关于开展法律援助工作的报告。全年办理法律援助案件一百件。", encoding="utf-8")
    res = run("ingest", str(small_corpus), "--index", idx, "--sync")
    assert res.exit_code == 0, res.output
    assert res.output.startswith("ingested 2, unchanged 2, failed 0, removed 1  → "), res.output
    assert "  removed 000_b28d6b4caa93905a.txt: its file is gone" in res.output
    paths = sorted(r["path"] for r in json.loads(run("docs", "--json", "--index", idx).output))
    assert paths == ["002_5300b03fe4b43074.txt", "004_6277130b06efc827.txt", "另一个.txt", "通知/新文件.md"]
    assert "压实普法责任" in json.loads(run("doc", "通知/新文件.md", "--json", "--index", idx).output)["text"]
    # re-sync with nothing changed: nothing happens; without --sync nothing is ever removed
    res = run("ingest", str(small_corpus), "--index", idx, "--sync")
    assert res.output.startswith("ingested 0, unchanged 4, failed 0  → "), res.output
    (small_corpus / "另一个.txt").unlink()
    assert "removed" not in run("ingest", str(small_corpus), "--index", idx).output
    assert len(json.loads(run("docs", "--json", "--index", idx).output)) == 4
    assert json.loads(run("check", "--json", "--index", idx).output)["ok"]


def test_sync_of_a_subfolder_under_root_and_an_empty_folder(tmp_path, small_corpus):
    idx = str(tmp_path / "idx")
    sub = small_corpus / "sub"
    sub.mkdir()
    (sub / "a.txt").write_text("某某县人民政府关于加强行政执法监督的意见。全面推行行政执法三项制度。", encoding="utf-8")
    assert run("ingest", str(small_corpus), "--index", idx, "--embedder", "fake", "--root", str(small_corpus)).exit_code == 0
    (sub / "a.txt").unlink()
    # the folder is now empty: as an unmounted share would be, so nothing is removed and the run fails
    res = run("ingest", str(sub), "--index", idx, "--root", str(small_corpus), "--sync")
    assert res.exit_code == 2 and "--sync refused: the folder is empty, and syncing would remove 1 documents" in res.output
    (sub / "b.txt").write_text("某某县司法局关于规范行政复议工作的通知。依法受理行政复议申请。", encoding="utf-8")
    res = run("ingest", str(sub), "--index", idx, "--root", str(small_corpus), "--sync")
    assert res.exit_code == 0 and "removed sub/a.txt" in res.output, res.output
    paths = sorted(r["path"] for r in json.loads(run("docs", "--json", "--index", idx).output))
    assert paths == ["000_b28d6b4caa93905a.txt", "002_5300b03fe4b43074.txt", "004_6277130b06efc827.txt", "sub/b.txt"]
    res = run("ingest", str(small_corpus / "004_6277130b06efc827.txt"), "--index", idx, "--sync")
    assert res.exit_code == 1 and "--sync mirrors folders: give at least one folder" in str(res.exception)
