"""Plain records that travel from ingest into the kb store.

Offsets are Python string indices into ``Document.text`` (the cleaned, canonical
text): ``doc.text[chunk.start:chunk.end] == chunk.text`` always holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Section:
    """One heading node. ``path`` lists the headings from the root down to this one."""

    path: list[str]
    start: int  # offset of the heading line
    end: int  # end of the section body (start of the next sibling-or-higher heading)
    level: int  # 1 = top level (一、/ 第一章 / #), deeper numbers nest
    meta: dict[str, str] = field(default_factory=dict)  # e.g. {"responsible": "区司法局"} from 〔责任单位:…〕


@dataclass
class Chunk:
    section: list[str]  # path of the deepest section containing the chunk
    start: int
    end: int
    text: str
    page: int | None = None  # 1-based PDF page of ``start``; None for other formats
    ordinal: int = 0  # position within the document
    chunk_id: int | None = None  # assigned by the store


@dataclass
class LoadReport:
    """What reading the file took, stored with the document: the honest side of "ingested"."""

    pages: int | None = None  # pages of a paged format (PDF, OFD); None for flowing text
    pages_ocr: list[int] = field(default_factory=list)  # 1-based pages whose text came from OCR
    pages_failed: list[int] = field(default_factory=list)  # pages that gave no text at all
    chars: int = 0  # characters of the canonical text
    warnings: list[str] = field(default_factory=list)  # one line each, for the ingest summary
    ocr_confidence: float | None = None  # Tesseract's mean word confidence (0–100) over pages_ocr

    def to_dict(self) -> dict:
        return {"pages": self.pages, "pages_ocr": list(self.pages_ocr), "pages_failed": list(self.pages_failed),
                "chars": self.chars, "warnings": list(self.warnings), "ocr_confidence": self.ocr_confidence}


@dataclass
class Document:
    path: str  # identity: path relative to the folder given to ``kb ingest``
    text: str  # canonical cleaned text
    title: str = ""
    date: str = ""  # ISO yyyy-mm-dd, or yyyy-mm / yyyy when that is all we know; "" when unknown
    region: str = ""  # most specific place, 全国 for national documents, "" when unknown
    doc_type: str = "other"  # see ingest.metadata.DOC_TYPES
    issuer: str = ""
    doc_number: str = ""  # 文号
    source_format: str = "txt"  # txt | md | html | pdf | docx | doc | wps | ofd
    content_hash: str = ""  # sha256 of the raw file bytes
    sections: list[Section] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    # PDF and OFD: (start, end, page) spans of the canonical text, 1-based pages
    pages: list[tuple[int, int, int]] = field(default_factory=list)
    report: LoadReport = field(default_factory=LoadReport)
    # validity facts (ingest/validity.py); whether the text is in force is decided in kb/validity.py
    level: str = "none"  # 效力级别: law, admin_regulation, local_regulation, dept_rule, local_rule, …, none
    organ: str = ""  # 制定机关
    promulgated: str = ""  # 公布日期, ISO
    effective: str = ""  # 施行日期 of this version, ISO
    expires: str = ""  # end of a stated 有效期, ISO
    history: list[dict] = field(default_factory=list)  # [{date, event, text}], oldest first
    version_key: str = ""  # shared by every version of the same text
    version_date: str = ""  # the latest 通过/批准/公布/修正/修订 date: orders the versions
    repeals: list[dict] = field(default_factory=list)  # [{title, key, date, doc_number}] it repeals


class IngestError(Exception):
    """A file that cannot be ingested. ``reason`` is one short human-readable line."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
