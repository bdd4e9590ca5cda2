"""Request and response bodies at the HTTP edge (pydantic lives here, not in the core)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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


# ------------------------------------------------------------------------------- peer reviews and letters


class ReviewIn(BaseModel):
    """A peer review as JSON. The checks that need the codebook (two PCMW + one ACD outcome, a known
    health board) happen after this, with the same field names in their messages."""

    model_config = ConfigDict(extra="forbid")

    cluster: str = Field(max_length=300, description="the reviewed cluster")
    health_board: str = Field(max_length=300, description="host health board: id (hduhb) or a name people use (Hywel Dda UHB)")
    review_date: str = Field(description="date of the review meeting, e.g. 2025-03-14")
    chair: str = Field(max_length=300, description="the independent chair who signs the letter")
    sppc_representative: str = Field(max_length=300)
    reviewing: str = Field(max_length=300, description="the reviewing cluster / health board")
    outcomes: list[str] | None = Field(
        default=None,
        description="two PCMW outcomes then one ACD outcome, as ids or 'PCMW 7' (['pcmw-3', 'pcmw-7', 'acd-2']); "
        "absent = the health board's allocation in the 2022/23 report's Appendix B",
    )
    attendees: list[str] = Field(default_factory=list)
    notes: str = Field(max_length=200_000, description="the meeting notes as text")
    round: str | None = Field(default=None, description="name of a stored round this review belongs to (optional)")


class ReviewOut(BaseModel):
    id: int
    round: str | None
    review: dict[str, Any]
    notes_filename: str | None
    created_by: str
    created_at: datetime
    letter_ids: list[int]


class LetterVersionOut(BaseModel):
    letter_id: int
    review_id: int
    version: int
    created_by: str
    created_at: datetime
    comment: str | None
    draft: dict[str, Any] = Field(description="the whole draft (LetterDraft JSON): review, sentences, actions, next_steps")


class VersionSummaryOut(BaseModel):
    version: int
    created_by: str
    created_at: datetime
    comment: str | None


class VersionListOut(BaseModel):
    letter_id: int
    versions: list[VersionSummaryOut]


class LetterEditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_version: int = Field(ge=1, description="the version this edit was made against (the one the editor loaded)")
    draft: dict[str, Any] = Field(description="the whole edited draft, in the shape GET returns")
    comment: str | None = Field(default=None, max_length=2000, description="why, shown in the version history")


class ItemChangeOut(BaseModel):
    id: str
    kind: str = Field(description="sentence, action, next_steps or review")
    change: str = Field(description="changed, added or removed")
    fields: list[str] = Field(description="the fields that differ (for a changed item)")
    before: Any = None
    after: Any = None


class LetterComparisonOut(BaseModel):
    letter_id: int
    from_version: int
    to_version: int
    language: str
    diff: str = Field(description="unified diff of the two versions' letter text")
    items: list[ItemChangeOut]
