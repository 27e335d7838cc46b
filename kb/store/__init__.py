"""The store, the truth every other index is derived from, and the only place SQL is written.

database.py  Store: schema additions, meta (generation), document writes, embedding cache
reads.py     read queries over documents and chunks (rows, ids, tokens, listing, filtered chunk ids)
filters.py   SearchFilters → WHERE clauses, shared by search and listing
sqlite.py    the embedded engine: a SQLite file, WAL, one connection per thread
phrases.py   SQLite's FTS5 trigram index for quoted phrases, kept in step by triggers
postgres.py  the shared engine: PostgreSQL through a psycopg pool, pg_trgm for quoted phrases
"""

from kb.store.database import SCHEMA_VERSION, Store, doc_id_for, is_database_url, text_hash, year_of
from kb.store.reads import VALIDITY_FIELDS, Row
from kb.store.sqlite import BUSY_MS

__all__ = ["BUSY_MS", "SCHEMA_VERSION", "VALIDITY_FIELDS", "Row", "Store", "doc_id_for", "is_database_url", "text_hash", "year_of"]
