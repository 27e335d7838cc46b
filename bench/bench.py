"""Run the whole speed-and-scale benchmark, one section per subprocess (memory is returned
between sections, and one failing section does not stop the others), then print the summary.

    python -m bench.bench                      # everything (~15-20 min on 2 quiet cores)
    python -m bench.bench --quick              # small sizes, 5 s HTTP levels: a smoke run
    python -m bench.bench --only http,report   # some sections

Needs the eval index (``kb ingest --index indexes/eval --root ../shared/corpus --list
../shared/eval/eval_corpus.txt``); its embedding cache is reused, so nothing is re-embedded
except a ~50k-character throughput sample and the chunks of one edited file.
Results: bench/results/*.json; summary: bench/results/summary.md (see bench/README.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import RESULTS, log, scratch

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("ingest", "scale", "http", "langchain", "report")


def commands(args) -> dict[str, list[list[str]]]:
    py = [sys.executable, "-m"]
    scale_dir = args.work / "scale"
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    big = [str(scale_dir / f"n{n}") for n in sizes]
    q = ["--queries", str(args.queries)]
    return {
        "ingest": [[*py, "bench.ingest_bench", "--cache-from", str(args.index), "--work", str(args.work / "ingest")]],
        "scale": [[*py, "bench.scale", "--source", str(args.index), "--sizes", args.sizes, "--work", str(scale_dir),
                   "--keep", "--refresh", "--e5fit", *q]],
        # HTTP cycles more distinct queries than the server's 1,024-entry query-vector LRU holds,
        # so every request embeds its query (fewer would measure cache hits)
        "http": [[*py, "bench.http_load", "--index", str(scale_dir / "source"), "--clients", "1,8,32",
                  "--duration", str(args.duration), "--name", "http_10k", "--queries", "2000"],
                 [*py, "bench.http_load", *[a for b in big for a in ("--index", b)], "--clients", "8",
                  "--duration", str(max(5.0, args.duration / 3)), "--name", "http_scale", "--queries", "2000",
                  "--query-store", str(args.index / "store.sqlite")]],
        "langchain": [[*py, "bench.langchain_alt", "--index", str(args.index), "--name", "langchain_10k",
                       "--work", str(args.work / "langchain"), *q]]
        + [[*py, "bench.langchain_alt", "--index", b, "--cache-from", str(args.index), "--name", f"langchain_{n}",
            "--work", str(args.work / "langchain"), *q] for n, b in zip(sizes, big, strict=True)
           if n <= args.langchain_max],
        "report": [[*py, "bench.report", "--out", str(RESULTS / "summary.md")]],
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, default=ROOT / "indexes/eval", help="the eval index (read, never written)")
    p.add_argument("--work", type=Path, default=scratch("fazhi-bench"), help="scratch folder (GBs at 1M)")
    p.add_argument("--sizes", default="100000,1000000", help="synthetic index sizes in chunks")
    p.add_argument("--duration", type=float, default=30.0, help="seconds per HTTP concurrency level")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--langchain-max", type=int, default=100_000, help="largest size to build LangChain at")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"sections to run, from {','.join(SECTIONS)}")
    p.add_argument("--quick", action="store_true", help="smoke run: 20k chunks, 5 s levels, 50 queries")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.duration, args.queries, args.langchain_max = "20000", 5.0, 50, 20_000
    if not (args.index / "store.sqlite").is_file():
        raise SystemExit(f"no eval index at {args.index}; build it first (see this script's --help)")
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    cmds = commands(args)
    failed = []
    for section in (s for s in SECTIONS if s in wanted):
        for cmd in cmds[section]:
            log(f"== {section}: {' '.join(cmd[2:])}")
            t0 = time.perf_counter()
            rc = subprocess.run(cmd, cwd=ROOT).returncode
            log(f"== {section} finished in {time.perf_counter() - t0:.0f} s (rc {rc})")
            if rc:
                failed.append(section)
    if failed:
        raise SystemExit(f"failed sections: {', '.join(failed)}")


if __name__ == "__main__":
    main()
