"""The reviewer workspace's shared ground: its error, answer lookup, round settings, blinding.

Every derived value in the workspace (a coder's current code set, an answer's status, whether a coder
has finished) is the *latest row* of an append-only table, so the derivations are written once here
as SQL selects and reused by the decision, consensus and grid modules. Blinding is decided here too,
in one function, because a leak in any one read path would undo independent coding for the round.

Module map: ``coding_decisions`` (decisions, statuses, memos, outcome edits), ``consensus``
(disagreement queue, consensus codes, agreement records, labels for retraining), ``answer_grid`` (the
paginated grid and the coding view). This module imports none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from corpora.codebook import Codebook
from corpora.errors import ClwstwrError

from .coding_tables import PRESENT_DECISIONS, AnswerStatus, CoderRoundStatus, CodingDecision, RoundSetting
from .rounds import require_round
from .schema import Answer, AnswerSuggestion, Event, Round, Submission, SuggestionRun

MACHINE_CODER = "machine"  # the suggester's name when it is compared as one more coder
MAX_NAME = 200


class CodingError(ClwstwrError):
    """A coding decision (or memo, consensus, setting) that cannot be recorded, and why."""

    code = "CW710"


@dataclass(frozen=True)
class AnswerRef:
    """What every write needs to know about the answer it is about."""

    answer_id: int
    round_id: int
    round_name: str
    question_id: str
    cluster_name: str
    health_board_id: str


@dataclass(frozen=True)
class RoundSettings:
    blind_coding: bool
    set_by: str | None
    at: datetime | None


# ------------------------------------------------------------------------------------------ lookups


def check_name(value: str, field: str) -> str:
    """A coder or actor name as stored: non-empty, at most 200 characters."""
    name = (value or "").strip()
    if not name or len(name) > MAX_NAME:
        raise CodingError(f"{field}: expected a user name of 1 to {MAX_NAME} characters, got {value!r}")
    return name


def answer_ref(session: Session, round_name: str, answer_id: int) -> AnswerRef:
    """The answer if it belongs to the round; otherwise CW710 naming both (never a bare 404 or 500)."""
    round_ = require_round(session, round_name)
    row = session.execute(
        select(Answer.id, Answer.question_id, Submission.cluster_name, Submission.health_board_id)
        .join(Submission, Answer.submission_id == Submission.id)
        .where(Answer.id == answer_id, Submission.round_id == round_.id)
    ).first()
    if row is None:
        raise CodingError(f"answer {answer_id} is not an answer of round '{round_name}'")
    return AnswerRef(row[0], round_.id, round_.name, row[1], row[2], row[3])


def check_theme(codebook: Codebook, ref: AnswerRef, theme_id: str) -> str:
    """The theme if it belongs to the answer's question; otherwise CW710 listing the ones that do."""
    question = codebook.question(ref.question_id)
    valid = [t.id for t in question.themes]
    if theme_id not in valid:
        raise CodingError(
            f"theme '{theme_id}' is not a theme of question '{question.id}' (answer {ref.answer_id}); "
            f"expected one of: {', '.join(valid)}"
        )
    return theme_id


def latest_run_id(session: Session, round_id: int) -> int | None:
    return session.scalar(
        select(SuggestionRun.id).where(SuggestionRun.round_id == round_id).order_by(SuggestionRun.id.desc()).limit(1)
    )


def latest_suggestion(session: Session, round_id: int, answer_id: int) -> tuple[str, dict] | None:
    """(de-identified text, suggestion payload) from the round's latest run, if it coded the answer."""
    run_id = latest_run_id(session, round_id)
    if run_id is None:
        return None
    row = session.execute(
        select(AnswerSuggestion.deidentified_text, AnswerSuggestion.payload)
        .where(AnswerSuggestion.run_id == run_id, AnswerSuggestion.answer_id == answer_id)
    ).first()
    return (row[0], dict(row[1])) if row else None


def add_event(session: Session, actor: str, kind: str, round_id: int, payload: dict[str, object]) -> None:
    """Every workspace write leaves one of these; kinds start ``coding.`` so the audit export can pick them."""
    session.add(Event(actor=actor, kind=kind, round_id=round_id, payload=payload))


# ------------------------------------------------------------------------------------------ settings


def round_settings(session: Session, round_name: str) -> RoundSettings:
    round_ = require_round(session, round_name)
    return settings_for(session, round_.id)


def settings_for(session: Session, round_id: int) -> RoundSettings:
    row = session.execute(
        select(RoundSetting.blind_coding, RoundSetting.set_by, RoundSetting.at)
        .where(RoundSetting.round_id == round_id)
        .order_by(RoundSetting.id.desc())
        .limit(1)
    ).first()
    return RoundSettings(bool(row[0]), row[1], row[2]) if row else RoundSettings(False, None, None)


