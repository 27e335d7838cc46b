"""Crash points for the crash-safety tests (as SQLite tests its own recovery).

With ``KB_CRASH_AT=name`` (or ``name:N`` for the N-th pass) in the environment, the
process SIGKILLs itself when it reaches that point; without it this is a no-op.
Points: ``embed`` (after an embedding batch is cached), ``store`` (after a document
commit), ``faiss_tmp`` (FAISS file written, not yet renamed into place), ``index``
(index files in place, derived.json not yet updated).
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_passes: Counter[str] = Counter()


def checkpoint(name: str) -> None:
    spec = os.environ.get("KB_CRASH_AT")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _passes[name] += 1
    if _passes[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
