"""Shared types of the HTTP API's models: modes, statuses, levels, the error body."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

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
