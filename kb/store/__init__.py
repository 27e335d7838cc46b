"""The SQLite store, the truth every other index is derived from, and the only place SQL is written.

database.py  connection, schema, transactions, meta (generation), document writes, embedding cache
reads.py     read queries over documents and chunks (rows, ids, tokens, listing, filtered chunk ids)
filters.py   SearchFilters → WHERE clauses, shared by search and listing
phrases.py   FTS5 trigram index for quoted phrases, kept in step by triggers
"""

from kb.store.database import BUSY_MS, SCHEMA_VERSION, Store, doc_id_for, text_hash, year_of
from kb.store.reads import VALIDITY_FIELDS, Row

__all__ = ["BUSY_MS", "SCHEMA_VERSION", "VALIDITY_FIELDS", "Row", "Store", "doc_id_for", "text_hash", "year_of"]
