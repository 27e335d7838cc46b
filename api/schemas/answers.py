"""Answers and comparisons: ask, compare groups, the comparison matrix."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import DATE, GroupBy
from api.schemas.search import HitOut


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
