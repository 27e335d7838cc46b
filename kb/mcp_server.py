"""`kb mcp`: the knowledge base as read-only Model Context Protocol tools, for assistants
(Dify, FastGPT, RAGFlow, desktop clients) that reach documents through MCP.

Thin over KnowledgeBase, like the CLI and the HTTP API: each tool is one core call, its
result the same dicts the JSON API returns, so every passage keeps its citation and exact
span. Bad input (unknown document, a span outside it) comes back as an MCP tool error with
the core's message, never as a crash of the server.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field  # parameter descriptions and bounds, for the tools' input schemas

from kb.errors import InvalidInput, KBError
from kb.records import SearchFilters

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

INSTRUCTIONS = (
    "法治文库：中国法治文献（法律法规、规范性文件、讲话、规划、报告、新闻）的检索与问答。"
    "每段结果都带出处（citation）和原文位置（doc_id, start, end）；引用时请照录 citation，"
    "需要核对原文时用 get_passage 取回原文。\n"
    "fazhi-kb: search and Q&A over Chinese rule-of-law documents. Every passage carries its citation "
    "and exact span (doc_id, start, end); quote the citation, and fetch the verbatim text with get_passage."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

Query = Annotated[str, Field(min_length=1, max_length=500, description="检索词或问题 / the query, 1-500 characters")]
DocId = Annotated[str, Field(min_length=1, max_length=500,
                             description="文档 id（或其路径）/ document id, or its path, as search returns it")]
DocType = Annotated[str | None, Field(
    max_length=200, description="文档类型，逗号分隔 / doc_type filter, comma-separated: law, regulation, "
                                "local_regulation, rule, judicial_interpretation, plan, report, work_report, "
                                "speech, news, other")]
Region = Annotated[str | None, Field(max_length=100, description="地区，任一级：河南 匹配 河南省漯河市 / region substring")]
Year = Annotated[int | None, Field(ge=1000, le=9999)]
Offset = Annotated[int, Field(ge=0, description="文中字符偏移 / character offset in the document text")]


def _result(data: dict) -> CallToolResult:
    """Structured content for programs, and the same JSON as text (unescaped Chinese) for the model."""
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(data, ensure_ascii=False))],
                          structured_content=data)


def _tool_errors(fn: Callable[..., CallToolResult]) -> Callable[..., CallToolResult]:
    """The core's clear errors (unknown document, span outside it, bad filter) as MCP tool errors."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> CallToolResult:
        try:
            return fn(*args, **kwargs)
        except KBError as e:
            raise ToolError(e.detail) from e
    return wrapper


def _filters(doc_type: str | None, region: str | None, year_from: int | None, year_to: int | None,
             path: str | None = None) -> SearchFilters | None:
    if year_from is not None and year_to is not None and year_from > year_to:
        raise InvalidInput(f"year_from ({year_from}) is after year_to ({year_to})")
    f = SearchFilters(doc_type=doc_type or None, region=region or None, year_from=year_from, year_to=year_to,
                      path_prefix=path or None)
    return None if f.is_empty() else f


def outline(sections: list[dict]) -> list[dict]:
    """The flat section list (each with its full heading path, in document order) as a tree:
    [{heading, start, end, children}]. A section whose parent heading is absent hangs from the
    nearest ancestor that is present."""
    roots: list[dict] = []
    stack: list[tuple[list[str], dict]] = []
    for s in sections:
        node = {"heading": s["path"][-1] if s["path"] else "", "start": s["start"], "end": s["end"], "children": []}
        while stack and not (len(stack[-1][0]) < len(s["path"]) and s["path"][:len(stack[-1][0])] == stack[-1][0]):
            stack.pop()
        (stack[-1][1]["children"] if stack else roots).append(node)
        stack.append((s["path"], node))
    return roots


AsOf = Annotated[str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description=(
    "效力日期 YYYY-MM-DD：只取该日现行有效的版本（默认今天）/ validity as of this date: only the texts in force "
    "then (default today)"))]


