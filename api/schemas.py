"""Pydantic models of the HTTP API: request validation and the OpenAPI description.

The core hands out plain dicts/dataclasses (kb.records); these models only describe and
check them at the edge, so the pipeline never depends on pydantic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kb.records import SearchFilters

Mode = Literal["hybrid", "dense", "lexical"]
Status = Literal["current", "superseded", "repealed", "expired", "not_yet_effective", "unknown"]
Level = Literal["law", "admin_regulation", "local_regulation", "dept_rule", "local_rule", "judicial_interpretation",
                "normative", "none"]
AS_OF = "validity as of this date (YYYY-MM-DD, a real calendar date, else 422); default today"
DATE = r"^\d{4}-\d{2}-\d{2}$"
GroupBy = Literal["region", "province", "doc_type", "year"]


class ErrorBody(BaseModel):
    error: str = Field(description="machine-readable error code, e.g. invalid_input, not_found, unauthorized")
    detail: str = Field(description="human-readable explanation naming the offending field or file")


class AlsoIn(BaseModel):
    doc_id: str = Field(description="id of a document holding a near-identical passage")
    path: str = Field(description="that document's path in the corpus")
    title: str = Field(description="that document's title")


class VersionRef(BaseModel):
    doc_id: str = Field(description="id of another version of the same text")
    title: str = Field(description="its title with the version, e.g. 上海市优化营商环境条例（2020年）")
    status: Status = Field(description="its status on the date asked about")
    date: str = Field(description="its version date (latest 通过/公布/修正/修订), ISO or ''")


class HistoryEvent(BaseModel):
    date: str = Field(description="ISO date of the event")
    event: Literal["通过", "批准", "公布", "修正", "修订", "施行"] = Field(description="what happened")
    text: str = Field(description="the line or sentence that records it")


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
    status: Status = Field("unknown", description="validity on the date asked about: current 现行有效, superseded "
                           "已被修改, repealed 已废止, expired 已失效, not_yet_effective 尚未生效, unknown 效力未核实")
    level: Level = Field("none", description="效力级别 (none for speeches, plans, reports, news)")
    effective: str = Field("", description="施行日期 of this version, ISO or ''")
    versions: list[VersionRef] = Field([], description="the text's other versions, newest first")


class QueryPlanOut(BaseModel):
    places: list[str] = Field(description="places the query names, as full gazetteer names (上海 → 上海市)")
    spread: bool = Field(description="the query asks about many places at once (各地, 各省 …)")
    year_from: int | None = Field(description="first year the query names (2021—2023年, 近三年 …), null if none")
    year_to: int | None = Field(description="last year the query names, null if none")
    kinds: list[str] = Field(description="document kinds the query names, as written (条例, 讲话, 规划 …)")
    doc_types: list[str] = Field(description="the doc_type values those kinds stand for")
    intent: Literal["compare", "material", "requirement", "lookup"] = Field(
        description="compare (各地/对比), material (素材/提法: quotable lines), requirement (应当/期限/哪些), lookup")
    cues: list[str] = Field(description="the words of the query that decided the intent")
    label: str = Field(description="one line for display: 按地区：上海市 · 年份：2023 · 类型：条例 · 意图：素材")


class SearchOut(BaseModel):
    query_plan: QueryPlanOut = Field(description="how the query was read; its places, years, kinds and intent "
                                                 "reorder the ranking (soft), they never filter")
    hits: list[HitOut] = Field(description="passages, best first")


class QueryParams(BaseModel):
    """Shared query-string filters; strings are stripped before the length checks."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")  # e.g. cache-busting params

    type: str | None = Field(None, max_length=200, description="doc_type filter; several comma-separated")
    region: str | None = Field(None, max_length=100, description="region substring: 河南 matches 河南省漯河市")
    # year_from <= year_to is a rule across two fields, which JSON Schema cannot state: it is
    # stated in words here, and schemathesis.toml lets these operations answer 422 for it.
    year_from: int | None = Field(None, ge=1000, le=9999,
                                  description="earliest document year (inclusive); not after year_to, else 422")
    year_to: int | None = Field(None, ge=1000, le=9999,
                                description="latest document year (inclusive); not before year_from, else 422")

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
    as_of: str | None = Field(None, pattern=DATE, description=AS_OF)
    all_versions: bool = Field(False, description="every version of a text, each with its status (default: only "
                                                  "the version in force, the others listed in `versions`)")


class CompareParams(QueryParams):
    q: str = Field(min_length=1, max_length=500, description="the topic to compare (1–500 characters)")
    by: GroupBy = Field("region", description="group by region string, province, doc_type or year")
    as_of: str | None = Field(None, pattern=DATE, description=AS_OF)


