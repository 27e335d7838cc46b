"""An exact span of a document, cited as narrowly as it allows: the article or section it lies in,
an article range (第四条至第九条) when it spans several, else the sections both ends share."""

from __future__ import annotations

from kb.cite import common_path, span_citation
from kb.errors import InvalidInput
from kb.records import DocumentDetail


def deepest_section(doc: DocumentDetail, at: int) -> list[str]:
    """Path of the deepest section of ``doc`` containing offset ``at``."""
    found: list[str] = []
    for s in doc.sections:
        if s["start"] <= at < s["end"] and len(s["path"]) >= len(found):
            found = s["path"]
    return found


def passage(doc: DocumentDetail, start: int, end: int) -> dict:
    if not (0 <= start < end <= len(doc.text)):
        raise InvalidInput(f"span [{start}, {end}) is outside document {doc.doc_id} (0..{len(doc.text)})")
    first, last = deepest_section(doc, start), deepest_section(doc, end - 1)
    page = next((c["page"] for c in doc.chunks if c["start"] <= start < c["end"]), None)
    return {"doc_id": doc.doc_id, "path": doc.path, "title": doc.title, "date": doc.date,
            "doc_type": doc.doc_type, "region": doc.region, "issuer": doc.organ or doc.issuer,
            "doc_number": doc.doc_number, "section": first if first == last else common_path(first, last),
            "start": start, "end": end, "page": page, "text": doc.text[start:end],
            "citation": span_citation(doc.title, doc.doc_type, doc.date, first, last, doc.version),
            "version": doc.version, "status": doc.status}
