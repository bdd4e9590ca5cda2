"""What a suggestion is: the values the suggester returns and the JSON contract other tools read.

The JSON shape is fixed by DESIGN.md (``clwstwr suggest`` and ``POST /api/v1/suggest`` answer the same
object); fields may be added, never renamed. Every text in here is de-identified: a suggestion never
carries the original answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .outcome_mapping import TargetScore


@dataclass(frozen=True)
class ThemeSuggestion:
    id: str
    label: str
    score: float  # in [0, 1]; calibrated so that themes at or above the theme's threshold are suggested
    evidence: str  # the de-identified sentence that most supports the theme
    evidence_start: int  # offsets of ``evidence`` in ``Suggestion.text``
    evidence_end: int


@dataclass(frozen=True)
class Suggestion:
    text: str  # the de-identified answer the offsets refer to
    kind: str | None
    themes: tuple[ThemeSuggestion, ...]  # best first; empty when the answer fits no theme
    outcomes: tuple[TargetScore, ...]  # best first
    headings: tuple[TargetScore, ...]  # best first
    model: str  # identity of the model that made it (codebook version, embedder, fit hash)

    @property
    def fits_none(self) -> bool:
        return not self.themes

    def to_json(self) -> dict[str, object]:
        return {
            "themes": [
                {
                    "id": t.id,
                    "label": t.label,
                    "score": round(t.score, 4),
                    "evidence": t.evidence,
                    "evidence_start": t.evidence_start,
                    "evidence_end": t.evidence_end,
                }
                for t in self.themes
            ],
            "outcomes": [{"id": o.id, "label": o.label, "score": round(o.score, 4)} for o in self.outcomes],
            "headings": [{"id": h.id, "label": h.label, "score": round(h.score, 4)} for h in self.headings],
            "fits_none": self.fits_none,
            "kind": self.kind,
            "text": self.text,
            "model": self.model,
        }


class Suggests(Protocol):
    """Anything that turns answers into suggestions (the API and CLI depend on this, not a class)."""

    def suggest(self, text: str, kind: str | None = None) -> Suggestion: ...

    def suggest_many(self, texts: Sequence[str], kinds: Sequence[str | None]) -> list[Suggestion]: ...
