"""HTTP load: requests/s and latency of GET /api/search under N concurrent clients, against
``kb serve`` (uvicorn in a subprocess) on 127.0.0.1 only, plus the server's memory.

    python -m bench.http_load --index indexes/eval --clients 1,8,32 --duration 30

Each client keeps one keep-alive connection and sends the next query as soon as the last
answer arrived (closed loop). Any non-200 answer or transport error counts as an error.
Note: the load generator runs on the same 2 cores as the server, so it takes some CPU from it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench.measure import DEV_SET, cpu_seconds, log, percentiles, rss_mb, save_result, scratch
from bench.queries import load_queries

ROOT = Path(__file__).resolve().parent.parent
LRU_SIZE = 1024  # KnowledgeBase._query_vector's cache
HOST = "127.0.0.1"  # loopback only: this benchmark never listens on or calls another interface


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def server(index: Path, port: int, ready_timeout: float = 300.0):
    """``kb serve`` over ``index`` in a subprocess; yields (process, seconds until /healthz answered)."""
    import httpx

    cmd = [sys.executable, "-m", "kb.cli", "serve", "--index", str(index), "--host", HOST, "--port", str(port)]
    env = {**os.environ, "KB_READ_KEY": "", "PYTHONUNBUFFERED": "1"}
    logf = open(scratch(f"fazhi-bench-server-{port}.log"), "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}; see {logf.name}")
            if time.perf_counter() - t0 > ready_timeout:
                raise TimeoutError(f"server not ready after {ready_timeout} s; see {logf.name}")
            try:
                if httpx.get(f"http://{HOST}:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        yield proc, time.perf_counter() - t0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        logf.close()


class RssSampler:
    """Samples a process's RSS in a background thread; the peak is also in VmHWM."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every, self.max_rss = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.max_rss = max(self.max_rss, rss_mb(self.pid)["rss_mb"] or 0.0)
            except OSError:
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


async def _load(port: int, queries: list[str], clients: int, duration: float, mode: str, counter) -> dict:
    import httpx

    url = f"http://{HOST}:{port}/api/search"
    times: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + duration

    async def client(http: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            q = queries[next(counter) % len(queries)]
            t0 = time.perf_counter()
            try:
                r = await http.get(url, params={"q": q, "k": 10, "mode": mode})
                ok = r.status_code == 200 and isinstance(r.json()["hits"], list)
                if not ok:
                    errors.append(f"{r.status_code}: {r.text[:200]}")
            except (httpx.HTTPError, ValueError, KeyError) as e:  # transport failure, a body not JSON or without hits
                errors.append(f"{type(e).__name__}: {e}")
                continue
            times.append(time.perf_counter() - t0)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.perf_counter() - t0
    return {"clients": clients, "wall_s": round(wall, 1), "requests": len(times), "errors": len(errors),
            "error_samples": errors[:5], "rps": round(len(times) / wall, 2), **percentiles(times)}


def run(index: Path, queries: list[str], clients: list[int], duration: float, mode: str = "hybrid") -> dict:
    import httpx

    port = free_port()
    with server(index, port) as (proc, ready_s):
        rec: dict = {"index": str(index), "mode": mode, "ready_s": round(ready_s, 2),
                     "rss_after_start": rss_mb(proc.pid)}
        t0 = time.perf_counter()  # the first search loads the snapshot and the model
        httpx.get(f"http://{HOST}:{port}/api/search", params={"q": queries[0], "mode": mode}, timeout=600)
        rec["first_search_s"] = round(time.perf_counter() - t0, 2)
        for q in queries[:20]:
            httpx.get(f"http://{HOST}:{port}/api/search", params={"q": q, "mode": mode}, timeout=60)
        rec["rss_after_warmup"] = rss_mb(proc.pid)
        rec["levels"] = []
        # One cycle through the queries across all levels: restarting it per level would replay
        # the queries the last level left in the server's 1,024-entry query-vector LRU (cache hits,
        # not searches); with more queries than the LRU holds, a cycle always misses.
        counter = itertools.count(20)  # the warm-up sent queries[:20]
        with RssSampler(proc.pid) as sampler:
            for c in clients:
                log(f"  {c} client(s) for {duration} s …")
                cpu0 = cpu_seconds(proc.pid), cpu_seconds()
                level = asyncio.run(_load(port, queries, c, duration, mode, counter))
                # where the 2 cores went: the server's and this load generator's CPU per request
                n = max(level["requests"], 1)
                level["server_cpu_ms_per_req"] = round(1000 * (cpu_seconds(proc.pid) - cpu0[0]) / n, 2)
                level["client_cpu_ms_per_req"] = round(1000 * (cpu_seconds() - cpu0[1]) / n, 2)
                log(f"  {c} client(s): {level['rps']} req/s, p50 {level.get('p50_ms')} ms, "
                    f"p99 {level.get('p99_ms')} ms, errors {level['errors']}, CPU ms/request: "
                    f"server {level['server_cpu_ms_per_req']}, load generator {level['client_cpu_ms_per_req']}")
                rec["levels"].append(level)
        rec["rss_end"] = rss_mb(proc.pid)  # peak_rss_mb here is the server's lifetime VmHWM
        rec["rss_sampled_max_mb"] = sampler.max_rss
    return rec


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, action="append", help="index folder(s); repeat for several sizes")
    p.add_argument("--clients", default="1,8,32", help="concurrency levels, comma-separated")
    p.add_argument("--duration", type=float, default=30.0, help="seconds per level")
    p.add_argument("--mode", default="hybrid", choices=("hybrid", "dense", "lexical"))
    p.add_argument("--dev", type=Path, default=DEV_SET)
    p.add_argument("--queries", type=int, default=2000,
                   help="distinct queries cycled; above the server's 1,024-entry LRU every request embeds")
    p.add_argument("--query-store", type=Path,
                   help="store.sqlite whose headings top up the queries (default: each index's own; "
                        "synthetic indexes repeat few distinct headings)")
    p.add_argument("--name", default="http", help="result file name under bench/results/")
    args = p.parse_args(argv)
    indexes = args.index or [ROOT / "indexes/eval"]
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    out = {"duration_s": args.duration, "runs": []}
    for index in indexes:
        queries = load_queries(args.dev, args.query_store or index / "store.sqlite", args.queries)
        if len(queries) <= LRU_SIZE:
            log(f"  warning: only {len(queries)} distinct queries, which fit in the server's query-vector "
                f"LRU ({LRU_SIZE}): most requests will not embed (use --query-store)")
        log(f"serving {index} ({len(queries)} queries, mode {args.mode})")
        out["runs"].append({"distinct_queries": len(queries), **run(index, queries, clients, args.duration, args.mode)})
        save_result(args.name, out)


if __name__ == "__main__":
    main()
