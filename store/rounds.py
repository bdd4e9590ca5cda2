"""Repository for rounds and their submissions: the only code that reads or writes those tables.

Functions take a Session and plain values and return plain values, so the CLI, the API and the batch
jobs share one implementation and callers decide the transaction boundary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from corpora.errors import ClwstwrError

from .schema import Answer, AnswerSuggestion, Event, ImportBatch, MaturityRating, Round, Submission, SuggestionRun


class RoundNotFoundError(ClwstwrError):
    code = "CW300"


class SubmissionNotFoundError(ClwstwrError):
    code = "CW301"


class SubmissionLike(Protocol):
    """What ``add_submissions`` needs of a parsed record (the importer's SubmissionRecord fits)."""

    row: int
    external_id: str | None
    started_at: datetime | None
    completed_at: datetime | None
    cluster_name: str
    health_board_id: str
    team_stage_id: str | None
    ratings: Mapping[str, str]
    answers: Mapping[str, str]

    @property
    def cluster_key(self) -> str: ...

    def content_hash(self) -> str: ...


@dataclass(frozen=True)
class StoredSubmission:
    """A submission as plain data: what summaries and reports are computed from."""

    cluster_name: str
    health_board_id: str
    team_stage_id: str | None
    ratings: Mapping[str, str]
    answers: Mapping[str, str]


@dataclass(frozen=True)
class RoundData:
    name: str
    total_clusters: int
    submissions: tuple[StoredSubmission, ...]


@dataclass(frozen=True)
class StoredKey:
    content_hash: str
    source_name: str
    source_row: int


def get_round(session: Session, name: str) -> Round | None:
    return session.scalar(select(Round).where(Round.name == name))


def require_round(session: Session, name: str) -> Round:
    found = get_round(session, name)
    if found is None:
        names = list_round_names(session)
        known = ", ".join(names) if names else "none yet: import a file first"
        raise RoundNotFoundError(f"no round named '{name}' (stored rounds: {known})")
    return found


def list_round_names(session: Session) -> list[str]:
    return list(session.scalars(select(Round.name).order_by(Round.name)))


def get_or_create_round(session: Session, name: str, total_clusters: int = 60) -> Round:
    found = get_round(session, name)
    if found is not None:
        return found
    created = Round(name=name, total_clusters=total_clusters)
    session.add(created)
    session.flush()
    return created


def find_import(session: Session, round_id: int, sha256: str) -> ImportBatch | None:
    return session.scalar(select(ImportBatch).where(ImportBatch.round_id == round_id, ImportBatch.sha256 == sha256))


def stored_keys(session: Session, round_id: int) -> dict[str, StoredKey]:
    """cluster key -> what is stored for it, to tell a repeated submission from a conflicting one."""
    rows = session.execute(
        select(Submission.cluster_key, Submission.content_hash, ImportBatch.source_name, Submission.source_row)
        .join(ImportBatch, Submission.import_batch_id == ImportBatch.id)
        .where(Submission.round_id == round_id)
    )
    return {key: StoredKey(h, src, r) for key, h, src, r in rows}


def add_import(
    session: Session,
    round_: Round,
    *,
    source_name: str,
    sha256: str,
    file_format: str,
    records: Iterable[SubmissionLike],
    actor: str,
) -> ImportBatch:
    """Store one file's submissions and the event recording it. The caller owns the transaction."""
    records = list(records)
    batch = ImportBatch(
        round_id=round_.id,
        source_name=source_name,
        sha256=sha256,
        file_format=file_format,
        rows_stored=len(records),
        imported_by=actor,
    )
    session.add(batch)
    session.flush()
    for record in records:
        submission = Submission(
            round_id=round_.id,
            import_batch_id=batch.id,
            source_row=record.row,
            external_id=record.external_id,
            cluster_name=record.cluster_name,
            cluster_key=record.cluster_key,
            health_board_id=record.health_board_id,
            team_stage_id=record.team_stage_id,
            started_at=record.started_at,
            completed_at=record.completed_at,
            content_hash=record.content_hash(),
        )
        submission.ratings = [MaturityRating(outcome_id=o, level_id=lv) for o, lv in sorted(record.ratings.items())]
        submission.answers = [Answer(question_id=q, text=t) for q, t in sorted(record.answers.items())]
        session.add(submission)
    session.add(
        Event(
            actor=actor,
            kind="import",
            round_id=round_.id,
            payload={"source": source_name, "sha256": sha256, "rows_stored": len(records), "batch_id": batch.id},
        )
    )
    session.flush()
    return batch


def load_round(session: Session, name: str) -> RoundData:
    """Everything a summary needs from a round, as plain frozen records, in a stable order."""
    round_ = require_round(session, name)
    submissions = session.scalars(
        select(Submission)
        .where(Submission.round_id == round_.id)
        .options(selectinload(Submission.ratings), selectinload(Submission.answers))
        .order_by(Submission.cluster_key)
    )
    out = tuple(
        StoredSubmission(
            cluster_name=s.cluster_name,
            health_board_id=s.health_board_id,
            team_stage_id=s.team_stage_id,
            ratings={r.outcome_id: r.level_id for r in s.ratings},
            answers={a.question_id: a.text for a in s.answers},
        )
        for s in submissions
    )
    return RoundData(name=round_.name, total_clusters=round_.total_clusters, submissions=out)


def set_rating(
    session: Session, round_name: str, cluster_key: str, outcome_id: str, level_id: str | None, actor: str
) -> None:
    """Change (or clear, with None) one stored rating, leaving an event with the old and new level."""
    round_ = require_round(session, round_name)
    submission = session.scalar(
        select(Submission).where(Submission.round_id == round_.id, Submission.cluster_key == cluster_key)
    )
    if submission is None:
        raise SubmissionNotFoundError(f"round '{round_name}' has no submission for cluster '{cluster_key}'")
    current = next((r for r in submission.ratings if r.outcome_id == outcome_id), None)
    old = current.level_id if current else None
    if current is not None and level_id is None:
        submission.ratings.remove(current)
    elif current is not None and level_id is not None:
        current.level_id = level_id
    elif level_id is not None:
        submission.ratings.append(MaturityRating(outcome_id=outcome_id, level_id=level_id))
    session.add(
        Event(
            actor=actor,
            kind="rating_changed",
            round_id=round_.id,
            payload={"cluster": cluster_key, "outcome": outcome_id, "from": old, "to": level_id},
        )
    )
    session.flush()


def count_rows(session: Session) -> dict[str, int]:
    """Row counts per table: the tests' proof that a failed import changed nothing."""
    from sqlalchemy import func

    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Round, ImportBatch, Submission, MaturityRating, Answer, Event, SuggestionRun, AnswerSuggestion)
    }
