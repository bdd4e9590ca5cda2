"""A coder's own work on a round: theme decisions, answer status, memos, corrected outcomes, finishing.

Each write checks everything before it stores anything (the answer belongs to the round, the theme to
the answer's question, the decision is one of four), appends rows and an event, and never changes an
earlier row. Reading the current state means taking the latest row per key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corpora.codebook import Codebook
from corpora.errors import CodebookError

from .coding_tables import (
    ANSWER_STATUSES,
    DECISIONS,
    PRESENT_DECISIONS,
    AnswerStatus,
    CoderRoundStatus,
    CodingDecision,
    Memo,
    OutcomeEdit,
)
from .rounds import require_round
from .workspace import (
    CodingError,
    is_finished,
    settings_for,
    add_event,
    answer_ref,
    check_name,
    check_theme,
    done_select,
    latest_is,
    latest_suggestion,
)

MAX_MEMO_CHARS = 20_000


@dataclass(frozen=True)
class DecisionRecord:
    id: int
    answer_id: int
    coder: str
    theme_id: str
    decision: str
    source: str
    score: float | None
    at: datetime


@dataclass(frozen=True)
class MemoVersion:
    version: int
    text: str
    coder: str
    at: datetime


def record_decision(
    session: Session,
    codebook: Codebook,
    round_name: str,
    answer_id: int,
    coder: str,
    theme_id: str,
    decision: str,
) -> DecisionRecord:
    """Append one decision; the coder's set for the answer becomes the latest decision per theme.

    ``accept``/``reject`` answer a suggestion of the round's latest run (its score is kept with the
    decision, for retraining); ``add``/``remove`` are the coder's own. In a blind round a coder who has
    declared the round finished has seen the others' codes, so their own codes are closed: changes
    from then on go through consensus.
    """
    coder = check_name(coder, "coder")
    if decision not in DECISIONS:
        raise CodingError(f"decision: expected one of {', '.join(DECISIONS)}, got {decision!r}")
    ref = answer_ref(session, round_name, answer_id)
    check_theme(codebook, ref, theme_id)
    if settings_for(session, ref.round_id).blind_coding and is_finished(session, ref.round_id, coder):
        raise CodingError(
            f"round '{round_name}' is blind and {coder} has marked it finished, so their codes are closed; "
            "record the agreed code as consensus instead"
        )
    score: float | None = None
    if decision in ("accept", "reject"):
        source = "suggestion"
        found = latest_suggestion(session, ref.round_id, ref.answer_id)
        suggested = {t["id"]: t.get("score") for t in (found[1].get("themes", []) if found else [])}
        if theme_id not in suggested:
            raise CodingError(
                f"theme '{theme_id}' was not suggested for answer {answer_id}, so it cannot be {decision}ed; "
                f"use 'add' or 'remove' (suggested: {', '.join(suggested) or 'none'})"
            )
        score = float(suggested[theme_id]) if suggested[theme_id] is not None else None
    else:
        source = "manual"
    row = CodingDecision(round_id=ref.round_id, answer_id=ref.answer_id, coder=coder, theme_id=theme_id,
                         decision=decision, source=source, score=score)
    session.add(row)
    if _status(session, ref.answer_id, coder) is None:
        session.add(AnswerStatus(round_id=ref.round_id, answer_id=ref.answer_id, coder=coder, status="in_progress"))
    add_event(session, coder, "coding.decision", ref.round_id,
              {"answer_id": ref.answer_id, "theme": theme_id, "decision": decision, "source": source, "score": score})
    session.flush()
    return DecisionRecord(row.id, row.answer_id, row.coder, row.theme_id, row.decision, row.source, row.score, row.at)


def current_codes(session: Session, answer_id: int, coder: str) -> frozenset[str]:
    """The coder's code set for the answer now: themes whose latest decision is accept or add."""
    rows = session.scalars(
        select(CodingDecision.theme_id)
        .where(CodingDecision.answer_id == answer_id, CodingDecision.coder == coder)
        .group_by(CodingDecision.theme_id)
        .having(latest_is(CodingDecision.id, CodingDecision.decision.in_(PRESENT_DECISIONS)))
    )
    return frozenset(rows)


def decision_history(session: Session, answer_id: int, coders: Iterable[str] | None = None) -> list[DecisionRecord]:
    """Every decision on the answer, oldest first (optionally only some coders')."""
    query = select(CodingDecision).where(CodingDecision.answer_id == answer_id).order_by(CodingDecision.id)
    if coders is not None:
        query = query.where(CodingDecision.coder.in_(list(coders)))
    return [
        DecisionRecord(d.id, d.answer_id, d.coder, d.theme_id, d.decision, d.source, d.score, d.at)
        for d in session.scalars(query)
    ]


# ------------------------------------------------------------------------------------------ status


def _status(session: Session, answer_id: int, coder: str) -> str | None:
    return session.scalar(
        select(AnswerStatus.status)
        .where(AnswerStatus.answer_id == answer_id, AnswerStatus.coder == coder)
        .order_by(AnswerStatus.id.desc())
        .limit(1)
    )


def answer_status(session: Session, answer_id: int, coder: str) -> str | None:
    """``in_progress``, ``done``, or None when the coder has not touched the answer."""
    return _status(session, answer_id, coder)


