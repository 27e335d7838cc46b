"""ingest: raw government files → clean, structured, traceable Documents.

    from ingest import parse_file, parse_bytes, SUPPORTED_SUFFIXES, IngestError
    doc = parse_file(Path("corpus/seeds/004_….txt"), "seeds/004_….txt")
    doc = parse_bytes(upload_bytes, "通知.docx")

Every chunk satisfies ``doc.text[c.start:c.end] == c.text``; every failure is an IngestError.
"""

from ingest.load import SUPPORTED_SUFFIXES
from ingest.metadata import DOC_TYPES
from ingest.pipeline import MAX_BYTES, PARSER_VERSION, parse_bytes, parse_file
from ingest.records import Chunk, Document, IngestError, Section

__all__ = [
    "DOC_TYPES",
    "MAX_BYTES",
    "PARSER_VERSION",
    "SUPPORTED_SUFFIXES",
    "Chunk",
    "Document",
    "IngestError",
    "Section",
    "parse_bytes",
    "parse_file",
]
