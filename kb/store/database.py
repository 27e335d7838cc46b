"""The store: the truth from which every other index is derived, in SQLite (the embedded default,
kb/store/sqlite.py) or PostgreSQL (``KB_DATABASE_URL``, kb/store/postgres.py), with one set of
statements for both.

Tables: documents, sections, chunks (with their BM25 tokens), the embedding cache
keyed by (embedder, text hash), meta (schema version, generation, manifest in PostgreSQL), and
changes: the chunk ids each generation added and removed. Each committed write bumps
``generation``; derived indexes remember the generation they were built from, so a crash between
a commit and an index save is detected, and an index kept elsewhere (Milvus) catches up by
replaying the changes since its own generation instead of comparing every id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ingest.records import Document
from kb.store.reads import Reads
from kb.store.sqlite import SqliteDatabase

SCHEMA_VERSION = "1"

# Columns added to ``documents`` after the first schema: (name, SQL type with default). A store
# written before gets them on open (ALTER TABLE ... ADD COLUMN), so no document is re-ingested.
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    # validity facts (ingest/validity.py); statuses are worked out from them in kb/validity.py
    ("level", "TEXT NOT NULL DEFAULT 'none'"), ("organ", "TEXT NOT NULL DEFAULT ''"),
    ("promulgated", "TEXT NOT NULL DEFAULT ''"), ("effective", "TEXT NOT NULL DEFAULT ''"),
    ("expires", "TEXT NOT NULL DEFAULT ''"), ("history", "TEXT NOT NULL DEFAULT '[]'"),
    ("version_key", "TEXT NOT NULL DEFAULT ''"), ("version_date", "TEXT NOT NULL DEFAULT ''"),
    ("repeals", "TEXT NOT NULL DEFAULT '[]'"),
    # the ingest.PARSER version that read the file: a newer parser re-reads unchanged files
    ("parser", "TEXT NOT NULL DEFAULT ''"),
    ("report", "TEXT NOT NULL DEFAULT '{}'"),  # JSON of ingest.records.LoadReport: pages, OCR, warnings
)
# rows every new store starts with
FIRST_ROWS = [("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", (SCHEMA_VERSION,)),
              ("INSERT INTO meta VALUES ('generation', '0') ON CONFLICT DO NOTHING", ()),
              # the change log (table changes) is complete from this generation on
              ("INSERT INTO meta SELECT 'log_from', value FROM meta WHERE key = 'generation' ON CONFLICT DO NOTHING",
               ())]


def is_database_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def doc_id_for(path: str) -> str:
    """Stable id from the document's identity (its relative path)."""
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:16]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def year_of(date: str) -> int | None:
    return int(date[:4]) if len(date) >= 4 and date[:4].isdigit() else None


