"""Pydantic models of the HTTP API: request validation and the OpenAPI description.

The core hands out plain dicts/dataclasses (kb.records); these models only describe and
check them at the edge, so the pipeline never depends on pydantic. One module per area:

common.py     modes, statuses, levels, the error body
search.py     hits, the query plan, query parameters
answers.py    ask, compare, the comparison matrix
documents.py  documents, versions, stats, uploads
export.py     the quote basket's passages and export
"""

from api.schemas.answers import (
    AskRequest,
    AskResponse,
    CompareGroup,
    CompareResponse,
    MatrixCell,
    MatrixResponse,
)
from api.schemas.common import AS_OF, DATE, ErrorBody, GroupBy, Level, Mode, Status
from api.schemas.documents import (
    ChunkOut,
    Deleted,
    DocumentDetail,
    DocumentList,
    DocumentRow,
    DocumentsParams,
    FailedFile,
    Health,
    IngestReportOut,
    IngestResult,
    SectionOut,
    Stats,
    ValidityOut,
    VersionOut,
    VersionsParams,
    VersionsResponse,
)
from api.schemas.export import ExportItem, ExportRequest, PassageOut, PassageParams
from api.schemas.search import (
    AlsoIn,
    CompareParams,
    HistoryEvent,
    HitOut,
    MatrixExportParams,
    MatrixParams,
    QueryParams,
    QueryPlanOut,
    SearchOut,
    SearchParams,
    VersionRef,
)

__all__ = ["AS_OF", "AlsoIn", "AskRequest", "AskResponse", "ChunkOut", "CompareGroup", "CompareParams", "CompareResponse", "DATE", "Deleted", "DocumentDetail", "DocumentList", "DocumentRow", "DocumentsParams", "ErrorBody", "ExportItem", "ExportRequest", "FailedFile", "GroupBy", "Health", "HistoryEvent", "HitOut", "IngestReportOut", "IngestResult", "Level", "MatrixCell", "MatrixExportParams", "MatrixParams", "MatrixResponse", "Mode", "PassageOut", "PassageParams", "QueryParams", "QueryPlanOut", "SearchOut", "SearchParams", "SectionOut", "Stats", "Status", "ValidityOut", "VersionOut", "VersionRef", "VersionsParams", "VersionsResponse"]
