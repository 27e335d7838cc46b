"""The HTTP API and web page over one shared KnowledgeBase.

Handlers are plain ``def`` so FastAPI runs them in its threadpool: searches run
concurrently while the index stays loaded once in ``app.state.kb``. Every error leaves
as ``{"error": code, "detail": message}`` with its proper status, never a stack trace.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api import schemas as s
from ingest import SUPPORTED_SUFFIXES
from kb.errors import Forbidden, InvalidInput, KBError, NotFound, TooLarge, Unauthorized, UnsupportedType
from kb.settings import Settings

if TYPE_CHECKING:
    from kb.core import KnowledgeBase

log = logging.getLogger("kb.api")
STATIC = Path(__file__).parent / "static"
UPLOAD_SUFFIXES = SUPPORTED_SUFFIXES  # every format `kb ingest` reads
UPLOAD_DIR = "uploads/"
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": s.ErrorBody} for code in (400, 401, 403, 404, 413, 415, 422)}
EXPORT_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 409: {"model": s.ErrorBody, "description": "a quotation no longer matches the stored text"}}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
bearer = HTTPBearer(auto_error=False, description="KB_API_KEY for writes; KB_READ_KEY (or the API key) for reads")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
DocId = Annotated[str, PathParam(description="document id, or its path (e.g. uploads/办法.txt)")]


def _error(status: int, code: str, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    if status == 401:  # RFC 9110: a 401 names the scheme that would work
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def _key_matches(creds: HTTPAuthorizationCredentials | None, *keys: str) -> bool:
    given = creds.credentials.encode() if creds else b""
    return bool(given) and any(k and hmac.compare_digest(given, k.encode()) for k in keys)


def safe_upload_name(filename: str | None) -> str:
    """The client's file name without any directory part (../../x.txt, C:\\x.txt, /etc/x → x…)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip().lstrip(".").strip()
    if not name:
        raise InvalidInput(f"file name {filename!r}: empty once directories are removed")
    if len(name) > 200:  # keep the suffix, which decides the parser
        suffix = Path(name).suffix[:10]
        name = name[: 200 - len(suffix)] + suffix
    return name


def _attachment(content: bytes, media_type: str, name: str, ascii_name: str) -> Response:
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


