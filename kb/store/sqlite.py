"""The embedded engine: one SQLite file, a connection per thread, WAL so searches read while an
ingest writes. ``BEGIN IMMEDIATE`` serialises writers; a reader's transaction is one snapshot."""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.store import phrases

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
CREATE TABLE IF NOT EXISTS changes (generation INTEGER NOT NULL, chunk_id INTEGER NOT NULL, added INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS changes_generation ON changes (generation);
"""


class SqliteDatabase:
    kind = "sqlite"

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.location = str(self.path)
        self._local = threading.local()

    def install(self, added_columns: tuple[tuple[str, str], ...], first_rows: list[tuple[str, tuple]]) -> None:
        """The schema, the columns added since the first one, the meta rows and the phrase index."""
        self.con.executescript(SCHEMA)  # executescript commits by itself: keep it outside write()
        with self.write() as con:
            have = {r[1] for r in con.execute("PRAGMA table_info(documents)")}
            for name, decl in added_columns:
                if name not in have:
                    con.execute(f"ALTER TABLE documents ADD COLUMN {name} {decl}")
            for sql, args in first_rows:
                con.execute(sql, args)
            phrases.install(con)  # quoted-phrase index; filled once on an older store

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
    def write(self, wait_ms: int | None = None) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction (the only writer); rolled back whole on any error."""
        con = self.con
        if wait_ms is not None:
            con.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            if wait_ms is not None:
                con.execute(f"PRAGMA busy_timeout = {BUSY_MS}")

    @staticmethod
    def gave_up(e: Exception) -> bool:
        """True when a write with ``wait_ms`` failed because another writer held on (or read-only)."""
        return isinstance(e, sqlite3.OperationalError) and any(w in str(e) for w in ("locked", "busy", "readonly"))

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

    @contextmanager
    def ingest_lock(self, blocking: bool = True) -> Iterator[bool]:
        """A lock file beside the store, held for a whole ingest (CLI ingest while the server runs)."""
        f = open(self.path.parent / ".write.lock", "a+")
        try:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            f.close()

    def phrase_sql(self, phrases_: list[str], alias: str = "c") -> tuple[list[str], list]:
        return phrases.phrase_sql(self.con, phrases_, alias)

    @staticmethod
    def after_copy(con: sqlite3.Connection) -> None:
        """AUTOINCREMENT continues after the highest id inserted: nothing to do."""

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def cache_bytes(self) -> int:
        """The page cache one connection may hold (PRAGMA cache_size: pages, or KiB when negative)."""
        cache = self.con.execute("PRAGMA cache_size").fetchone()[0]
        return -cache * 1024 if cache < 0 else cache * self.con.execute("PRAGMA page_size").fetchone()[0]
