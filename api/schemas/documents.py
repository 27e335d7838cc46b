"""Documents: listing, one document with its sections, chunks, validity and versions, stats, uploads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import AS_OF, DATE, Level, Status
from api.schemas.search import HistoryEvent, QueryParams, VersionRef


class DocumentsParams(QueryParams):
    offset: int = Field(0, ge=0, le=2**63 - 1, description="rows to skip")
    limit: int = Field(50, ge=1, le=200, description="rows to return (at most 200)")
    status: Status | None = Field(None, description="only documents with this validity status")
    as_of: str | None = Field(None, pattern=DATE, description=AS_OF)


class VersionsParams(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    q: str = Field(min_length=1, max_length=300, description="a title (with or without 中华人民共和国), doc_id or path")
    as_of: str | None = Field(None, pattern=DATE, description=AS_OF)


class DocumentRow(BaseModel):
    doc_id: str = Field(description="stable document id")
    path: str = Field(description="document path")
    title: str = Field(description="document title")
    doc_type: str = Field(description="document type")
    region: str = Field(description="region")
    date: str = Field(description="ISO date or ''")
    issuer: str = Field(description="issuing body, '' unknown")
    doc_number: str = Field(description="文号, '' unknown")
    chars: int = Field(description="length of the document text in characters")
    chunks: int = Field(description="number of indexed passages")
    level: Level = Field(description="效力级别")
    organ: str = Field(description="制定机关, '' unknown")
    promulgated: str | None = Field(description="公布日期, ISO")
    effective: str | None = Field(description="施行日期 of this version, ISO")
    status: Status = Field(description="validity on the date asked about")
    status_label: str = Field(description="the status in Chinese: 现行有效, 已被修改, 已废止, 已失效, 尚未生效, 效力未核实")
    superseded_by: str | None = Field(description="doc_id of the version in force, for a superseded version")
    repealed_by: str | None = Field(description="doc_id of the repealing text")
    repealed_on: str | None = Field(description="date the repeal took effect")
    version: str = Field(description="the version as citations name it, e.g. （2024年修正）; '' when single")


class DocumentList(BaseModel):
    total: int = Field(description="documents matching the filters")
    items: list[DocumentRow] = Field(description="this page of them, ordered by path")


class SectionOut(BaseModel):
    path: list[str] = Field(description="heading path of the section")
    start: int = Field(description="offset of the heading line in the text")
    end: int = Field(description="end offset of the section body")


class ChunkOut(BaseModel):
    chunk_id: int = Field(description="passage id")
    section: list[str] = Field(description="section path of the passage")
    start: int = Field(description="start offset in the text")
    end: int = Field(description="end offset in the text")
    page: int | None = Field(description="1-based page (PDF, OFD), null for other formats")


class IngestReportOut(BaseModel):
    pages: int | None = Field(default=None, description="pages of a paged format (PDF, OFD); null otherwise")
    pages_ocr: list[int] = Field(default_factory=list, description="1-based pages whose text came from OCR")
    pages_failed: list[int] = Field(default_factory=list, description="pages that gave no text")
    chars: int = Field(default=0, description="characters of the canonical text")
    warnings: list[str] = Field(default_factory=list, description="caveats found while reading the file")
    ocr_confidence: float | None = Field(default=None, description="mean OCR word confidence (0–100)")


class ValidityOut(BaseModel):
    """A legal text's validity facts and its status on the date asked about."""

    level: Level = Field(description="效力级别")
    promulgated: str | None = Field(description="公布日期, ISO")
    effective: str | None = Field(description="施行日期 of this version, ISO")
    expires: str | None = Field(description="end of a stated 有效期, ISO")
    history: list[HistoryEvent] = Field(description="通过/批准/公布/修正/修订/施行 events, oldest first")
    version_key: str = Field(description="shared by every version of the same text")
    version: str = Field(description="the version as citations name it, e.g. （2024年修正）")
    status: Status = Field(description="validity on the date asked about (today for a document)")
    status_label: str = Field(description="the status in Chinese")
    superseded_by: str | None = Field(description="doc_id of the version in force, for a superseded version")
    repealed_by: str | None = Field(description="doc_id of the repealing text")
    repealed_on: str | None = Field(description="date the repeal took effect")
    versions: list[VersionRef] = Field(description="the other versions of this text, newest first")


class DocumentDetail(ValidityOut):
    doc_id: str = Field(description="stable document id")
    path: str = Field(description="document path")
    title: str = Field(description="document title")
    doc_type: str = Field(description="document type")
    region: str = Field(description="region")
    date: str = Field(description="ISO date or ''")
    issuer: str = Field(description="issuing body")
    doc_number: str = Field(description="文号")
    organ: str = Field(description="制定机关, '' unknown")
    text: str = Field(description="the canonical document text all offsets refer to")
    sections: list[SectionOut] = Field(description="heading outline, in document order")
    chunks: list[ChunkOut] = Field(description="indexed passages, in document order")
    report: IngestReportOut = Field(default_factory=IngestReportOut,
                                    description="what reading the file took (pages, OCR, warnings)")


class VersionOut(ValidityOut):
    doc_id: str = Field(description="document id of this version")
    path: str = Field(description="document path")
    title: str = Field(description="document title")


class VersionsResponse(BaseModel):
    as_of: str = Field(description="the date statuses are given for")
    version_key: str = Field(description="the key shared by the versions")
    versions: list[VersionOut] = Field(description="every version, newest first")


class Stats(BaseModel):
    model_config = ConfigDict(extra="allow")

    documents: int = Field(description="documents in the index")
    chunks: int = Field(description="passages in the index")
    embedder: str = Field(description="embedding model the index was built with")
    dim: int | None = Field(None, description="embedding dimension")
    index_kind: str | None = Field(None, description="vector index kind (flat or ivf-sq8)")
    generation: int | None = Field(None, description="store write generation")
    by_type: dict[str, int] = Field(description="documents per doc_type")
    by_region: dict[str, int] = Field(description="documents per region")


class Health(BaseModel):
    status: str = Field(description="ok when the index is open")
    documents: int = Field(description="documents in the index")


class FailedFile(BaseModel):
    path: str = Field(description="the file's path (uploads/<name>)")
    reason: str = Field(description="why it was not ingested or was skipped")


class IngestResult(BaseModel):
    ingested: list[str] = Field(description="paths ingested (new or changed)")
    unchanged: list[str] = Field(description="paths already indexed with identical content")
    failed: list[FailedFile] = Field(description="files that could not be read")
    skipped: list[FailedFile] = Field(description="files of unsupported kinds")
    warnings: list[FailedFile] = Field(default_factory=list,
                                       description="files ingested with a caveat (OCR'd pages, pages without text)")


class Deleted(BaseModel):
    deleted: bool = Field(description="true when the document was removed")
    doc_id: str = Field(description="the id or path given")