def create_app(kb: KnowledgeBase | None = None, settings: Settings | None = None, mcp: bool = False,
               host: str = "127.0.0.1") -> FastAPI:
    """The FastAPI app. Without ``kb`` it opens ``KnowledgeBase(settings.index)`` once, here.
    ``mcp`` adds the MCP tools at /mcp (streamable HTTP); ``host`` is where the server listens."""
    settings = settings or (kb.settings if kb is not None else Settings())
    owned = kb is None
    if kb is None:
        from kb.core import KnowledgeBase

        kb = KnowledgeBase(settings.index, settings=settings)
    mcp_server = None
    if mcp:
        from kb.mcp_server import build_server

        mcp_server = build_server(kb)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # a mounted app's own lifespan never runs: the MCP sessions' task group is started here
        async with mcp_server.session_manager.run() if mcp_server else nullcontext():
            yield
        if owned:
            kb.close()

    app = FastAPI(title="法治文库 API", version="0.1.0", lifespan=lifespan,
                  description="Search, Q&A, comparison and excerpt export over Chinese rule-of-law documents; "
                              "every passage carries its exact source.")
    app.state.kb = kb
    app.state.settings = settings
    _install_error_handlers(app)

    def read_access(creds: Credentials) -> None:
        if not _key_matches(creds, settings.read_key, settings.api_key):
            raise Unauthorized("reads need 'Authorization: Bearer <KB_READ_KEY>' (missing or wrong key)")

    def write_access(creds: Credentials) -> None:
        if not _key_matches(creds, settings.api_key):
            raise Unauthorized("writes need 'Authorization: Bearer <KB_API_KEY>' (missing or wrong key)")

    def writes_disabled() -> None:
        raise Forbidden("writes are disabled: the server has no KB_API_KEY configured")

    # The schema declares the bearer scheme only where this server asks for it (a Depends on
    # `bearer` is what puts it there): reads when KB_READ_KEY is set, writes when KB_API_KEY is.
    # Without KB_API_KEY writes are refused with 403 whatever is sent, so no scheme is declared.
    read = [Depends(read_access)] if settings.read_key else []
    write = [Depends(write_access)] if settings.api_key else [Depends(writes_disabled)]

    @app.get("/healthz", response_model=s.Health, tags=["meta"])
    def healthz() -> dict:
        return {"status": "ok", "documents": kb.stats()["documents"]}

    @app.get("/api/search", response_model=s.SearchOut, dependencies=read, responses=ERRORS, tags=["read"])
    def search(params: Annotated[s.SearchParams, Query()]) -> dict:
        """Passages matching the query, best first, each with its exact source, and the query plan."""
        hits = kb.search(params.q, k=params.k, mode=params.mode, filters=params.filters(),
                         as_of=params.as_of, all_versions=params.all_versions)
        return {"query_plan": kb.query_plan(params.q, params.as_of, params.mode).to_dict(),
                "hits": [h.to_dict() for h in hits]}

    @app.post("/api/ask", response_model=s.AskResponse, dependencies=read, responses=ERRORS, tags=["read"])
    def ask(body: s.AskRequest) -> dict:
        """An answer quoted from the documents, every sentence with its [n] source marker."""
        return kb.ask(body.question, k=body.k, as_of=body.as_of).to_dict()

    @app.get("/api/compare", response_model=s.CompareResponse, dependencies=read, responses=ERRORS,
             tags=["read"])
    def compare(params: Annotated[s.CompareParams, Query()]) -> dict:
        """Each document's best passage on a topic, grouped side by side."""
        return kb.compare(params.q, by=params.by, filters=params.filters(), as_of=params.as_of).to_dict()

    @app.get("/api/compare/matrix", response_model=s.MatrixResponse, dependencies=read, responses=ERRORS,
             tags=["read"])
    def compare_matrix(params: Annotated[s.MatrixParams, Query()]) -> dict:
        """Comparison matrix (对比表): aspects × places, each cell the best passage or null (未见相关规定)."""
        return kb.matrix(params.q, aspects=params.aspects, places=params.places, by=params.by,
                         filters=params.filters(), as_of=params.as_of)

    @app.get("/api/compare/matrix/export", response_class=Response, response_model=None, dependencies=read,
             tags=["read"], responses={**EXPORT_ERRORS, 200: {"description": "the matrix file, as an attachment",
                                                             "content": {DOCX: {}, "text/markdown": {}, "text/csv": {}}}})
    def compare_matrix_export(params: Annotated[s.MatrixExportParams, Query()]) -> Response:
        """The comparison matrix as a Word table in the 公文 layout (with a numbered 出处 list), Markdown or CSV."""
        from kb.matrix_export import export_matrix

        m = kb.matrix(params.q, aspects=params.aspects, places=params.places, by=params.by,
                      filters=params.filters(), as_of=params.as_of)
        content, media_type, name = export_matrix(kb, m, params.format)
        return _attachment(content, media_type, name, f"matrix.{params.format}")

    @app.get("/api/passage", response_model=s.PassageOut, dependencies=read, responses=ERRORS, tags=["read"])
    def passage(params: Annotated[s.PassageParams, Query()]) -> dict:
        """An exact span of a document with its citation narrowed to the article or section it falls in
        (for quoting a selected sentence)."""
        return kb.passage(params.doc_id, params.start, params.end)

    @app.get("/api/documents", response_model=s.DocumentList, dependencies=read, responses=ERRORS,
             tags=["read"])
    def documents(params: Annotated[s.DocumentsParams, Query()]) -> dict:
        total, rows = kb.documents(params.filters(), offset=params.offset, limit=params.limit,
                                   status=params.status, as_of=params.as_of)
        return {"total": total, "items": rows}

    @app.get("/api/versions", response_model=s.VersionsResponse, dependencies=read, responses=ERRORS,
             tags=["read"])
    def versions(params: Annotated[s.VersionsParams, Query()]) -> dict:
        """Every version of a text (by title, doc_id or path): status, dates and history, newest first."""
        return kb.versions(params.q, as_of=params.as_of)

    @app.get("/api/documents/{doc_id:path}", response_model=s.DocumentDetail, dependencies=read,
             responses=ERRORS, tags=["read"])
    def document(doc_id: DocId) -> dict:
        """Metadata, full text, section outline and passages of one document (by id or path)."""
        return kb.document(doc_id).to_dict()

    @app.get("/api/stats", response_model=s.Stats, dependencies=read, responses=ERRORS, tags=["read"])
    def stats() -> dict:
        return kb.stats()

    @app.post("/api/documents", response_model=s.IngestResult, dependencies=write, responses=ERRORS,
              tags=["write"])
    def upload(files: Annotated[list[UploadFile], File(
            min_length=1, description="one or more files: " + " ".join(SUPPORTED_SUFFIXES) + " (else 415)")]
               ) -> dict:
        """Ingest uploaded files as uploads/<file name>; the whole request is refused if any file is bad."""
        batch = []
        for f in files:
            name = safe_upload_name(f.filename)
            if not name.lower().endswith(UPLOAD_SUFFIXES):
                raise UnsupportedType(f"{name}: unsupported file type; allowed: {' '.join(UPLOAD_SUFFIXES)}")
            data = f.file.read(settings.max_upload_bytes + 1)
            if len(data) > settings.max_upload_bytes:
                raise TooLarge(f"{name}: larger than the upload limit of {settings.max_upload_bytes} bytes")
            batch.append((UPLOAD_DIR + name, data))
        return kb.ingest_bytes(batch).to_dict()

    @app.delete("/api/documents/{doc_id:path}", response_model=s.Deleted, dependencies=write,
                responses=ERRORS, tags=["write"])
    def delete(doc_id: DocId) -> dict:
        if not kb.remove(doc_id):
            raise NotFound(f"no document '{doc_id}' in this index")
        return {"deleted": True, "doc_id": doc_id}

    @app.post("/api/export", response_class=Response, response_model=None, dependencies=read, tags=["read"],
              responses={**EXPORT_ERRORS, 200: {"description": "the excerpt file, as an attachment", "content": {
                  DOCX: {}, "text/markdown": {}}}})
    def export(body: s.ExportRequest) -> Response:
        """The quote basket as a Word file in the 公文 layout or as Markdown: each passage verbatim (checked
        against the stored text) with its citation, and a numbered 出处 list."""
        from kb.export import export_passages, stored_quotes

        passages = stored_quotes(kb, [it.model_dump() for it in body.items])
        content, media_type, name = export_passages(passages, body.format)
        return _attachment(content, media_type, name, f"excerpts.{body.format}")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if mcp_server is not None:
        _add_mcp_route(app, mcp_server, settings, host)
    return app


