"""Which files an ingest reads, under which identity, and whether they changed since last time.

A document's identity is its path relative to ``root`` (or to the folder given; a file given
directly: its file name). Unsupported files are reported as skipped, never silently dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

from ingest import PARSER_VERSION, SUPPORTED_SUFFIXES, Document, IngestError, parse_file
from kb.records import IngestSummary
from kb.store import Store
from kb.sync import Folder

# A corpus folder's own description files are not documents.
NOT_DOCUMENTS = frozenset({"README.md", "MANIFEST.tsv", "SOURCES.tsv"})


def collect(paths: list[Path], root: Path | None) -> tuple[list[tuple[Path, str]], list[Folder], list[tuple[str, str]]]:
    """(file, identity) pairs to read, the folders given (for ``--sync``), and (identity, reason) skips."""
    targets: list[tuple[Path, str]] = []
    folders: list[Folder] = []
    skipped: list[tuple[str, str]] = []
    for p in paths:
        if p.is_dir():
            rel_dir = relative(p, root) if root else "."
            folders.append(Folder(str(p), "" if rel_dir == "." else rel_dir.rstrip("/") + "/"))
            for f in sorted(p.rglob("*")):
                if not f.is_file() or f.name.startswith(".") or f.name in NOT_DOCUMENTS:
                    continue
                rel = relative(f, root) if root else f.relative_to(p).as_posix()
                folders[-1].present.add(rel)
                if f.suffix.lower() in SUPPORTED_SUFFIXES:
                    targets.append((f, rel))
                else:
                    skipped.append((rel, f"unsupported file type {f.suffix or '(none)'}"))
        else:  # files, and paths that do not exist (reported by the parser)
            targets.append((p, relative(p, root) if root else p.name))
    return targets, folders, skipped


def parse_if_changed(store: Store, path: Path, rel: str, max_bytes: int) -> Document | None:
    """None when the file's bytes hash to what the store holds: re-ingesting an unchanged
    folder then costs a read and a hash per file, not a parse."""
    stored = store.content_hash(rel, PARSER_VERSION)
    if stored is not None:
        try:
            if path.stat().st_size <= max_bytes and hashlib.sha256(path.read_bytes()).hexdigest() == stored:
                return None
        except OSError:
            pass  # parse_file reports it with a clear reason
    return parse_file(path, rel, max_bytes=max_bytes)


def parse_changed(store: Store, items: Iterable[tuple[str, Callable[[], Document | None]]],
                  summary: IngestSummary, progress: Callable[[str, int, int], None], total: int) -> list[Document]:
    """Parse each (identity, parse) item; the documents that differ from what the store holds.
    Unchanged and failed files go into ``summary``: one bad file never stops the others."""
    docs = []
    for i, (rel, parse) in enumerate(items, 1):
        try:
            doc = parse()
            if doc is not None:
                doc.path = rel
            if doc is None or store.content_hash(rel, PARSER_VERSION) == doc.content_hash:
                summary.unchanged.append(rel)
            else:
                docs.append(doc)
        except IngestError as e:
            summary.failed.append((rel, e.reason))
        except Exception as e:  # noqa: BLE001 — reported per file, with its type
            summary.failed.append((rel, f"unexpected error: {type(e).__name__}: {e}"))
        progress("parse", i, total)
    return docs


def relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
