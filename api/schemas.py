"""Request and response bodies at the HTTP edge (pydantic lives here, not in the core)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SuggestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=20_000, description="the answer or sentence to code")
    kind: str | None = Field(default=None, description="question kind (barrier, enabler, ...); absent = all themes")


class ThemeOut(BaseModel):
    id: str
    label: str
    score: float
    evidence: str
    evidence_start: int
    evidence_end: int


class TargetOut(BaseModel):
    id: str
    label: str
    score: float


class SuggestResponse(BaseModel):
    themes: list[ThemeOut]
    outcomes: list[TargetOut]
    headings: list[TargetOut]
    fits_none: bool
    kind: str | None
    text: str
    model: str


class Health(BaseModel):
    status: str
    database: str
    suggester: str
