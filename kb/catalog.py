"""The catalogue of stored documents: listing with filters and status, one document's detail, a
text's versions, and exact passages for quoting. Read-only views over the store and the validity
statuses; KnowledgeBase delegates to these."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kb.errors import InvalidInput, NotFound
from kb.records import SearchFilters
from kb.validity import STATUSES, ValidityView

if TYPE_CHECKING:
    from kb.core import KnowledgeBase


def documents(kb: KnowledgeBase, filters: SearchFilters | None, offset: int, limit: int,
              status: str | None, as_of: str | None) -> tuple[int, list[dict]]:
    if not (0 <= offset < 2**63 and 0 < limit < 2**63):
        raise InvalidInput(f"offset must be 0 or more and limit 1 or more (got offset {offset}, limit {limit})")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status '{status}' is not one of: {', '.join(STATUSES)}")
    view = kb.validity(as_of)
    among = None
    if status is not None:
        among = [d for d in view.facts if view.status(d).status == status]
    # texts with no validity facts (speeches, news) are unknown too
    total, rows = kb.store.list_documents(filters, offset, limit, among, or_unrated=status == "unknown")
    return total, [{**r, "promulgated": r["promulgated"] or None, "effective": r["effective"] or None,
                    **view.status(r["doc_id"]).to_dict(), "version": view.label(r["doc_id"])} for r in rows]


def document(kb: KnowledgeBase, id_or_path: str) -> dict:
    view = kb.validity()
    with kb.store.reading():  # row, sections and chunks of one version
        doc_id = kb.store.find_doc_id(id_or_path)
        row = kb.store.document_row(doc_id) if doc_id else None
        if row is None:
            raise NotFound(f"no document '{id_or_path}' in this index (see `kb docs`)")
        out = {k: row[k] for k in ("doc_id", "path", "title", "doc_type", "region", "date", "issuer",
                                   "doc_number", "level", "organ", "text")}
        out |= {"promulgated": None, "effective": None, "expires": None, "history": [], "version_key": "",
                **validity_fields(view, doc_id)}
        out["report"] = json.loads(row["report"] or "{}")  # pages, OCR'd pages, warnings (LoadReport)
        out["sections"] = [{"path": json.loads(s["path"]), "start": s["pos_start"], "end": s["pos_end"]}
                           for s in kb.store.sections_of(doc_id)]
        out["chunks"] = [{"chunk_id": c["chunk_id"], "section": json.loads(c["section"]), "start": c["pos_start"],
                          "end": c["pos_end"], "page": c["page"]} for c in kb.store.chunks_of(doc_id)]
    return out


def validity_fields(view: ValidityView, doc_id: str) -> dict:
    """Status, version label, other versions and (for legal texts) the validity facts of one document."""
    f = view.facts.get(doc_id)
    out = {"version": view.label(doc_id), **view.status(doc_id).to_dict(), "versions": view.versions(doc_id)}
    if f is not None:
        out |= {"level": f.level, "promulgated": f.promulgated or None, "effective": f.effective or None,
                "expires": f.expires or None, "history": f.history, "version_key": f.version_key}
    return out


def versions(kb: KnowledgeBase, title_or_id: str, as_of: str | None) -> dict:
    """Every version of a text (by doc_id, path or title with or without 中华人民共和国), newest first."""
    from ingest.validity import version_key
    view = kb.validity(as_of)
    doc_id = kb.store.find_doc_id(title_or_id)
    if doc_id is None:
        key = version_key(title_or_id)
        doc_id = next((f.doc_id for f in view.facts.values() if f.version_key == key), None)
    if doc_id is None or doc_id not in view.facts:
        raise NotFound(f"no legal text '{title_or_id}' in this index (give a title, doc_id or path; see `kb docs`)")
    group = view.status(doc_id).group or [doc_id]
    return {"as_of": view.as_of, "version_key": view.facts[doc_id].version_key,
            "versions": [{"doc_id": d, "path": view.facts[d].path, "title": view.facts[d].title,
                          **validity_fields(view, d)} for d in group]}


def passage(kb: KnowledgeBase, doc_id: str, start: int, end: int) -> dict:
    """An exact span of a document, cited as narrowly as it allows and naming the version (kb/passage.py)."""
    from kb.passage import passage as cut
    return cut(document(kb, doc_id), start, end)
