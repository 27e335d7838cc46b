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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ingest.records import Document
from kb import phrases

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
VALIDITY_FIELDS = ("doc_id", "title", "path", "level", "version_key", "version_date", "promulgated", "effective",
                   "expires", "doc_number", "region", "history", "repeals")


def doc_id_for(path: str) -> str:
    """Stable id from the document's identity (its relative path)."""
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:16]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def year_of(date: str) -> int | None:
    return int(date[:4]) if len(date) >= 4 and date[:4].isdigit() else None


class Store:
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
            phrases.install(con)  # quoted-phrase index (kb/phrases.py); filled once on an older store

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

    def document_row(self, doc_id: str) -> sqlite3.Row | None:
        return self.con.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()

    def doc_rows(self, doc_ids: Iterable[str]) -> dict[str, sqlite3.Row]:
        ids = list(set(doc_ids))
        out: dict[str, sqlite3.Row] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            q = ("SELECT doc_id, path, title, doc_type, region, date, issuer, doc_number, level, effective"
                 " FROM documents"
                 f" WHERE doc_id IN ({','.join('?' * len(part))})")
            out.update({r["doc_id"]: r for r in self.con.execute(q, part)})
        return out

    def list_documents(self, where: list[str], args: list, offset: int, limit: int) -> tuple[int, list[dict]]:
        """(total, rows) of the documents matching ``where`` (clauses over the documents table), by path."""
        cond = " AND ".join(["1=1", *where])
        total = self.con.execute(f"SELECT COUNT(*) FROM documents WHERE {cond}", args).fetchone()[0]
        rows = self.con.execute(
            "SELECT doc_id, path, title, doc_type, region, date, issuer, doc_number, level, organ, promulgated,"
            " effective, length(text) AS chars,"
            " (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = documents.doc_id) AS chunks"
            f" FROM documents WHERE {cond} ORDER BY path LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return total, [dict(r) for r in rows]

    def count_by(self, column: str) -> dict[str, int]:
        """Documents per value of ``column`` (doc_type, region, level)."""
        if column not in ("doc_type", "region", "level"):
            raise ValueError(f"cannot count documents by {column!r}")
        return dict(self.con.execute(f"SELECT {column}, COUNT(*) FROM documents GROUP BY {column}").fetchall())

    def validity_facts(self) -> list[dict]:
        """The validity facts of every legal or normative text (level other than none)."""
        rows = self.con.execute(f"SELECT {', '.join(VALIDITY_FIELDS)} FROM documents WHERE level != 'none'")
        return [{**dict(r), "history": json.loads(r["history"]), "repeals": json.loads(r["repeals"])} for r in rows]

    def chunk_docs(self, chunk_ids: list[int]) -> dict[int, sqlite3.Row]:
        """chunk id → its document's doc_id, doc_type, level, region, year and title (query-plan priors)."""
        out: dict[int, sqlite3.Row] = {}
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i:i + 500]
            out.update((r["chunk_id"], r) for r in self.con.execute(
                "SELECT c.chunk_id, d.doc_id, d.doc_type, d.level, d.region, d.year, d.title"
                " FROM chunks c JOIN documents d USING (doc_id)"
                f" WHERE c.chunk_id IN ({','.join('?' * len(part))})", part))
        return out

    def chunk_ids_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        ids = list(doc_ids)
        out: list[int] = []
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            out += [r[0] for r in self.con.execute(
                f"SELECT chunk_id FROM chunks WHERE doc_id IN ({','.join('?' * len(part))})", part)]
        return np.asarray(sorted(out), dtype=np.int64)

    def sections_of(self, doc_id: str) -> list[sqlite3.Row]:
        return self.con.execute("SELECT * FROM sections WHERE doc_id = ? ORDER BY ord", (doc_id,)).fetchall()

    def chunks_of(self, doc_id: str) -> list[sqlite3.Row]:
        return self.con.execute(
            "SELECT chunk_id, section, pos_start, pos_end, page FROM chunks WHERE doc_id = ? ORDER BY ord", (doc_id,)
        ).fetchall()

    def chunk_rows(self, chunk_ids: Iterable[int]) -> dict[int, sqlite3.Row]:
        ids = [int(i) for i in chunk_ids]
        out: dict[int, sqlite3.Row] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            q = ("SELECT chunk_id, doc_id, ord, section, pos_start, pos_end, page, text FROM chunks"
                 f" WHERE chunk_id IN ({','.join('?' * len(part))})")
            out.update({r["chunk_id"]: r for r in self.con.execute(q, part)})
        return out

    def chunk_places(self, chunk_ids: list[int]) -> list[sqlite3.Row]:
        """Where these chunks sit (doc_id, ord, section, offsets, page), without their text."""
        out: list[sqlite3.Row] = []
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i:i + 500]
            out += self.con.execute("SELECT chunk_id, doc_id, ord, section, pos_start, pos_end, page FROM chunks"
                                    f" WHERE chunk_id IN ({','.join('?' * len(part))})", part).fetchall()
        return out

    def chunks_around(self, doc_id: str, first: int, last: int) -> list[sqlite3.Row]:
        """A document's chunks with ord in [first, last], in order, without their text."""
        return self.con.execute(
            "SELECT ord, section, pos_start, pos_end, page FROM chunks WHERE doc_id = ? AND ord BETWEEN ? AND ?"
            " ORDER BY ord", (doc_id, first, last)).fetchall()

    def text_span(self, doc_id: str, start: int, end: int) -> str:
        """``documents.text[start:end]`` of one document, read without loading the whole text."""
        return self.con.execute("SELECT substr(text, ?, ?) FROM documents WHERE doc_id = ?",
                                (start + 1, end - start, doc_id)).fetchone()[0]

    def chunk_index_parts(self, chunk_ids: list[int]) -> list[tuple[str, str, str]]:
        """(document title, section JSON, chunk text) of these chunks: what their index text is made of."""
        out: list[tuple[str, str, str]] = []
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i:i + 500]
            out += [tuple(r) for r in self.con.execute(
                "SELECT d.title, c.section, c.text FROM chunks c JOIN documents d USING (doc_id)"
                f" WHERE c.chunk_id IN ({','.join('?' * len(part))})", part)]
        return out

    def chunk_text_problems(self) -> tuple[int, int]:
        """(chunks whose text differs from their document's text[start:end], chunks of no document)."""
        bad = 0
        for doc_id, text in self.con.execute("SELECT doc_id, text FROM documents").fetchall():
            for s, e, t in self.con.execute("SELECT pos_start, pos_end, text FROM chunks WHERE doc_id = ?", (doc_id,)):
                bad += text[s:e] != t
        orphans = self.con.execute(
            "SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT doc_id FROM documents)").fetchone()[0]
        return bad, orphans

    def chunk_ids(self) -> np.ndarray:
        """Chunk ids ascending: what the derived indexes must cover."""
        # no ORDER BY: SQLite then scans the small chunks_doc index, not every text (1.7 → 0.7 s at 1M)
        rows = self.con.execute("SELECT chunk_id FROM chunks").fetchall()
        return np.sort(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))

    def index_hashes(self, chunk_ids: np.ndarray) -> list[str]:
        """The index-text hashes (embedding cache keys) of these chunks, in the order given."""
        ids = [int(i) for i in chunk_ids]
        found: dict[int, str] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            found.update(self.con.execute(
                f"SELECT chunk_id, index_hash FROM chunks WHERE chunk_id IN ({','.join('?' * len(part))})", part))
        if len(found) != len(set(ids)):
            raise KeyError(f"{len(set(ids)) - len(found)} of these chunks are gone from the store")
        return [found[i] for i in ids]

    def chunk_tokens(self, chunk_ids: np.ndarray | None = None, page: int = 20_000) -> Iterator[list[list[str]]]:
        """BM25 token lists of these chunks (all when None), in ascending id order, page by page:
        a full rebuild at 1M chunks never holds every token string at once."""
        if chunk_ids is None:
            last = -1
            while True:
                rows = self.con.execute("SELECT chunk_id, tokens FROM chunks WHERE chunk_id > ? ORDER BY chunk_id"
                                        " LIMIT ?", (last, page)).fetchall()
                if not rows:
                    return
                last = rows[-1][0]
                yield [r[1].split(" ") if r[1] else [] for r in rows]
        ids = sorted(int(i) for i in chunk_ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            rows = self.con.execute(f"SELECT tokens FROM chunks WHERE chunk_id IN ({','.join('?' * len(part))})"
                                    " ORDER BY chunk_id", part).fetchall()
            if len(rows) != len(part):
                raise KeyError(f"{len(part) - len(rows)} of these chunks are gone from the store")
            yield [r[0].split(" ") if r[0] else [] for r in rows]

    def all_chunks(self) -> tuple[np.ndarray, list[str], list[list[str]]]:
        """(chunk ids ascending, index hashes, token lists): small stores and tests only."""
        ids = self.chunk_ids()
        return ids, self.index_hashes(ids), [t for page in self.chunk_tokens() for t in page]

    def counts(self) -> tuple[int, int]:
        d = self.con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        c = self.con.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return d, c

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
