"""`kb migrate`: move an embedded index's store into PostgreSQL (``KB_DATABASE_URL``) without
reading or embedding any file again. Every row is copied with its chunk id, the manifest goes into
the database, and the derived indexes follow on first open: FAISS and BM25 rebuilt from the copied
store and embedding cache, or, with ``KB_MILVUS_URI``, Milvus filled from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kb import remote_index
from kb.errors import InvalidInput, NotFound
from kb.manifest import Manifest
from kb.settings import Settings
from kb.store import Store
from kb.store.copy import copy_store


def migrate(index: Path, settings: Settings, progress: Callable[[str, int], None] | None = None) -> dict:
    """Copy the index folder's store into the (empty) database of ``settings.database_url``."""
    if not settings.database_url:
        raise InvalidInput("set KB_DATABASE_URL to the PostgreSQL database the index moves into")
    manifest = Manifest.load(index)
    if manifest is None or not (index / "store.sqlite").exists():
        raise NotFound(f"no index at {index} to migrate")
    src = Store(index / "store.sqlite")
    dst = Store(settings.database_url, settings.database_pool)
    try:
        if dst.get_meta("manifest") is not None:
            raise InvalidInput(f"{dst.location} already holds an index; migrate into an empty database")
        try:
            copied = copy_store(src, dst, progress)
        except ValueError as e:
            raise InvalidInput(str(e)) from None
        if settings.milvus_uri and not remote_index.is_remote(manifest):
            manifest = replace(manifest, vector_index=remote_index.REMOTE, keyword_index=remote_index.REMOTE,
                               collection=remote_index.collection_for(dst.location))
        dst.set_meta("manifest", manifest.to_json())  # last: a database without it is no index yet
        return {"from": str(index), "to": dst.location, "generation": dst.generation(), "rows": copied}
    finally:
        src.close()
        dst.close()
