"""Small measuring tools shared by the bench scripts: latency percentiles, stage timers,
process memory, machine load, result files, and where data and scratch folders are by default.
Nothing here knows about kb."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"  # git-ignored
# the corpus and eval set sit beside the repository, in ../shared (as CI checks them out)
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEV_SET = SHARED / "eval" / "dev.jsonl"


def scratch(name: str) -> Path:
    """A default scratch folder in the system's temporary directory (``$TMPDIR`` honoured)."""
    return Path(tempfile.gettempdir()) / name


def log(msg: str) -> None:
    """Progress on stderr with a wall-clock stamp, so a long run shows where it is."""
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def percentiles(samples_s: list[float]) -> dict:
    """p50/p95/p99/mean in milliseconds of latency samples given in seconds."""
    if not samples_s:
        return {"n": 0}
    a = np.asarray(samples_s) * 1000.0
    return {"n": len(a), "p50_ms": round(float(np.percentile(a, 50)), 2),
            "p95_ms": round(float(np.percentile(a, 95)), 2), "p99_ms": round(float(np.percentile(a, 99)), 2),
            "mean_ms": round(float(a.mean()), 2)}


class StageTimer:
    """Accumulates wall time per named stage; ``wrap`` times every call of a function."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextmanager
    def stage(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - t0
            self.calls[name] += 1

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            with self.stage(name):
                return fn(*args, **kwargs)
        return timed

    def as_dict(self) -> dict:
        return {k: round(v, 3) for k, v in sorted(self.seconds.items())}


def rss_mb(pid: int | None = None) -> dict:
    """Current and peak resident memory (VmRSS, VmHWM from /proc) of a process, in MB."""
    out = {}
    path = Path(f"/proc/{pid or os.getpid()}/status")
    for line in path.read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(rest.split()[0]) / 1024, 1)
    return {"rss_mb": out.get("VmRSS"), "peak_rss_mb": out.get("VmHWM")}


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds a process has used so far (utime + stime from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid or os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> dict:
    """What the numbers were measured on, including the load other jobs put on it."""
    try:
        import psutil
        mem_gb = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        mem_gb = None
    return {"cpus": os.cpu_count(), "memory_gb": mem_gb, "python": platform.python_version(),
            "loadavg_1m": round(os.getloadavg()[0], 2), "when": time.strftime("%Y-%m-%d %H:%M:%S"),
            "omp": {k: os.environ[k] for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS") if k in os.environ}}


def save_result(name: str, data: dict) -> Path:
    """Write ``bench/results/<name>.json`` (with the machine record) and return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"machine": machine(), **data}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    log(f"wrote {path}")
    return path
