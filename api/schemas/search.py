"""Search: hits with their sources and versions, the query plan, and the query parameters."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import AS_OF, DATE, GroupBy, Level, Mode, Status
from kb.records import SearchFilters


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
    duration: bool = Field(description="the query asks how long (多久, 期限, 几日): passages stating a period rank up")
    bridge: list[str] = Field([], description="quoted phrases of the corpus whose words joined the keyword query: "
                                              "the query holds words no text holds, and these lie nearest it "
                                              "in meaning (办事能不能只在网上一个地方办完 → 一网通办)")
    label: str = Field(description="one line for display: 按地区：上海市 · 年份：2023 · 类型：条例 · 意图：素材 · 问：期限 · "
                                   "近似提法：“一网通办”")


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
