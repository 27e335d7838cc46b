"""The store's read queries over documents and chunks (a part of ``Store``; kb/store/database.py
holds the engine, the schema and the writes). Rows are read by column name, like a dict, or by
position: ``sqlite3.Row`` in SQLite, kb/store/postgres.py's ``Row`` in PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from kb.records import SearchFilters
from kb.store.filters import filter_where

Row = Any  # sqlite3.Row or kb.store.postgres.Row: both read by name and by position

VALIDITY_FIELDS = ("doc_id", "title", "path", "level", "version_key", "version_date", "promulgated", "effective",
                   "expires", "doc_number", "region", "history", "repeals")


class Reads:
    db: Any  # the engine (kb/store/sqlite.py or kb/store/postgres.py)

    @property
    def con(self) -> Any:
        raise NotImplementedError  # Store's connection for this thread

    def document_row(self, doc_id: str) -> Row | None:
        return self.con.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()

    def doc_rows(self, doc_ids: Iterable[str]) -> dict[str, Row]:
        ids = list(set(doc_ids))
        out: dict[str, Row] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            q = ("SELECT doc_id, path, title, doc_type, region, date, issuer, doc_number, level, effective"
                 " FROM documents"
                 f" WHERE doc_id IN ({','.join('?' * len(part))})")
            out.update({r["doc_id"]: r for r in self.con.execute(q, part)})
        return out

    def list_documents(self, filters: SearchFilters | None, offset: int, limit: int,
                       among: list[str] | None = None, or_unrated: bool = False) -> tuple[int, list[dict]]:
        """(total, rows) of the documents matching ``filters``, by path. ``among``: only these doc_ids;
        with ``or_unrated`` also the documents with no validity facts (level none)."""
        where, args = filter_where(filters)
        if among is not None:
            marks = ",".join("?" * len(among))
            where.append(f"(level = 'none' OR doc_id IN ({marks}))" if or_unrated else f"doc_id IN ({marks})")
            args += among
        cond = " AND ".join(["1=1", *where])
        total = self.con.execute(f"SELECT COUNT(*) FROM documents WHERE {cond}", args).fetchone()[0]
        rows = self.con.execute(
            "SELECT doc_id, path, title, doc_type, region, date, issuer, doc_number, level, organ, promulgated,"
            " effective, length(text) AS chars,"
            " (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = documents.doc_id) AS chunks"
            f" FROM documents WHERE {cond} ORDER BY path LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return total, [dict(r) for r in rows]

    def filtered_chunk_ids(self, filters: SearchFilters | None, phrases: list[str]) -> np.ndarray | None:
        """Chunk ids allowed by the filters and holding every phrase verbatim, or None when nothing
        restricts."""
        where, args = filter_where(filters, "d")
        phrase_where, phrase_args = self.db.phrase_sql(phrases, "c")  # index-backed, then exact
        where += phrase_where
        args += phrase_args
        if not where:
            return None
        sql = "SELECT c.chunk_id FROM chunks c JOIN documents d USING (doc_id) WHERE " + " AND ".join(where)
        return np.fromiter((r[0] for r in self.con.execute(sql, args)), dtype=np.int64)

    def count_by(self, column: str) -> dict[str, int]:
        """Documents per value of ``column`` (doc_type, region, level)."""
        if column not in ("doc_type", "region", "level"):
            raise ValueError(f"cannot count documents by {column!r}")
        return dict(self.con.execute(f"SELECT {column}, COUNT(*) FROM documents GROUP BY {column}").fetchall())

    def validity_facts(self) -> list[dict]:
        """The validity facts of every legal or normative text (level other than none)."""
        rows = self.con.execute(f"SELECT {', '.join(VALIDITY_FIELDS)} FROM documents WHERE level != 'none'")
        return [{**dict(r), "history": json.loads(r["history"]), "repeals": json.loads(r["repeals"])} for r in rows]

    def chunk_docs(self, chunk_ids: list[int]) -> dict[int, Row]:
        """chunk id → its document's doc_id, doc_type, level, region, year and title (query-plan priors)."""
        out: dict[int, Row] = {}
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

    def sections_of(self, doc_id: str) -> list[Row]:
        return self.con.execute("SELECT * FROM sections WHERE doc_id = ? ORDER BY ord", (doc_id,)).fetchall()

    def chunks_of(self, doc_id: str) -> list[Row]:
        return self.con.execute(
            "SELECT chunk_id, section, pos_start, pos_end, page FROM chunks WHERE doc_id = ? ORDER BY ord", (doc_id,)
        ).fetchall()

    def chunk_rows(self, chunk_ids: Iterable[int]) -> dict[int, Row]:
        ids = [int(i) for i in chunk_ids]
        out: dict[int, Row] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            q = ("SELECT chunk_id, doc_id, ord, section, pos_start, pos_end, page, text FROM chunks"
                 f" WHERE chunk_id IN ({','.join('?' * len(part))})")
            out.update({r["chunk_id"]: r for r in self.con.execute(q, part)})
        return out

    def chunk_places(self, chunk_ids: list[int]) -> list[Row]:
        """Where these chunks sit (doc_id, ord, section, offsets, page), without their text."""
        out: list[Row] = []
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i:i + 500]
            out += self.con.execute("SELECT chunk_id, doc_id, ord, section, pos_start, pos_end, page FROM chunks"
                                    f" WHERE chunk_id IN ({','.join('?' * len(part))})", part).fetchall()
        return out

    def chunks_around(self, doc_id: str, first: int, last: int) -> list[Row]:
        """A document's chunks with ord in [first, last], in order, without their text."""
        return self.con.execute(
            "SELECT ord, section, pos_start, pos_end, page FROM chunks WHERE doc_id = ? AND ord BETWEEN ? AND ?"
            " ORDER BY ord", (doc_id, first, last)).fetchall()

    def text_span(self, doc_id: str, start: int, end: int) -> str:
        """``documents.text[start:end]`` of one document, read without loading the whole text."""
        return self.con.execute("SELECT substr(text, ?, ?) FROM documents WHERE doc_id = ?",
                                (start + 1, end - start, doc_id)).fetchone()[0]

    def chunk_scalars(self, chunk_ids: list[int]) -> dict[int, dict]:
        """Per chunk, the document fields a remote index keeps beside its vector for filters."""
        out: dict[int, dict] = {}
        for i in range(0, len(chunk_ids), 500):
            part = chunk_ids[i:i + 500]
            for r in self.con.execute(
                    "SELECT c.chunk_id, d.doc_id, d.doc_type, d.region, d.path, d.year FROM chunks c"
                    f" JOIN documents d USING (doc_id) WHERE c.chunk_id IN ({','.join('?' * len(part))})", part):
                out[r["chunk_id"]] = {"doc_id": r["doc_id"], "doc_type": r["doc_type"], "region": r["region"],
                                      "path": r["path"], "year": r["year"] or 0}
        return out

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

    def tokens_of(self, chunk_ids: list[int]) -> list[list[str]]:
        """BM25 token lists of those of these chunks still stored, in ascending id order."""
        ids = sorted({int(i) for i in chunk_ids})
        if not ids:
            return []
        rows = self.con.execute(f"SELECT tokens FROM chunks WHERE chunk_id IN ({','.join('?' * len(ids))})"
                                " ORDER BY chunk_id", ids).fetchall()
        return [r[0].split(" ") if r[0] else [] for r in rows]

    def chunk_tokens(self, chunk_ids: np.ndarray | None = None, page: int = 20_000) -> Iterator[list[list[str]]]:
        """BM25 token lists of these chunks (all when None), in ascending id order, page by page:
        a full rebuild at 1M chunks never holds every token string at once."""
        if chunk_ids is None:
            for rows in self._every_chunk("tokens", page):
                yield [r[1].split(" ") if r[1] else [] for r in rows]
            return
        ids = sorted(int(i) for i in chunk_ids)
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            rows = self.con.execute(f"SELECT tokens FROM chunks WHERE chunk_id IN ({','.join('?' * len(part))})"
                                    " ORDER BY chunk_id", part).fetchall()
            if len(rows) != len(part):
                raise KeyError(f"{len(part) - len(rows)} of these chunks are gone from the store")
            yield [r[0].split(" ") if r[0] else [] for r in rows]

    def chunk_texts(self, page: int = 20_000) -> Iterator[list[tuple[str, str]]]:
        """Every chunk's (doc_id, text), in ascending chunk id order, page by page (kb/formulations.py)."""
        for rows in self._every_chunk("doc_id, text", page):
            yield [(r[1], r[2]) for r in rows]

    def _every_chunk(self, columns: str, page: int) -> Iterator[list]:
        """Rows of (chunk_id, *columns) of every chunk in ascending id order, ``page`` at a time."""
        last = -1
        while True:
            rows = self.con.execute(f"SELECT chunk_id, {columns} FROM chunks WHERE chunk_id > ? ORDER BY chunk_id"
                                    " LIMIT ?", (last, page)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    def all_chunks(self) -> tuple[np.ndarray, list[str], list[list[str]]]:
        """(chunk ids ascending, index hashes, token lists): small stores and tests only."""
        ids = self.chunk_ids()
        return ids, self.index_hashes(ids), [t for page in self.chunk_tokens() for t in page]

    def counts(self) -> tuple[int, int]:
        d = self.con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        c = self.con.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return d, c
