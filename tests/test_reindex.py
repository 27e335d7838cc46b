"""`kb reindex --embedder NAME` through the installed script, with the fake embedders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

KB_SCRIPT = Path(sys.executable).with_name("kb")


def kb(*args: str) -> subprocess.CompletedProcess:
    assert KB_SCRIPT.exists(), f"the kb console script is not installed beside {sys.executable}"
    return subprocess.run([str(KB_SCRIPT), *args], capture_output=True, text=True, timeout=300)


def manifest(idx: Path) -> dict:
    return json.loads((idx / "manifest.json").read_text(encoding="utf-8"))


def test_reindex_switches_the_embedder_and_reuses_the_cache(tmp_path, small_corpus):
    idx = str(tmp_path / "idx")
    assert kb("ingest", str(small_corpus), "--index", idx, "--embedder", "fake").returncode == 0
    before = json.loads(kb("search", "行政复议", "--index", idx, "--json", "--mode", "lexical").stdout)

    proc = kb("reindex", "--embedder", "fake:32", "--index", idx, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["embedder"] == "fake:32" and out["previous"] == "fake"
    assert out["chunks"] > 0 and out["embedded"] == out["chunks"]
    assert manifest(Path(idx))["embedder"] == "fake:32" and manifest(Path(idx))["dim"] == 32

    # searched with the new embedder from now on; BM25 is untouched
    dense = kb("search", "行政复议", "--index", idx, "--json", "--mode", "dense")
    assert dense.returncode == 0, dense.stderr
    assert json.loads(dense.stdout)
    assert json.loads(kb("search", "行政复议", "--index", idx, "--json", "--mode", "lexical").stdout) == before
    check = kb("check", "--index", idx, "--json")
    assert check.returncode == 0 and json.loads(check.stdout)["ok"], check.stdout
    # the old embedder is refused now, and going back embeds nothing: its vectors are cached
    refused = kb("ingest", str(small_corpus), "--index", idx, "--embedder", "fake")
    assert refused.returncode == 1 and "was built with embedder 'fake:32', not 'fake'" in refused.stderr
    back = kb("reindex", "--embedder", "fake", "--index", idx, "--json")
    assert back.returncode == 0 and json.loads(back.stdout)["embedded"] == 0
    assert manifest(Path(idx))["embedder"] == "fake" and manifest(Path(idx))["dim"] == 64


def test_reindex_with_an_unknown_embedder_changes_nothing(tmp_path, small_corpus):
    idx = str(tmp_path / "idx")
    assert kb("ingest", str(small_corpus), "--index", idx, "--embedder", "fake").returncode == 0
    before = (Path(idx) / "manifest.json").read_bytes()
    proc = kb("reindex", "--embedder", "nonsense", "--index", idx)
    assert proc.returncode == 1
    assert "cannot reindex with embedder 'nonsense'" in proc.stderr and "unknown embedder" in proc.stderr
    assert (Path(idx) / "manifest.json").read_bytes() == before