class MatrixParams(QueryParams):
    q: str = Field(min_length=1, max_length=500, description="the topic, e.g. 重大行政决策 (1–500 characters)")
    aspects: str | None = Field(None, max_length=1000, description=(
        "rows, comma-separated (公众参与,专家论证,风险评估); empty: proposed from the section headings of the "
        "best-matching normative text"))
    places: str | None = Field(None, max_length=1000, description=(
        "columns, comma-separated: places (北京,上海,广东,全国 — a place matches any region containing it), or "
        "doc types / years with `by`; empty: the groups whose documents address the topic"))
    by: GroupBy = Field("region", description="what the columns are: region, province, doc_type or year")
    as_of: str | None = Field(None, pattern=DATE, description="cells from the versions in force on this date (default today)")


class MatrixExportParams(MatrixParams):
    format: Literal["docx", "md", "csv"] = Field("docx", description="docx (公文 layout, a Word table), md or csv")


class DocumentsParams(QueryParams):
    offset: int = Field(0, ge=0, le=2**63 - 1, description="rows to skip")
    limit: int = Field(50, ge=1, le=200, description="rows to return (at most 200)")
    status: Status | None = Field(None, description="only documents with this validity status")
    as_of: str | None = Field(None, pattern=DATE, description=AS_OF)


class VersionsParams(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    q: str = Field(min_length=1, max_length=300, description="a title (with or without 中华人民共和国), doc_id or path")
    as_of: str | None = Field(None, pattern=DATE, description=AS_OF)


class AskRequest(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    question: str = Field(min_length=1, max_length=500, description="the question, in Chinese")
    k: int = Field(5, ge=1, le=50, description="passages retrieved to answer from")
    as_of: str | None = Field(None, pattern=DATE, description="answer from the texts in force on this date (default today)")


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


class MatrixCell(BaseModel):
    aspect: str = Field(description="the row")
    column: str = Field(description="the column (place, doc type or year)")
    hit: HitOut | None = Field(description="the best passage of the column on the aspect; null: 未见相关规定")
    note: str | None = Field(description="set when the passage also fills another cell of the column (nothing "
                                         "else fits)")


class MatrixResponse(BaseModel):
    query: str = Field(description="the topic")
    by: GroupBy = Field(description="what the columns are")
    aspects: list[str] = Field(description="rows, in order")
    columns: list[str] = Field(description="columns, in order")
    cells: list[MatrixCell] = Field(description="one per aspect and column, row by row")
    proposed: bool = Field(description="true when the aspects were proposed, not given")
    proposed_from: str | None = Field(description="title of the text whose headings the aspects came from")


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


class ExportItem(BaseModel):
    doc_id: str = Field(min_length=1, max_length=200, description="document id (or path)")
    start: int = Field(ge=0, description="start offset of the passage in the document text")
    # end > start and end <= the document's length cannot be stated in JSON Schema (see schemathesis.toml)
    end: int = Field(gt=0, description="end offset (exclusive); must be > start and ≤ the document's text "
                                       "length, else 422")
    text: str | None = Field(None, max_length=200_000, description=(
        "the passage as it was added; when given it must still equal the stored text (409 quote_changed "
        "otherwise), so a quotation is never silently replaced"))

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be greater than start ({self.start})")
        return self


class PassageParams(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    doc_id: str = Field(min_length=1, max_length=200, description="document id (or path)")
    start: int = Field(ge=0, le=2**62, description="start offset in the document text")
    end: int = Field(gt=0, le=2**62, description="end offset (exclusive), > start")

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be greater than start ({self.start})")
        return self


class PassageOut(BaseModel):
    doc_id: str = Field(description="stable document id")
    path: str = Field(description="document path")
    title: str = Field(description="document title")
    date: str = Field(description="ISO date or ''")
    doc_type: str = Field(description="document type")
    region: str = Field(description="region")
    issuer: str = Field(description="issuing body, '' unknown")
    doc_number: str = Field(description="文号, '' unknown")
    section: list[str] = Field(description="the section the span lies in (the sections both ends share)")
    start: int = Field(description="start offset")
    end: int = Field(description="end offset (exclusive)")
    page: int | None = Field(description="1-based PDF page of the start, null for other formats")
    text: str = Field(description="exactly document.text[start:end]")
    citation: str = Field(description="citation narrowed to the article or section (an article range across several)")


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ExportItem] = Field(min_length=1, max_length=200, description="passages in basket order")
    format: Literal["docx", "md"] = Field("docx", description="docx (Word) or md (Markdown)")