class Store(Reads):
    """``Store(path)``: a SQLite file; ``Store("postgresql://…")``: a PostgreSQL database."""

    def __init__(self, location: str | Path, pool_size: int = 10):
        if is_database_url(location):
            from kb.store.postgres import PostgresDatabase  # psycopg only where it is used
            self.db: Any = PostgresDatabase(str(location), pool_size)
            self.path: Path | None = None
        else:
            self.db = SqliteDatabase(Path(location))
            self.path = self.db.path
        self.kind: str = self.db.kind
        self.location: str = self.db.location
        self.db.install(ADDED_COLUMNS, FIRST_ROWS)

    @property
    def con(self) -> Any:
        """The engine's connection for this thread: ``execute(sql, args)`` with ``?`` parameters."""
        return self.db.con

    def write(self, wait_ms: int | None = None) -> AbstractContextManager[Any]:
        """One writer transaction; rolled back whole on any error."""
        return self.db.write(wait_ms)

    def reading(self) -> AbstractContextManager[Any]:
        """One read snapshot: every read inside sees the same committed state. Re-entrant."""
        return self.db.reading()

    def ingest_lock(self, blocking: bool = True) -> AbstractContextManager[bool]:
        """The cross-process ingest lock (yields False when ``blocking`` is off and another holds it)."""
        return self.db.ingest_lock(blocking)

    def close(self) -> None:
        self.db.close()

    def cache_bytes(self) -> int:
        return self.db.cache_bytes()

    # -- meta ----------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def generation(self) -> int:
        return int(self.get_meta("generation", "0") or 0)

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as con:
            con.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (key, value))

    @staticmethod
    def _bump(con: Any, added: Sequence[int] = (), removed: Sequence[int] = ()) -> None:
        """Next generation, with the chunk ids it added and removed in the change log."""
        con.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'")
        gen = int(con.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        rows = [(gen, int(c), 0) for c in removed] + [(gen, int(c), 1) for c in added]
        if rows:
            con.executemany("INSERT INTO changes VALUES (?, ?, ?)", rows)

    def changes_since(self, generation: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(chunk ids added and still held, chunk ids removed) after ``generation``; None when the
        log does not reach back that far (a store from before the log, or a copied one)."""
        with self.reading() as con:
            start = int(con.execute("SELECT value FROM meta WHERE key = 'log_from'").fetchone()[0])
            if generation < start:
                return None
            rows = con.execute("SELECT chunk_id, added FROM changes WHERE generation > ?", (generation,)).fetchall()
        removed = {int(r[0]) for r in rows if not r[1]}
        added = sorted({int(r[0]) for r in rows if r[1]} - removed)  # chunk ids are never reused
        return np.asarray(added, dtype=np.int64), np.asarray(sorted(removed), dtype=np.int64)

    # -- documents -----------------------------------------------------------
    def content_hash(self, path: str, parser: str | None = None) -> str | None:
        """The stored file's hash; None when absent, or when ``parser`` is given and another parser
        version read it (so the file is read again)."""
        row = self.con.execute("SELECT content_hash, parser FROM documents WHERE path = ?", (path,)).fetchone()
        if row is None or (parser is not None and row[1] != parser):
            return None
        return row[0]

    def put_document(self, doc: Document, index_hashes: list[str], tokens: list[list[str]],
                     parser: str = "") -> list[int]:
        """Insert or replace one document with its sections and chunks, atomically. Returns chunk ids."""
        doc_id = doc_id_for(doc.path)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        values = {
            "doc_id": doc_id, "path": doc.path, "title": doc.title, "doc_type": doc.doc_type,
            "region": doc.region, "date": doc.date, "year": year_of(doc.date), "issuer": doc.issuer,
            "doc_number": doc.doc_number, "source_format": doc.source_format, "content_hash": doc.content_hash,
            "text": doc.text, "pages": json.dumps(doc.pages), "ingested_at": now,
            "level": doc.level, "organ": doc.organ, "promulgated": doc.promulgated, "effective": doc.effective,
            "expires": doc.expires, "history": json.dumps(doc.history, ensure_ascii=False),
            "version_key": doc.version_key, "version_date": doc.version_date,
            "repeals": json.dumps(doc.repeals, ensure_ascii=False), "parser": parser,
            "report": json.dumps(doc.report.to_dict(), ensure_ascii=False),
        }  # fmt: skip
        with self.write() as con:
            removed = self._delete(con, doc_id)
            con.execute(f"INSERT INTO documents ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                        list(values.values()))
            con.executemany(
                "INSERT INTO sections VALUES (?,?,?,?,?,?,?)",
                [(doc_id, i, json.dumps(s.path, ensure_ascii=False), s.start, s.end, s.level,
                  json.dumps(s.meta, ensure_ascii=False)) for i, s in enumerate(doc.sections)],
            )
            ids: list[int] = []
            for i, c in enumerate(doc.chunks):
                ids.append(con.execute(
                    "INSERT INTO chunks (doc_id, ord, section, pos_start, pos_end, page, text, index_hash, tokens)"
                    " VALUES (?,?,?,?,?,?,?,?,?) RETURNING chunk_id",
                    (doc_id, i, json.dumps(c.section, ensure_ascii=False), c.start, c.end, c.page, c.text,
                     index_hashes[i], " ".join(tokens[i])),
                ).fetchone()[0])
            self._bump(con, ids, removed or [])
        return ids

    def delete_document(self, doc_id: str) -> bool:
        """Remove one document; False when it was not there."""
        with self.write() as con:
            removed = self._delete(con, doc_id)
            if removed is not None:
                self._bump(con, removed=removed)
        return removed is not None

    @staticmethod
    def _delete(con: Any, doc_id: str) -> list[int] | None:
        """Remove a document's rows; its chunk ids, or None when it was not there."""
        if con.execute("SELECT 1 FROM documents WHERE doc_id = ?", (doc_id,)).fetchone() is None:
            return None
        ids = [int(r[0]) for r in con.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))]
        con.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        con.execute("DELETE FROM sections WHERE doc_id = ?", (doc_id,))
        con.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        return ids

    def paths_under(self, prefix: str) -> list[str]:
        """Stored document paths starting with ``prefix`` ("" for all)."""
        return [r[0] for r in self.con.execute("SELECT path FROM documents WHERE substr(path, 1, ?) = ?",
                                               (len(prefix), prefix))]

    def find_doc_id(self, id_or_path: str) -> str | None:
        row = self.con.execute(
            "SELECT doc_id FROM documents WHERE doc_id = ? OR path = ?", (id_or_path, id_or_path)
        ).fetchone()
        return row[0] if row else None

    # -- embedding cache -------------------------------------------------------
    def cached_vectors(self, embedder: str, hashes: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        uniq = list(set(hashes))
        for i in range(0, len(uniq), 500):
            part = uniq[i:i + 500]
            q = f"SELECT hash, vec FROM embeddings WHERE embedder = ? AND hash IN ({','.join('?' * len(part))})"
            for h, blob in self.con.execute(q, [embedder, *part]):
                out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_vectors(self, embedder: str, items: list[tuple[str, np.ndarray]], wait_ms: int | None = None) -> bool:
        """Cache vectors. With ``wait_ms`` the write gives up (False) when another writer holds the
        database longer than that, or it is read-only: a reader filling the cache on the side never
        waits for an ingest."""
        # in hash order, so two writers of overlapping rows lock them in the same order
        rows = sorted((embedder, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items)
        try:
            with self.write(wait_ms) as con:
                con.executemany("INSERT INTO embeddings VALUES (?,?,?)"
                                " ON CONFLICT (embedder, hash) DO UPDATE SET vec = excluded.vec", rows)
            return True
        except Exception as e:
            if wait_ms is None or not self.db.gave_up(e):
                raise
            return False