def _add_mcp_route(app: FastAPI, server, settings: Settings, host: str) -> None:
    """MCP over streamable HTTP at exactly /mcp (a mount would redirect /mcp to /mcp/, which not
    every assistant follows), behind the read key like the other reads; not in the OpenAPI schema.
    Stateless, JSON responses: the tools are read-only, so no session needs to outlive a request."""
    from starlette.routing import Route

    inner = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True,
                                       host=host)

    class Guarded:  # an ASGI app, not a function: Starlette then passes every method through
        async def __call__(self, scope, receive, send) -> None:
            if settings.read_key and not _key_matches(await bearer(Request(scope)), settings.read_key,
                                                      settings.api_key):
                await _error(401, "unauthorized", "MCP needs 'Authorization: Bearer <KB_READ_KEY>' "
                                                  "(missing or wrong key)")(scope, receive, send)
                return
            await inner(scope, receive, send)

    app.router.routes.append(Route("/mcp", endpoint=Guarded()))


def _allowed_methods(request: Request) -> str:
    """The methods of every route at this path, for a 405's Allow header (RFC 9110). Starlette's
    own lists only the first matching route's, e.g. GET but not DELETE for one document."""
    methods: set[str] = set()
    for route in request.app.routes:
        if getattr(route, "methods", None) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KBError)
    async def kb_error(request: Request, exc: KBError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "bad_request", "request body is not valid JSON")
        parts = []
        for e in errors:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body", "path"))
            parts.append(f"{loc or 'request'}: {e.get('msg', 'invalid')}")
        return _error(422, "invalid_input", "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "too_large", 415: "unsupported_type"}.get(exc.status_code, "error")
        headers = {"Allow": _allowed_methods(request)} if exc.status_code == 405 else exc.headers
        return _error(exc.status_code, code, str(exc.detail), headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal_error", "internal error; see the server log")
