"""Pydantic models of the HTTP API: request validation and the OpenAPI description.

The core hands out plain dicts/dataclasses (kb.records); these models only describe and
check them at the edge, so the pipeline never depends on pydantic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kb.records import SearchFilters

Mode = Literal["hybrid", "dense", "lexical"]
GroupBy = Literal["region", "province", "doc_type", "year"]


class ErrorBody(BaseModel):
    error: str = Field(description="machine-readable error code, e.g. invalid_input, not_found, unauthorized")
    detail: str = Field(description="human-readable explanation naming the offending field or file")


class AlsoIn(BaseModel):
    doc_id: str = Field(description="id of a document holding a near-identical passage")
    path: str = Field(description="that document's path in the corpus")
    title: str = Field(description="that document's title")


class HitOut(BaseModel):
    doc_id: str = Field(description="stable document id")
    path: str = Field(description="document path relative to the ingested folder (uploads/… for uploads)")
    title: str = Field(description="document title")
    doc_type: str = Field(description="law, regulation, local_regulation, work_report, plan, speech, news, other …")
    region: str = Field(description="most specific place (全国 for national documents, '' unknown)")
    date: str = Field(description="ISO date yyyy-mm-dd (or yyyy-mm / yyyy, '' unknown)")
    section: list[str] = Field(description="section path from the top heading down, e.g. ['第二章 …', '第十条']")
    text: str = Field(description="the passage, exactly document.text[start:end]")
    start: int = Field(description="start offset of the passage in the document text (Python str index)")
    end: int = Field(description="end offset (exclusive) of the passage in the document text")
    page: int | None = Field(description="1-based PDF page of the passage start; null for other formats")
    score: float = Field(description="relevance score (fused rank score; comparable within one response)")
    citation: str = Field(description="citation string for quoting: title, section, date")
    highlights: list[list[int]] = Field(
        description="[start, end] offsets inside `text` to highlight: matched terms (search) or quoted sentences (ask)")
    also_in: list[AlsoIn] = Field(description="near-identical passages collapsed into this hit")


class QueryParams(BaseModel):
    """Shared query-string filters; strings are stripped before the length checks."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")  # e.g. cache-busting params

    type: str | None = Field(None, max_length=200, description="doc_type filter; several comma-separated")
    region: str | None = Field(None, max_length=100, description="region substring: 河南 matches 河南省漯河市")
    year_from: int | None = Field(None, ge=1000, le=9999, description="earliest document year (inclusive)")
    year_to: int | None = Field(None, ge=1000, le=9999, description="latest document year (inclusive)")

    @model_validator(mode="after")
    def _years_in_order(self):
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise ValueError(f"year_from ({self.year_from}) is after year_to ({self.year_to})")
        return self

    def filters(self) -> SearchFilters | None:
        f = SearchFilters(doc_type=self.type or None, region=self.region or None,
                          year_from=self.year_from, year_to=self.year_to)
        return None if f.is_empty() else f


class SearchParams(QueryParams):
    q: str = Field(min_length=1, max_length=500, description="the query (1–500 characters after trimming)")
    k: int = Field(10, ge=1, le=50, description="number of hits to return")
    mode: Mode = Field("hybrid", description="hybrid (dense + BM25 fused), dense only, or lexical only")


class CompareParams(QueryParams):
    q: str = Field(min_length=1, max_length=500, description="the topic to compare (1–500 characters)")
    by: GroupBy = Field("region", description="group by region string, province, doc_type or year")


class DocumentsParams(QueryParams):
    offset: int = Field(0, ge=0, le=2**63 - 1, description="rows to skip")
    limit: int = Field(50, ge=1, le=200, description="rows to return (at most 200)")


class AskRequest(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    question: str = Field(min_length=1, max_length=500, description="the question, in Chinese")
    k: int = Field(5, ge=1, le=50, description="passages retrieved to answer from")


class AskResponse(BaseModel):
    answer: str = Field(description="the answer; every sentence ends with a [n] marker into `citations`")
    found: bool = Field(description="false when no passage was relevant enough (answer is 未找到相关依据。)")
    citations: list[HitOut] = Field(description="the passages cited, in marker order ([1] is the first)")
    mode: str = Field(description="extractive, generative, or extractive_fallback (the model endpoint failed)")
    note: str | None = Field(None, description="why the generative answer was not used, when it was not")


class CompareGroup(BaseModel):
    key: str = Field(description="the group's region / province / doc_type / year")
    hits: list[HitOut] = Field(description="best passage of each matching document in this group")


class CompareResponse(BaseModel):
    groups: list[CompareGroup] = Field(description="groups sorted by key, 全国 first")
    missing: list[str] = Field(description="keys of documents of the same doc_type(s) with no matching passage")


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


class DocumentDetail(BaseModel):
    doc_id: str = Field(description="stable document id")
    path: str = Field(description="document path")
    title: str = Field(description="document title")
    doc_type: str = Field(description="document type")
    region: str = Field(description="region")
    date: str = Field(description="ISO date or ''")
    issuer: str = Field(description="issuing body")
    doc_number: str = Field(description="文号")
    text: str = Field(description="the canonical document text all offsets refer to")
    sections: list[SectionOut] = Field(description="heading outline, in document order")
    chunks: list[ChunkOut] = Field(description="indexed passages, in document order")
    report: IngestReportOut = Field(default_factory=IngestReportOut,
                                    description="what reading the file took (pages, OCR, warnings)")


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


class ExportItem(BaseModel):
    doc_id: str = Field(min_length=1, max_length=200, description="document id (or path)")
    start: int = Field(ge=0, description="start offset of the passage in the document text")
    end: int = Field(gt=0, description="end offset (exclusive); must be > start and ≤ text length")

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be greater than start ({self.start})")
        return self


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ExportItem] = Field(min_length=1, max_length=200, description="passages in basket order")
    format: Literal["docx", "md"] = Field("docx", description="docx (Word) or md (Markdown)")
