"""The rule tables of the ingest stage (boilerplate, headings, gazetteer, …) live beside this file.

They are small commented TSV/TXT files so that officials' vocabulary can be corrected without
touching code. ``rows`` reads one of them: comment lines (``#``) and blank lines are skipped.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@cache
def rows(name: str) -> tuple[tuple[str, ...], ...]:
    """The rows of ``data/<name>`` as tuples of tab-separated fields (trailing empty fields kept)."""
    path = HERE / name
    out = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = tuple(line.split("\t"))
            if not all(fields[:1]):
                raise ValueError(f"{path}:{number}: empty first column")
            out.append(fields)
    return tuple(out)
