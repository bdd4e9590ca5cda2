"""Repository for peer reviews and outcome letters: the only code that reads or writes their tables.

Like ``store/rounds.py``, functions take a Session and plain values (the review as the mapping
``PeerReview.to_dict()`` gives, a draft as ``LetterDraft.to_dict()``) and return frozen records, so
``store`` never needs the ``letters`` package and callers decide the transaction boundary.

Edits are optimistic: an edit names the version it was made against, and is refused
(``StaleDraftError``) unless that is still the latest. Two guards make this hold under concurrent
writers: on PostgreSQL the letter row is locked (``SELECT ... FOR UPDATE``) while the next version is
chosen, and on every database the unique ``(letter_id, version)`` constraint refuses a second
"version n+1" — that failure is reported as a stale edit, never as a crash, and never overwrites.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from corpora.errors import ClwstwrError

from .letter_tables import Letter, LetterVersion, PeerReviewRow
from .rounds import require_round
from .schema import Event, Round

REVIEW_FIELDS = (
    "cluster", "health_board", "review_date", "chair", "sppc_representative", "reviewing",
    "outcomes", "attendees", "notes",
)


class DraftNotFoundError(ClwstwrError):
    """No letter with that id, or the letter has no such version."""

    code = "CW610"


class StaleDraftError(ClwstwrError):
    """An edit made against a version that is no longer the latest (HTTP 409).

    Carries the numbers so the API can tell the editor which version to reload.
    """

    code = "CW611"

    def __init__(self, message: str, *, letter_id: int, base_version: int, current_version: int) -> None:
        super().__init__(message)
        self.letter_id = letter_id
        self.base_version = base_version
        self.current_version = current_version

    @property
    def details(self) -> dict[str, int]:
        return {"letter_id": self.letter_id, "base_version": self.base_version, "latest_version": self.current_version}


class ReviewNotFoundError(ClwstwrError):
    """No peer review with that id."""

    code = "CW612"


@dataclass(frozen=True)
class StoredReview:
    """A peer review as stored; ``record`` has the shape of ``PeerReview.to_dict()``."""

    id: int
    round_name: str | None
    record: Mapping[str, Any]
    notes_filename: str | None
    created_by: str
    created_at: datetime
    letter_ids: tuple[int, ...]


@dataclass(frozen=True)
class StoredVersion:
    """One saved version of a letter with its whole draft (``LetterDraft.to_dict()``)."""

    letter_id: int
    review_id: int
    version: int
    payload: Mapping[str, Any]
    created_by: str
    created_at: datetime
    comment: str | None


@dataclass(frozen=True)
class VersionSummary:
    """A version without its draft: what a history list shows."""

    version: int
    created_by: str
    created_at: datetime
    comment: str | None


# ------------------------------------------------------------------------------------------- reviews


def create_review(
    session: Session,
    record: Mapping[str, Any],
    *,
    actor: str,
    notes_filename: str | None = None,
    round_name: str | None = None,
) -> StoredReview:
    """Store a validated review (the caller validates with ``PeerReview.from_dict``) and log it."""
    missing = [key for key in REVIEW_FIELDS if key not in record]
    if missing:
        raise ValueError(f"review record lacks {missing}: validate it with PeerReview.from_dict first")
    round_ = require_round(session, round_name) if round_name else None
    raw_date = record["review_date"]
    row = PeerReviewRow(
        round_id=round_.id if round_ else None,
        cluster=record["cluster"],
        health_board=record["health_board"],
        review_date=raw_date if isinstance(raw_date, date) else date.fromisoformat(str(raw_date)),
        chair=record["chair"],
        sppc_representative=record["sppc_representative"],
        reviewing=record["reviewing"],
        outcomes=list(record["outcomes"]),
        attendees=list(record.get("attendees") or []),
        notes=record["notes"],
        notes_filename=notes_filename,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    session.add(Event(actor=actor, kind="review.created", round_id=row.round_id,
                      payload={"review_id": row.id, "cluster": row.cluster, "notes_filename": notes_filename}))
    session.flush()
    return _review(session, row)


def get_review(session: Session, review_id: int) -> StoredReview:
    row = session.get(PeerReviewRow, review_id)
    if row is None:
        raise ReviewNotFoundError(f"no peer review with id {review_id}")
    return _review(session, row)


def _review(session: Session, row: PeerReviewRow) -> StoredReview:
    round_name = session.scalar(select(Round.name).where(Round.id == row.round_id)) if row.round_id else None
    letter_ids = session.scalars(select(Letter.id).where(Letter.review_id == row.id).order_by(Letter.id)).all()
    record = {
        "cluster": row.cluster, "health_board": row.health_board, "review_date": row.review_date.isoformat(),
        "chair": row.chair, "sppc_representative": row.sppc_representative, "reviewing": row.reviewing,
        "outcomes": list(row.outcomes), "attendees": list(row.attendees or []), "notes": row.notes,
    }
    return StoredReview(
        id=row.id, round_name=round_name, record=record, notes_filename=row.notes_filename,
        created_by=row.created_by, created_at=row.created_at, letter_ids=tuple(letter_ids),
    )


# ------------------------------------------------------------------------------------------- letters


def create_letter(
    session: Session, review_id: int, draft_payload: Mapping[str, Any], actor: str, comment: str | None = None
) -> StoredVersion:
    """A new letter for the review, its machine draft stored as version 1."""
    review = session.get(PeerReviewRow, review_id)
    if review is None:
        raise ReviewNotFoundError(f"no peer review with id {review_id}")
    letter = Letter(review_id=review_id, created_by=actor)
    session.add(letter)
    session.flush()
    row = LetterVersion(letter_id=letter.id, version=1, payload=dict(draft_payload), created_by=actor,
                        comment=comment)
    session.add(row)
    session.add(Event(actor=actor, kind="letter.created", round_id=review.round_id,
                      payload={"letter_id": letter.id, "review_id": review_id, "version": 1}))
    session.flush()
    return _version(row, review_id)


def _letter(session: Session, letter_id: int, *, lock: bool = False) -> Letter:
    query = select(Letter).where(Letter.id == letter_id)
    if lock:
        query = query.with_for_update()
    letter = session.scalar(query)
    if letter is None:
        raise DraftNotFoundError(f"no letter with id {letter_id}")
    return letter


def _latest_number(session: Session, letter_id: int) -> int:
    return int(session.scalar(select(func.max(LetterVersion.version)).where(LetterVersion.letter_id == letter_id)) or 0)


def latest_version(session: Session, letter_id: int) -> StoredVersion:
    letter = _letter(session, letter_id)
    row = session.scalar(
        select(LetterVersion).where(LetterVersion.letter_id == letter_id).order_by(LetterVersion.version.desc()).limit(1)
    )
    if row is None:  # a letter is created with its version 1 in one transaction; this is corruption
        raise DraftNotFoundError(f"letter {letter_id} has no versions")
    return _version(row, letter.review_id)


def get_version(session: Session, letter_id: int, version: int) -> StoredVersion:
    letter = _letter(session, letter_id)
    row = session.scalar(
        select(LetterVersion).where(LetterVersion.letter_id == letter_id, LetterVersion.version == version)
    )
    if row is None:
        latest = _latest_number(session, letter_id)
        raise DraftNotFoundError(f"letter {letter_id} has no version {version} (its versions are 1 to {latest})")
    return _version(row, letter.review_id)


def list_versions(session: Session, letter_id: int) -> list[VersionSummary]:
    _letter(session, letter_id)
    rows = session.execute(
        select(LetterVersion.version, LetterVersion.created_by, LetterVersion.created_at, LetterVersion.comment)
        .where(LetterVersion.letter_id == letter_id)
        .order_by(LetterVersion.version)
    ).all()
    return [VersionSummary(version=v, created_by=by, created_at=at, comment=c) for v, by, at, c in rows]


def save_edit(
    session: Session,
    letter_id: int,
    base_version: int,
    payload: Mapping[str, Any],
    actor: str,
    comment: str | None = None,
) -> StoredVersion:
    """Store ``payload`` as the next version if ``base_version`` is still the latest.

    Raises ``StaleDraftError`` naming the latest version otherwise. When the unique constraint is what
    refused the edit (a writer raced us), the session is rolled back before raising, so anything else
    the caller did in this transaction is undone too: call this last, in its own unit of work.
    """
    letter = _letter(session, letter_id, lock=True)
    latest = _latest_number(session, letter_id)
    if base_version != latest:
        if not 1 <= base_version <= latest:
            raise StaleDraftError(
                f"letter {letter_id} has no version {base_version} to edit: the latest is version {latest}. "
                f"Reload version {latest}, apply your changes to it and save again; nothing from this edit was stored",
                letter_id=letter_id, base_version=base_version, current_version=latest,
            )
        who = session.scalar(
            select(LetterVersion.created_by).where(LetterVersion.letter_id == letter_id, LetterVersion.version == latest)
        )
        raise StaleDraftError(
            f"letter {letter_id} has changed since version {base_version}: the latest is version {latest} "
            f"(saved by {who}). Reload version {latest}, apply your changes to it and save again; "
            "nothing from this edit was stored",
            letter_id=letter_id, base_version=base_version, current_version=latest,
        )
    row = LetterVersion(letter_id=letter_id, version=latest + 1, payload=dict(payload), created_by=actor,
                        comment=comment)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise StaleDraftError(
            f"letter {letter_id} was saved by someone else at the same moment as version {latest + 1}. "
            f"Reload the latest version, apply your changes to it and save again; nothing from this edit was stored",
            letter_id=letter_id, base_version=base_version, current_version=latest + 1,
        ) from None
    review_round = session.scalar(select(PeerReviewRow.round_id).where(PeerReviewRow.id == letter.review_id))
    session.add(Event(actor=actor, kind="letter.edited", round_id=review_round,
                      payload={"letter_id": letter_id, "version": row.version, "base_version": base_version,
                               "comment": comment}))
    session.flush()
    return _version(row, letter.review_id)


def _version(row: LetterVersion, review_id: int) -> StoredVersion:
    return StoredVersion(
        letter_id=row.letter_id, review_id=review_id, version=row.version, payload=row.payload,
        created_by=row.created_by, created_at=row.created_at, comment=row.comment,
    )