def build_server(kb: KnowledgeBase) -> MCPServer:
    """An MCP server whose tools read ``kb``; run it with ``.run("stdio")`` or mount its HTTP app."""
    # WARNING: the SDK configures the root logger, and INFO would log every tool call on stderr
    server = MCPServer(name="fazhi-kb", title="法治文库 fazhi-kb", instructions=INSTRUCTIONS, version="0.1.0",
                       log_level="WARNING")

    @server.tool(annotations=READ_ONLY, description=(
        "检索法治文献段落，按相关度排序，每段带出处 citation 与原文位置（doc_id, start, end, section, page）。"
        "可按文档类型、地区、年份、路径筛选；引号中的短语须原样出现。\n"
        "Search passages of Chinese rule-of-law documents, best first; each hit has its citation and exact "
        "source (doc_id, start, end, section path, page). Filters: doc_type, region, years, path prefix; "
        "\"quoted phrases\" must appear verbatim."))
    @_tool_errors
    def search(query: Query,
               k: Annotated[int, Field(ge=1, le=50, description="返回条数 / number of hits")] = 10,
               mode: Annotated[Literal["hybrid", "dense", "lexical"], Field(
                   description="hybrid（语义+关键词，默认）、dense（语义）、lexical（关键词）")] = "hybrid",
               doc_type: DocType = None, region: Region = None,
               year_from: Annotated[Year, Field(description="起始年份（含）/ earliest year, inclusive")] = None,
               year_to: Annotated[Year, Field(description="截止年份（含）/ latest year, inclusive")] = None,
               path: Annotated[str | None, Field(max_length=500, description="文档路径前缀 / path prefix")] = None,
               as_of: AsOf = None,
               all_versions: Annotated[bool, Field(description=(
                   "列出法规的所有版本（默认只列现行版本）/ every version of a law, each with its status "
                   "(default: only the version in force)"))] = False,
               ) -> CallToolResult:
        hits = kb.search(query, k=k, mode=mode, filters=_filters(doc_type, region, year_from, year_to, path),
                         as_of=as_of, all_versions=all_versions)
        return _result({"query_plan": kb.query_plan(query, as_of, mode).to_dict(),
                        "hits": [h.to_dict() for h in hits]})

    @server.tool(annotations=READ_ONLY, description=(
        "取回文档中 [start, end) 区间的原文及其出处，用于核对或逐字引用（偏移量取自 search / get_document）。\n"
        "The verbatim text of document span [start, end) with its citation, for checking or quoting "
        "(offsets as search or get_document give them)."))
    @_tool_errors
    def get_passage(doc_id: DocId, start: Offset,
                    end: Annotated[int, Field(gt=0, description="结束偏移（不含），须大于 start / end offset, "
                                                                "exclusive, greater than start")]) -> CallToolResult:
        return _result(kb.passage(doc_id, start, end))

    @server.tool(annotations=READ_ONLY, description=(
        "文档的元数据（标题、类型、地区、日期、发文机关、文号、字数、效力级别、公布/施行日期、效力状态与版本沿革）和目录（章节树，含各节起止位置）；"
        "全文仅在 include_text 为真时返回。\n"
        "A document's metadata (title, type, region, date, issuer, document number, length, level, 公布/施行 dates, "
        "validity status, versions and history) and outline "
        "(section tree with each section's span); the full text only when include_text is true."))
    @_tool_errors
    def get_document(doc_id: DocId,
                     include_text: Annotated[bool, Field(description="同时返回全文 / also return the full text")]
                     = False) -> CallToolResult:
        doc = kb.document(doc_id).to_dict()
        out = {k: doc[k] for k in ("doc_id", "path", "title", "doc_type", "region", "date", "issuer",
                                   "doc_number", "level", "organ", "promulgated", "effective", "status",
                                   "status_label", "version", "versions", "history")}
        out["chars"], out["passages"] = len(doc["text"]), len(doc["chunks"])
        out["outline"] = outline(doc["sections"])
        if include_text:
            out["text"] = doc["text"]
        return _result(out)

    @server.tool(annotations=READ_ONLY, description=(
        "就问题从文献中摘录作答，每句带 [n] 标记，对应 citations 中的出处；无依据时答「未找到相关依据」。\n"
        "Answer a question with sentences quoted from the documents, each ending in a [n] marker into "
        "`citations`; found is false (未找到相关依据) when nothing fits."))
    @_tool_errors
    def ask(question: Query,
            k: Annotated[int, Field(ge=1, le=50, description="检索段落数 / passages to answer from")] = 5,
            as_of: AsOf = None) -> CallToolResult:
        return _result(kb.ask(question, k=k, as_of=as_of).to_dict())

    @server.tool(annotations=READ_ONLY, description=(
        "对比各地（或各类型、各年份）文件对同一事项的规定：每份文件的最相关段落按组并列，"
        "并列出同类文件中未涉及该事项的组（missing）。\n"
        "Compare how regions (or doc types, years) address one topic: each document's best passage, grouped "
        "side by side, plus the groups whose documents of the same kind do not address it (missing)."))
    @_tool_errors
    def compare(query: Query,
                by: Annotated[Literal["region", "province", "doc_type", "year"], Field(
                    description="分组依据 / group by")] = "region",
                doc_type: DocType = None, region: Region = None,
                year_from: Annotated[Year, Field(description="起始年份（含）/ earliest year")] = None,
                year_to: Annotated[Year, Field(description="截止年份（含）/ latest year")] = None,
                as_of: AsOf = None) -> CallToolResult:
        return _result(kb.compare(query, by=by, filters=_filters(doc_type, region, year_from, year_to),
                                  as_of=as_of).to_dict())

    return server


def run_stdio(kb: KnowledgeBase) -> None:
    """Serve over stdin/stdout until the client closes them (how an assistant launches `kb mcp`)."""
    build_server(kb).run("stdio")
