"""SQLite store: the truth from which every other index is derived.

Tables: documents, sections, chunks (with their BM25 tokens), the embedding cache
keyed by (embedder, text hash), and meta (schema version, generation, embedder).
Each committed write bumps ``generation``; derived indexes remember the generation
they were built from, so a crash between a commit and an index save is detected.
WAL mode lets searches read while an ingest writes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ingest.records import Document
from kb.store import phrases
from kb.store.reads import Reads

SCHEMA_VERSION = "1"
BUSY_MS = 60_000  # how long a statement waits for another writer before "database is locked"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, title TEXT NOT NULL, doc_type TEXT NOT NULL,
    region TEXT NOT NULL, date TEXT NOT NULL, year INTEGER, issuer TEXT NOT NULL, doc_number TEXT NOT NULL,
    source_format TEXT NOT NULL, content_hash TEXT NOT NULL, text TEXT NOT NULL, pages TEXT NOT NULL,
    ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sections (
    doc_id TEXT NOT NULL, ord INTEGER NOT NULL, path TEXT NOT NULL, pos_start INTEGER NOT NULL,
    pos_end INTEGER NOT NULL, level INTEGER NOT NULL, meta TEXT NOT NULL, PRIMARY KEY (doc_id, ord));
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL, ord INTEGER NOT NULL,
    section TEXT NOT NULL, pos_start INTEGER NOT NULL, pos_end INTEGER NOT NULL, page INTEGER,
    text TEXT NOT NULL, index_hash TEXT NOT NULL, tokens TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id);
CREATE TABLE IF NOT EXISTS embeddings (
    embedder TEXT NOT NULL, hash TEXT NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (embedder, hash));
"""

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



def doc_id_for(path: str) -> str:
    """Stable id from the document's identity (its relative path)."""
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:16]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def year_of(date: str) -> int | None:
    return int(date[:4]) if len(date) >= 4 and date[:4].isdigit() else None


class Store(Reads):
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.con.executescript(SCHEMA)  # executescript commits by itself: keep it outside write()
        with self.write() as con:
            have = {r[1] for r in con.execute("PRAGMA table_info(documents)")}
            for name, decl in ADDED_COLUMNS:
                if name not in have:
                    con.execute(f"ALTER TABLE documents ADD COLUMN {name} {decl}")
            con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            con.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
            phrases.install(con)  # quoted-phrase index (kb/store/phrases.py); filled once on an older store

    # -- connections ---------------------------------------------------------
    @property
    def con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.row_factory = sqlite3.Row
            self._local.con = con
        return con

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction; rolled back whole on any error."""
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every read inside sees the same committed state (WAL snapshot),
        so a document is never assembled from two versions. Re-entrant."""
        con = self.con
        if con.in_transaction:
            yield con
            return
        con.execute("BEGIN")
        try:
            yield con
        finally:
            if con.in_transaction:
                con.execute("COMMIT")

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    # -- meta ----------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def generation(self) -> int:
        return int(self.get_meta("generation", "0") or 0)

    @staticmethod
    def _bump(con: sqlite3.Connection) -> None:
        con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")

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
            self._delete(con, doc_id)
            con.execute(f"INSERT INTO documents ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                        list(values.values()))
            con.executemany(
                "INSERT INTO sections VALUES (?,?,?,?,?,?,?)",
                [(doc_id, i, json.dumps(s.path, ensure_ascii=False), s.start, s.end, s.level,
                  json.dumps(s.meta, ensure_ascii=False)) for i, s in enumerate(doc.sections)],
            )
            ids = []
            for i, c in enumerate(doc.chunks):
                cur = con.execute(
                    "INSERT INTO chunks (doc_id, ord, section, pos_start, pos_end, page, text, index_hash, tokens)"
                    " VALUES (?,?,?,?,?,?,?,?,?)",
                    (doc_id, i, json.dumps(c.section, ensure_ascii=False), c.start, c.end, c.page, c.text,
                     index_hashes[i], " ".join(tokens[i])),
                )
                ids.append(cur.lastrowid)
            self._bump(con)
        return ids

    def delete_document(self, doc_id: str) -> bool:
        """Remove one document; False when it was not there."""
        with self.write() as con:
            existed = self._delete(con, doc_id)
            if existed:
                self._bump(con)
        return existed

    @staticmethod
    def _delete(con: sqlite3.Connection, doc_id: str) -> bool:
        existed = con.execute("SELECT 1 FROM documents WHERE doc_id = ?", (doc_id,)).fetchone() is not None
        con.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        con.execute("DELETE FROM sections WHERE doc_id = ?", (doc_id,))
        con.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        return existed

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
        rows = [(embedder, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items]
        if wait_ms is None:
            with self.write() as con:
                con.executemany("INSERT OR REPLACE INTO embeddings VALUES (?,?,?)", rows)
            return True
        con = self.con
        con.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
        try:
            with self.write():
                con.executemany("INSERT OR REPLACE INTO embeddings VALUES (?,?,?)", rows)
            return True
        except sqlite3.OperationalError as e:
            if not any(w in str(e) for w in ("locked", "busy", "readonly")):
                raise
            return False
        finally:
            con.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
