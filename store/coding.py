"""Repository for suggestion runs: the answers to code, and what the suggester said about each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .rounds import require_round
from .schema import Answer, AnswerSuggestion, Event, Submission, SuggestionRun


@dataclass(frozen=True)
class AnswerToCode:
    answer_id: int
    cluster_name: str
    health_board_id: str
    question_id: str
    text: str  # original: only ever passed to the de-identifier


@dataclass(frozen=True)
class CodedAnswer:
    answer_id: int
    cluster_name: str
    health_board_id: str
    question_id: str
    deidentified_text: str
    payload: Mapping[str, object]  # the suggestion JSON contract object


def answers_to_code(session: Session, round_name: str) -> list[AnswerToCode]:
    round_ = require_round(session, round_name)
    rows = session.execute(
        select(Answer.id, Submission.cluster_name, Submission.health_board_id, Answer.question_id, Answer.text)
        .join(Submission, Answer.submission_id == Submission.id)
        .where(Submission.round_id == round_.id)
        .order_by(Submission.cluster_key, Answer.question_id)
    )
    return [AnswerToCode(*row) for row in rows]


def store_run(
    session: Session, round_name: str, model: str, actor: str, results: Sequence[tuple[int, str, Mapping[str, object]]]
) -> int:
    """Store one run: (answer id, de-identified text, payload) per answer. Returns the run id."""
    round_ = require_round(session, round_name)
    run = SuggestionRun(round_id=round_.id, model=model, actor=actor)
    run.suggestions = [AnswerSuggestion(answer_id=a, deidentified_text=t, payload=dict(p)) for a, t, p in results]
    session.add(run)
    session.flush()
    session.add(Event(actor=actor, kind="suggestion_run", round_id=round_.id,
                      payload={"run_id": run.id, "model": model, "answers": len(results)}))
    session.flush()
    return run.id


def latest_run(session: Session, round_name: str) -> tuple[int, str] | None:
    round_ = require_round(session, round_name)
    row = session.execute(
        select(SuggestionRun.id, SuggestionRun.model)
        .where(SuggestionRun.round_id == round_.id)
        .order_by(SuggestionRun.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def coded_answers(session: Session, run_id: int) -> list[CodedAnswer]:
    rows = session.execute(
        select(Answer.id, Submission.cluster_name, Submission.health_board_id, Answer.question_id,
               AnswerSuggestion.deidentified_text, AnswerSuggestion.payload)
        .join(Answer, AnswerSuggestion.answer_id == Answer.id)
        .join(Submission, Answer.submission_id == Submission.id)
        .where(AnswerSuggestion.run_id == run_id)
        .order_by(Submission.cluster_key, Answer.question_id)
    )
    return [CodedAnswer(*row) for row in rows]
