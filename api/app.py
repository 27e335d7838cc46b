"""The HTTP API and web page over one shared KnowledgeBase.

Handlers are plain ``def`` so FastAPI runs them in its threadpool: searches run
concurrently while the index stays loaded once in ``app.state.kb``. Every error leaves
as ``{"error": code, "detail": message}`` with its proper status, never a stack trace.
"""

from __future__ import annotations

import hmac
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

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
ERRORS = {code: {"model": s.ErrorBody} for code in (400, 401, 403, 404, 413, 415, 422)}
bearer = HTTPBearer(auto_error=False, description="KB_API_KEY for writes; KB_READ_KEY (or the API key) for reads")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
DocId = Annotated[str, PathParam(description="document id, or its path (e.g. uploads/办法.txt)")]


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


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


def create_app(kb: KnowledgeBase | None = None, settings: Settings | None = None) -> FastAPI:
    """The FastAPI app. Without ``kb`` it opens ``KnowledgeBase(settings.index)`` once, here."""
    settings = settings or (kb.settings if kb is not None else Settings())
    owned = kb is None
    if kb is None:
        from kb.core import KnowledgeBase

        kb = KnowledgeBase(settings.index, settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
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
        if settings.read_key and not _key_matches(creds, settings.read_key, settings.api_key):
            raise Unauthorized("reads need 'Authorization: Bearer <KB_READ_KEY>' (missing or wrong key)")

    def write_access(creds: Credentials) -> None:
        if not settings.api_key:
            raise Forbidden("writes are disabled: the server has no KB_API_KEY configured")
        if not _key_matches(creds, settings.api_key):
            raise Unauthorized("writes need 'Authorization: Bearer <KB_API_KEY>' (missing or wrong key)")

    read = [Depends(read_access)]
    write = [Depends(write_access)]

    @app.get("/healthz", response_model=s.Health, tags=["meta"])
    def healthz() -> dict:
        return {"status": "ok", "documents": kb.stats()["documents"]}

    @app.get("/api/search", response_model=list[s.HitOut], dependencies=read, responses=ERRORS, tags=["read"])
    def search(params: Annotated[s.SearchParams, Query()]) -> list[dict]:
        """Passages matching the query, best first, each with its exact source."""
        hits = kb.search(params.q, k=params.k, mode=params.mode, filters=params.filters())
        return [h.to_dict() for h in hits]

    @app.post("/api/ask", response_model=s.AskResponse, dependencies=read, responses=ERRORS, tags=["read"])
    def ask(body: s.AskRequest) -> dict:
        """An answer quoted from the documents, every sentence with its [n] source marker."""
        return kb.ask(body.question, k=body.k)

    @app.get("/api/compare", response_model=s.CompareResponse, dependencies=read, responses=ERRORS,
             tags=["read"])
    def compare(params: Annotated[s.CompareParams, Query()]) -> dict:
        """Each document's best passage on a topic, grouped side by side."""
        return kb.compare(params.q, by=params.by, filters=params.filters())

    @app.get("/api/documents", response_model=s.DocumentList, dependencies=read, responses=ERRORS,
             tags=["read"])
    def documents(params: Annotated[s.DocumentsParams, Query()]) -> dict:
        total, rows = kb.documents(params.filters(), offset=params.offset, limit=params.limit)
        return {"total": total, "items": rows}

    @app.get("/api/documents/{doc_id:path}", response_model=s.DocumentDetail, dependencies=read,
             responses=ERRORS, tags=["read"])
    def document(doc_id: DocId) -> dict:
        """Metadata, full text, section outline and passages of one document (by id or path)."""
        return kb.document(doc_id)

    @app.get("/api/stats", response_model=s.Stats, dependencies=read, responses=ERRORS, tags=["read"])
    def stats() -> dict:
        return kb.stats()

    @app.post("/api/documents", response_model=s.IngestResult, dependencies=write, responses=ERRORS,
              tags=["write"])
    def upload(files: Annotated[list[UploadFile], File(description="one or more files: " + " ".join(SUPPORTED_SUFFIXES))]
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
              responses={**ERRORS, 200: {"description": "the excerpt file, as an attachment", "content": {
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {},
                  "text/markdown": {}}}})
    def export(body: s.ExportRequest) -> Response:
        """The quote basket as a Word or Markdown file: each exact passage with its citation."""
        from kb.export import export_passages

        passages = [kb.passage(it.doc_id, it.start, it.end) for it in body.items]
        content, media_type, name = export_passages(passages, body.format)
        ascii_name = f"excerpts.{body.format}"
        disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
        return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


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
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal_error", "internal error; see the server log")
