"""The quote basket: passages and their export."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
