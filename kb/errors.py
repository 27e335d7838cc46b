"""Typed errors shared by the core, the CLI and the HTTP API.

Each carries its HTTP status, so the API turns any of them into one JSON body
shape ``{"error": code, "detail": message}`` and the CLI prints the message.
"""

from __future__ import annotations


class KBError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class InvalidInput(KBError):
    status = 422
    code = "invalid_input"


class NotFound(KBError):
    status = 404
    code = "not_found"


class Unauthorized(KBError):
    status = 401
    code = "unauthorized"


class Forbidden(KBError):
    status = 403
    code = "forbidden"


class TooLarge(KBError):
    status = 413
    code = "too_large"


class UnsupportedType(KBError):
    status = 415
    code = "unsupported_type"


class StaleQuote(KBError):
    """A quotation no longer matches the stored text (its document changed since it was taken)."""

    status = 409
    code = "quote_changed"


class IndexMismatch(KBError):
    """The index on disk was built differently (embedder, dimension, version)."""

    status = 409
    code = "index_mismatch"


class Unavailable(KBError):
    """A service the index lives in (the PostgreSQL database, the Milvus endpoint) cannot be reached."""

    status = 503
    code = "unavailable"
