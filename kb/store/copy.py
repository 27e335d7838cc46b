"""Copy a whole store into an empty one (an embedded index moved into PostgreSQL): every table row
for row, chunk ids kept (the derived indexes and any Milvus collection are keyed by them), in one
transaction of the destination, so a failed copy leaves it empty."""

from __future__ import annotations

from collections.abc import Callable

from kb.store.database import Store

# table → its primary key, read in key order page after page; meta: the generation below, the caller's manifest
TABLES = {"documents": ("doc_id",), "sections": ("doc_id", "ord"), "chunks": ("chunk_id",),
          "embeddings": ("embedder", "hash")}
PAGE = 2_000


def _columns(store: Store, table: str) -> list[str]:
    row = store.con.execute(f"SELECT * FROM {table} LIMIT 1").fetchone()
    return list(row.keys()) if row is not None else []


def copy_store(src: Store, dst: Store, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Rows copied per table. Refused (ValueError) when ``dst`` already holds documents."""
    if dst.counts()[0]:
        raise ValueError(f"{dst.location} already holds documents; copy into an empty database")
    copied: dict[str, int] = {}
    with dst.write() as out, src.reading() as con:
        for table, key in TABLES.items():
            cols = _columns(src, table)
            copied[table] = 0
            if not cols:
                continue
            insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            keys, marks = ", ".join(key), ", ".join("?" * len(key))
            page = f"SELECT {', '.join(cols)} FROM {table} ORDER BY {keys} LIMIT {PAGE}"
            after = f"SELECT {', '.join(cols)} FROM {table} WHERE ({keys}) > ({marks}) ORDER BY {keys} LIMIT {PAGE}"
            last: tuple | None = None
            while True:  # keyset pages: each one an index range, however large the table
                rows = con.execute(page if last is None else after, last or ()).fetchall()
                if not rows:
                    break
                out.executemany(insert, [tuple(r) for r in rows])
                last = tuple(rows[-1][k] for k in key)
                copied[table] += len(rows)
                if progress:
                    progress(table, copied[table])
        # the change log starts afresh: whatever reads it (Milvus) is filled whole after a copy
        out.execute("UPDATE meta SET value = ? WHERE key IN ('generation', 'log_from')", (str(src.generation()),))
        dst.db.after_copy(out)
    return copied