def set_answer_status(session: Session, round_name: str, answer_id: int, coder: str, status: str) -> str:
    """Mark an answer done (coded, possibly with no theme) or back in progress, for one coder."""
    coder = check_name(coder, "coder")
    if status not in ANSWER_STATUSES:
        raise CodingError(f"status: expected one of {', '.join(ANSWER_STATUSES)}, got {status!r}")
    ref = answer_ref(session, round_name, answer_id)
    if _status(session, ref.answer_id, coder) != status:
        session.add(AnswerStatus(round_id=ref.round_id, answer_id=ref.answer_id, coder=coder, status=status))
        add_event(session, coder, "coding.status", ref.round_id, {"answer_id": ref.answer_id, "status": status})
        session.flush()
    return status


def finish_round(session: Session, round_name: str, coder: str, *, finished: bool = True) -> int:
    """Declare the round finished for a coder (or reopen it); returns how many answers it marked done.

    Finishing means "I have coded what I am going to code": every answer the coder left in progress
    becomes done, and in a blind round the others' codes become visible to them.
    """
    coder = check_name(coder, "coder")
    round_ = require_round(session, round_name)
    marked = 0
    if finished:
        open_answers = list(session.scalars(
            select(AnswerStatus.answer_id)
            .where(AnswerStatus.round_id == round_.id, AnswerStatus.coder == coder)
            .group_by(AnswerStatus.answer_id)
            .having(latest_is(AnswerStatus.id, AnswerStatus.status == "in_progress"))
        ))
        session.add_all(
            AnswerStatus(round_id=round_.id, answer_id=a, coder=coder, status="done") for a in open_answers
        )
        marked = len(open_answers)
    session.add(CoderRoundStatus(round_id=round_.id, coder=coder, finished=finished))
    add_event(session, coder, "coding.finished" if finished else "coding.reopened", round_.id,
              {"coder": coder, "answers_marked_done": marked})
    session.flush()
    return marked


def coder_progress(session: Session, round_name: str, coder: str) -> dict[str, int]:
    """How many answers the coder has done and has in progress."""
    round_ = require_round(session, round_name)
    done = session.scalar(select(func.count()).select_from(done_select(round_.id, [coder]).subquery())) or 0
    touched = session.scalar(
        select(func.count(func.distinct(AnswerStatus.answer_id)))
        .where(AnswerStatus.round_id == round_.id, AnswerStatus.coder == coder)
    ) or 0
    return {"done": int(done), "in_progress": int(touched) - int(done)}


# ------------------------------------------------------------------------------------------ memos


def save_memo(session: Session, round_name: str, answer_id: int, coder: str, text: str) -> MemoVersion:
    """Store a new version of the coder's memo on the answer (versions 1, 2, ...; none overwritten)."""
    coder = check_name(coder, "coder")
    if len(text) > MAX_MEMO_CHARS:
        raise CodingError(f"memo: at most {MAX_MEMO_CHARS} characters, got {len(text)}")
    ref = answer_ref(session, round_name, answer_id)
    previous = memo(session, ref.answer_id, coder)
    version = (previous.version if previous else 0) + 1
    row = Memo(round_id=ref.round_id, answer_id=ref.answer_id, coder=coder, version=version, text=text)
    session.add(row)
    add_event(session, coder, "coding.memo", ref.round_id,
              {"answer_id": ref.answer_id, "version": version, "chars": len(text)})
    session.flush()
    return MemoVersion(version, text, coder, row.at)


def memo(session: Session, answer_id: int, coder: str) -> MemoVersion | None:
    row = session.scalars(
        select(Memo).where(Memo.answer_id == answer_id, Memo.coder == coder).order_by(Memo.version.desc()).limit(1)
    ).first()
    return MemoVersion(row.version, row.text, row.coder, row.at) if row else None


# ------------------------------------------------------------------------------------------ outcomes


def set_outcomes(
    session: Session, codebook: Codebook, round_name: str, answer_id: int, coder: str, outcome_ids: Iterable[str]
) -> tuple[str, ...]:
    """Replace the outcomes the coder gives the answer (PCMW/ACD ids, in their order of importance)."""
    coder = check_name(coder, "coder")
    wanted = list(dict.fromkeys(outcome_ids))
    bad = []
    for outcome_id in wanted:
        try:
            codebook.outcome(outcome_id)
        except CodebookError:
            bad.append(outcome_id)
    if bad:
        raise CodingError(f"outcomes: unknown outcome id(s) {', '.join(map(repr, bad))}; "
                          "expected pcmw-1 … pcmw-13 or acd-1 … acd-7")
    ref = answer_ref(session, round_name, answer_id)
    session.add(OutcomeEdit(round_id=ref.round_id, answer_id=ref.answer_id, coder=coder, outcomes=wanted))
    add_event(session, coder, "coding.outcomes", ref.round_id, {"answer_id": ref.answer_id, "outcomes": wanted})
    session.flush()
    return tuple(wanted)


def edited_outcomes(session: Session, answer_id: int, coder: str) -> tuple[str, ...] | None:
    """The coder's latest outcome list for the answer, or None if they kept the suggested ones."""
    value = session.scalar(
        select(OutcomeEdit.outcomes)
        .where(OutcomeEdit.answer_id == answer_id, OutcomeEdit.coder == coder)
        .order_by(OutcomeEdit.id.desc())
        .limit(1)
    )
    return tuple(value) if value is not None else None