def set_blind_coding(session: Session, round_name: str, blind: bool, actor: str) -> RoundSettings:
    """Switch blind coding on or off for a round; the change is a new row and an event, never an update."""
    actor = check_name(actor, "actor")
    round_: Round = require_round(session, round_name)
    before = settings_for(session, round_.id)
    session.add(RoundSetting(round_id=round_.id, blind_coding=bool(blind), set_by=actor))
    add_event(session, actor, "coding.settings", round_.id, {"blind_coding": bool(blind), "was": before.blind_coding})
    session.flush()
    return settings_for(session, round_.id)


# ------------------------------------------------------------------------------------------ finishing


def coder_finished(session: Session, round_name: str, coder: str) -> bool:
    """Has the coder declared the round finished (and not reopened it since)?"""
    round_ = require_round(session, round_name)
    return is_finished(session, round_.id, coder)


def is_finished(session: Session, round_id: int, coder: str) -> bool:
    value = session.scalar(
        select(CoderRoundStatus.finished)
        .where(CoderRoundStatus.round_id == round_id, CoderRoundStatus.coder == coder)
        .order_by(CoderRoundStatus.id.desc())
        .limit(1)
    )
    return bool(value)


def visible_coders(session: Session, round_id: int, viewer: str, *, privileged: bool = False) -> tuple[str, ...] | None:
    """Whose codes ``viewer`` may see: ``None`` for everyone's, or just their own.

    In a blind round a coder sees only their own codes and decisions until they have declared the
    round finished, so nobody's first judgement is steered by a colleague's. ``privileged`` callers
    (programme, admin: they run the round, they do not code it) are never blinded.
    """
    if privileged or not settings_for(session, round_id).blind_coding or is_finished(session, round_id, viewer):
        return None
    return (viewer,)


# ------------------------------------------------------------------------------------------ derivations


def _coder_filter(column, coders: Sequence[str] | None):  # type: ignore[no-untyped-def]
    return True if coders is None else column.in_(list(coders))


def latest_is(id_column, condition):  # type: ignore[no-untyped-def]
    """True for a group whose latest row (highest id) satisfies ``condition``.

    "The latest row wins" written as one aggregate: the group's highest id equals its highest id among
    rows meeting the condition. No self-join on ``max(id)``, so no plan in which a database re-runs an
    aggregate once per row when its statistics are stale (PostgreSQL did, right after a bulk of writes).
    """
    return func.max(id_column) == func.max(case((condition, id_column)))


def current_codes_select(round_id: int, coders: Sequence[str] | None = None) -> Select:
    """(answer_id, coder, theme_id) of every theme in a coder's current set: latest decision is accept/add."""
    return (
        select(CodingDecision.answer_id, CodingDecision.coder, CodingDecision.theme_id)
        .where(CodingDecision.round_id == round_id, _coder_filter(CodingDecision.coder, coders))
        .group_by(CodingDecision.answer_id, CodingDecision.coder, CodingDecision.theme_id)
        .having(latest_is(CodingDecision.id, CodingDecision.decision.in_(PRESENT_DECISIONS)))
    )


def done_select(round_id: int, coders: Sequence[str] | None = None) -> Select:
    """(answer_id, coder) where the coder's latest status for the answer is ``done``."""
    return (
        select(AnswerStatus.answer_id, AnswerStatus.coder)
        .where(AnswerStatus.round_id == round_id, _coder_filter(AnswerStatus.coder, coders))
        .group_by(AnswerStatus.answer_id, AnswerStatus.coder)
        .having(latest_is(AnswerStatus.id, AnswerStatus.status == "done"))
    )


def done_codes(session: Session, round_id: int, coders: Sequence[str] | None = None) -> dict[tuple[int, str], set[str]]:
    """(answer, coder) -> theme set, for every answer a coder has marked done (empty set = fits none)."""
    out: dict[tuple[int, str], set[str]] = {(a, c): set() for a, c in session.execute(done_select(round_id, coders))}
    for answer_id, coder, theme_id in session.execute(current_codes_select(round_id, coders)):
        if (answer_id, coder) in out:
            out[(answer_id, coder)].add(theme_id)
    return out


def visible_codes(
    session: Session, round_name: str, viewer: str, *, privileged: bool = False
) -> dict[tuple[int, str], frozenset[str]]:
    """(answer, coder) -> current code set, for every coder ``viewer`` may see (see ``visible_coders``).

    Includes answers still in progress: what a coder has decided so far is what a colleague would see.
    """
    round_ = require_round(session, round_name)
    coders = visible_coders(session, round_.id, viewer, privileged=privileged)
    out: dict[tuple[int, str], set[str]] = {}
    for answer_id, coder, theme_id in session.execute(current_codes_select(round_.id, coders)):
        out.setdefault((answer_id, coder), set()).add(theme_id)
    return {key: frozenset(themes) for key, themes in out.items()}
