"""The records an outcome letter is made of: the peer review, and the draft drafted from its notes.

Plain dataclasses with a JSON form (``to_dict`` / ``from_dict``) because a draft lives three lives:
drafted here, stored as a version in the database (``store``), edited in the browser (``api``) — and
every one of those must agree on its shape. ``from_dict`` validates and names the field that is wrong,
so a bad upload or a bad edit is refused with a message, never half-stored.

Provenance: every drafted item carries the ``Span`` of the notes it came from (character offsets into
``PeerReview.notes``). An item a chair adds has no span (``source is None``) and ``origin == "chair"``;
an item a chair rewrites keeps its span and gets ``origin == "edited"``, so the HTML view can still
show where it started.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from corpora.errors import ClwstwrError

ROLES = ("good_practice", "challenge", "action", "context")
ORIGINS = ("notes", "edited", "chair")
LANGUAGES = ("en", "cy", "bilingual")
GENERAL = "general"
_OUTCOME_ID = re.compile(r"^(?:pcmw-(?:[1-9]|1[0-3])|acd-[1-7])$")


class PeerReviewError(ClwstwrError):
    """A peer-review record, its notes or a draft that cannot be used as given; names the field."""

    code = "CW600"


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] is None or (isinstance(data[key], str) and not data[key].strip()):
        raise PeerReviewError(f"{where}: missing field '{key}'")
    return data[key]


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = _require(data, key, where)
    if not isinstance(value, str):
        raise PeerReviewError(f"{where}: field '{key}' must be text, got {type(value).__name__}")
    return value.strip()


@dataclass(frozen=True)
class Span:
    """Character offsets ``[start, end)`` into the review's notes."""

    start: int
    end: int

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Span | None:
        if data is None:
            return None
        try:
            start, end = int(data["start"]), int(data["end"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PeerReviewError(f"{where}: a span needs integer 'start' and 'end'") from exc
        if not 0 <= start <= end:
            raise PeerReviewError(f"{where}: span {start}..{end} is not a range")
        return cls(start, end)


@dataclass(frozen=True)
class PeerReview:
    """One cluster peer review: who met, about which three outcomes, and what was said (the notes).

    ``health_board`` is a codebook board id (the host board the letter goes to); ``outcomes`` holds two
    PCMW ids and one ACD id, in that order.
    """

    cluster: str
    health_board: str
    review_date: date
    chair: str
    sppc_representative: str
    reviewing: str
    outcomes: tuple[str, str, str]
    attendees: tuple[str, ...]
    notes: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["review_date"] = self.review_date.isoformat()
        data["outcomes"] = list(self.outcomes)
        data["attendees"] = list(self.attendees)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "peer review") -> PeerReview:
        if not isinstance(data, dict):
            raise PeerReviewError(f"{where}: expected a mapping of fields, got {type(data).__name__}")
        raw_date = _require(data, "review_date", where)
        try:
            review_date = raw_date if isinstance(raw_date, date) else date.fromisoformat(str(raw_date).strip())
        except ValueError as exc:
            raise PeerReviewError(f"{where}: field 'review_date' must be a date like 2025-03-14, got {raw_date!r}") from exc
        outcomes = _require(data, "outcomes", where)
        if not isinstance(outcomes, (list, tuple)) or len(outcomes) != 3:
            raise PeerReviewError(f"{where}: field 'outcomes' must list three outcome ids (two PCMW, one ACD)")
        outcomes = tuple(str(o).strip().lower() for o in outcomes)
        bad = [o for o in outcomes if not _OUTCOME_ID.match(o)]
        if bad:
            raise PeerReviewError(f"{where}: field 'outcomes': {bad[0]!r} is not an outcome id (pcmw-1…pcmw-13, acd-1…acd-7)")
        if sum(o.startswith("pcmw-") for o in outcomes) != 2 or len(set(outcomes)) != 3:
            raise PeerReviewError(f"{where}: field 'outcomes' must be two different PCMW outcomes and one ACD outcome, got {list(outcomes)}")
        attendees = data.get("attendees") or []
        if not isinstance(attendees, (list, tuple)) or not all(isinstance(a, str) for a in attendees):
            raise PeerReviewError(f"{where}: field 'attendees' must be a list of names or roles")
        notes = _text(data, "notes", where)
        return cls(
            cluster=_text(data, "cluster", where),
            health_board=_text(data, "health_board", where),
            review_date=review_date,
            chair=_text(data, "chair", where),
            sppc_representative=_text(data, "sppc_representative", where),
            reviewing=_text(data, "reviewing", where),
            outcomes=outcomes,  # type: ignore[arg-type]
            attendees=tuple(a.strip() for a in attendees if a.strip()),
            notes=notes,
        )


@dataclass(frozen=True)
class DraftSentence:
    """A good-practice, challenge or context sentence placed under an outcome (or ``general``)."""

    id: str
    text: str
    role: str
    outcome: str
    themes: tuple[str, ...] = ()
    source: Span | None = None
    origin: str = "notes"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "text": self.text, "role": self.role, "outcome": self.outcome,
            "themes": list(self.themes), "source": asdict(self.source) if self.source else None,
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> DraftSentence:
        role = _text(data, "role", where)
        if role not in ROLES:
            raise PeerReviewError(f"{where}: field 'role' must be one of {', '.join(ROLES)}, got {role!r}")
        origin = str(data.get("origin") or "notes")
        if origin not in ORIGINS:
            raise PeerReviewError(f"{where}: field 'origin' must be one of {', '.join(ORIGINS)}, got {origin!r}")
        outcome = _text(data, "outcome", where)
        if outcome != GENERAL and not _OUTCOME_ID.match(outcome):
            raise PeerReviewError(f"{where}: field 'outcome' must be an outcome id or 'general', got {outcome!r}")
        return cls(
            id=_text(data, "id", where), text=_text(data, "text", where), role=role, outcome=outcome,
            themes=tuple(data.get("themes") or ()), source=Span.from_dict(data.get("source"), where), origin=origin,
        )


@dataclass(frozen=True)
class DraftAction:
    """An agreed action: what, who leads (as the notes name them), by when; blanks are flagged."""

    id: str
    text: str
    outcome: str
    owner: str | None = None
    timescale: str | None = None
    source: Span | None = None
    owner_source: Span | None = None
    timescale_source: Span | None = None
    origin: str = "notes"

    @property
    def needs_owner(self) -> bool:
        return not self.owner

    @property
    def needs_timescale(self) -> bool:
        return not self.timescale

    def to_dict(self) -> dict[str, Any]:
        span = lambda s: asdict(s) if s else None  # noqa: E731
        return {
            "id": self.id, "text": self.text, "outcome": self.outcome, "owner": self.owner,
            "timescale": self.timescale, "source": span(self.source), "owner_source": span(self.owner_source),
            "timescale_source": span(self.timescale_source), "origin": self.origin,
            "needs_owner": self.needs_owner, "needs_timescale": self.needs_timescale,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> DraftAction:
        origin = str(data.get("origin") or "notes")
        if origin not in ORIGINS:
            raise PeerReviewError(f"{where}: field 'origin' must be one of {', '.join(ORIGINS)}, got {origin!r}")
        outcome = _text(data, "outcome", where)
        if outcome != GENERAL and not _OUTCOME_ID.match(outcome):
            raise PeerReviewError(f"{where}: field 'outcome' must be an outcome id or 'general', got {outcome!r}")
        blank = lambda v: (str(v).strip() or None) if v is not None else None  # noqa: E731
        return cls(
            id=_text(data, "id", where), text=_text(data, "text", where), outcome=outcome,
            owner=blank(data.get("owner")), timescale=blank(data.get("timescale")),
            source=Span.from_dict(data.get("source"), where),
            owner_source=Span.from_dict(data.get("owner_source"), where),
            timescale_source=Span.from_dict(data.get("timescale_source"), where),
            origin=origin,
        )


@dataclass(frozen=True)
class LetterDraft:
    """Everything a letter says, before wording: the review, the sorted sentences, the actions.

    ``next_steps`` is free text the chair may add (empty in a machine draft: the template's fixed
    next-steps paragraph comes from the message catalogue).
    """

    review: PeerReview
    sentences: tuple[DraftSentence, ...]
    actions: tuple[DraftAction, ...]
    next_steps: str = ""
    drafted_by: str = "clwstwr"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "review": self.review.to_dict(),
            "sentences": [s.to_dict() for s in self.sentences],
            "actions": [a.to_dict() for a in self.actions],
            "next_steps": self.next_steps,
            "drafted_by": self.drafted_by,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LetterDraft:
        if not isinstance(data, dict):
            raise PeerReviewError(f"draft: expected a mapping, got {type(data).__name__}")
        review = PeerReview.from_dict(_require(data, "review", "draft"), "draft.review")
        sentences = tuple(
            DraftSentence.from_dict(s, f"draft.sentences[{i}]") for i, s in enumerate(data.get("sentences") or [])
        )
        actions = tuple(DraftAction.from_dict(a, f"draft.actions[{i}]") for i, a in enumerate(data.get("actions") or []))
        ids = [s.id for s in sentences] + [a.id for a in actions]
        duplicate = next((i for i in ids if ids.count(i) > 1), None)
        if duplicate:
            raise PeerReviewError(f"draft: item id {duplicate!r} is used twice")
        allowed = {*review.outcomes, GENERAL}
        for i, item in enumerate((*sentences, *actions)):
            if item.outcome not in allowed:
                raise PeerReviewError(
                    f"draft: item {item.id!r} is placed under {item.outcome!r}, which this review did not discuss "
                    f"(expected one of {', '.join(sorted(allowed))})"
                )
            if item.source and item.source.end > len(review.notes):
                raise PeerReviewError(f"draft: item {item.id!r} points past the end of the notes")
        return cls(
            review=review, sentences=sentences, actions=actions,
            next_steps=str(data.get("next_steps") or ""), drafted_by=str(data.get("drafted_by") or "clwstwr"),
            extra=dict(data.get("extra") or {}),
        )
