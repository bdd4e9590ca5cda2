"""From independent codes to the round's gold standard: the disagreement queue and consensus codes.

An answer is *disputed* when two or more coders have marked it done with different theme sets. The
group settles it by recording the consensus set, stored as one row per theme whose agreed value
changes (present or not), appended, latest wins, so the gold standard has a history like every code.

Also here: the coding records the agreement statistics are computed from (humans, the machine, the
consensus) and the labelled answers retraining learns from, because all three are readings of the same
derived state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corpora.codebook import Codebook

from .coding_tables import CodingDecision, ConsensusCode
from .rounds import require_round
from .schema import Answer, AnswerSuggestion, Submission
from .workspace import (
    MACHINE_CODER,
    CodingError,
    add_event,
    answer_ref,
    check_name,
    check_theme,
    done_codes,
    latest_is,
    latest_run_id,
)

CONSENSUS_CODER = "consensus"
MAX_NOTE_CHARS = 5_000


@dataclass(frozen=True)
class StoredCoding:
    """One coder's theme set for one answer (the shape ``clwstwr.agreement.CodingRecord`` takes)."""

    answer_id: int
    coder: str
    themes: frozenset[str]
    question_id: str


@dataclass(frozen=True)
class QueueItem:
    """One answer of the disagreement queue, with each coder's set and the consensus if recorded."""

    answer_id: int
    cluster_name: str
    health_board_id: str
    question_id: str
    text: str | None  # de-identified, from the latest suggestion run
    codes: dict[str, tuple[str, ...]]
    consensus: tuple[str, ...] | None


@dataclass(frozen=True)
class DecidedAnswer:
    """An answer whose themes the reviewers have settled: what retraining may learn from."""

    answer_id: int
    cluster_name: str
    question_id: str
    text: str  # de-identified
    original_text: str  # only to keep the same answer out of the bundled training data; never stored
    themes: tuple[str, ...]
    basis: str  # "consensus" | "coders agree"


@dataclass(frozen=True)
class _AnswerInfo:
    cluster_name: str
    health_board_id: str
    question_id: str
    original: str


def _answers(session: Session, round_id: int, answer_ids: Iterable[int] | None = None) -> dict[int, _AnswerInfo]:
    query = (
        select(Answer.id, Submission.cluster_name, Submission.health_board_id, Answer.question_id, Answer.text)
        .join(Submission, Answer.submission_id == Submission.id)
        .where(Submission.round_id == round_id)
        .order_by(Submission.cluster_key, Answer.question_id)
    )
    if answer_ids is not None:
        query = query.where(Answer.id.in_(list(answer_ids)))
    return {a: _AnswerInfo(c, b, q, t) for a, c, b, q, t in session.execute(query)}


def _deidentified(session: Session, round_id: int, answer_ids: Iterable[int] | None = None) -> dict[int, tuple[str, dict]]:
    run_id = latest_run_id(session, round_id)
    if run_id is None:
        return {}
    query = select(AnswerSuggestion.answer_id, AnswerSuggestion.deidentified_text, AnswerSuggestion.payload).where(
        AnswerSuggestion.run_id == run_id
    )
    if answer_ids is not None:
        query = query.where(AnswerSuggestion.answer_id.in_(list(answer_ids)))
    return {a: (t, dict(p)) for a, t, p in session.execute(query)}


# ------------------------------------------------------------------------------------------ consensus


def consensus_sets(
    session: Session, round_id: int, answer_ids: Iterable[int] | None = None
) -> dict[int, frozenset[str]]:
    """answer -> agreed theme set, for every answer with a consensus recorded (empty = fits none)."""
    query = select(ConsensusCode.answer_id, ConsensusCode.theme_id,
                   latest_is(ConsensusCode.id, ConsensusCode.present).label("present")).where(
        ConsensusCode.round_id == round_id
    )
    if answer_ids is not None:
        query = query.where(ConsensusCode.answer_id.in_(list(answer_ids)))
    out: dict[int, set[str]] = {}
    for answer_id, theme_id, present in session.execute(query.group_by(ConsensusCode.answer_id, ConsensusCode.theme_id)):
        themes = out.setdefault(answer_id, set())
        if present:
            themes.add(theme_id)
    return {a: frozenset(t) for a, t in out.items()}


def record_consensus(
    session: Session,
    codebook: Codebook,
    round_name: str,
    answer_id: int,
    themes: Iterable[str],
    decided_by: str,
    note: str = "",
) -> frozenset[str]:
    """Record the group's theme set for an answer; it becomes the round's gold standard for it.

    One row per theme of the question whose agreed value is new or changes, so an unchanged re-save
    stores nothing but its event; the first consensus on an answer stores every theme of the question
    (absent ones as ``present = false``), so "agreed: fits none" is recorded, not implied.
    """
    decided_by = check_name(decided_by, "decided_by")
    if len(note) > MAX_NOTE_CHARS:
        raise CodingError(f"note: at most {MAX_NOTE_CHARS} characters, got {len(note)}")
    ref = answer_ref(session, round_name, answer_id)
    wanted = frozenset(check_theme(codebook, ref, t) for t in themes)
    current = {
        theme_id: bool(present)
        for theme_id, present in session.execute(
            select(ConsensusCode.theme_id, latest_is(ConsensusCode.id, ConsensusCode.present))
            .where(ConsensusCode.answer_id == ref.answer_id)
            .group_by(ConsensusCode.theme_id)
        )
    }
    changed = []
    for theme in codebook.question(ref.question_id).themes:
        present = theme.id in wanted
        if current.get(theme.id) is None or bool(current[theme.id]) != present:
            changed.append(theme.id)
            session.add(ConsensusCode(round_id=ref.round_id, answer_id=ref.answer_id, theme_id=theme.id,
                                      present=present, decided_by=decided_by, note=note))
    add_event(session, decided_by, "coding.consensus", ref.round_id,
              {"answer_id": ref.answer_id, "themes": sorted(wanted), "changed": changed, "note": note})
    session.flush()
    return wanted


def disagreement_queue(session: Session, round_name: str, *, include_resolved: bool = False) -> list[QueueItem]:
    """Answers two or more coders have done with different sets; settled ones only if asked for."""
    round_ = require_round(session, round_name)
    by_answer: dict[int, dict[str, frozenset[str]]] = {}
    for (answer_id, coder), themes in done_codes(session, round_.id).items():
        by_answer.setdefault(answer_id, {})[coder] = frozenset(themes)
    disputed = [a for a, sets in by_answer.items() if len(sets) >= 2 and len(set(sets.values())) > 1]
    agreed = consensus_sets(session, round_.id)
    if not include_resolved:
        disputed = [a for a in disputed if a not in agreed]
    if not disputed:
        return []
    info = _answers(session, round_.id, disputed)
    texts = _deidentified(session, round_.id, disputed)
    return [
        QueueItem(
            answer_id=a,
            cluster_name=info[a].cluster_name,
            health_board_id=info[a].health_board_id,
            question_id=info[a].question_id,
            text=texts[a][0] if a in texts else None,
            codes={c: tuple(sorted(s)) for c, s in sorted(by_answer[a].items())},
            consensus=tuple(sorted(agreed[a])) if a in agreed else None,
        )
        for a in info  # the round's stable order: cluster, then question
    ]


# ------------------------------------------------------------------------------------------ agreement input


def human_codings(session: Session, round_name: str) -> list[StoredCoding]:
    """Every coder's set for every answer they marked done: the input to the agreement statistics."""
    round_ = require_round(session, round_name)
    codes = done_codes(session, round_.id)
    if not codes:
        return []
    info = _answers(session, round_.id, {a for a, _ in codes})
    return [
        StoredCoding(a, c, frozenset(codes[(a, c)]), info[a].question_id)
        for a, c in sorted(codes, key=lambda k: (k[0], k[1]))
    ]


def machine_codings(session: Session, round_name: str, answer_ids: Iterable[int] | None = None) -> list[StoredCoding]:
    """The latest run's suggested themes as the coder ``machine`` (optionally for some answers only)."""
    round_ = require_round(session, round_name)
    wanted = None if answer_ids is None else set(answer_ids)
    texts = _deidentified(session, round_.id, wanted)
    info = _answers(session, round_.id, texts.keys())
    return [
        StoredCoding(a, MACHINE_CODER, frozenset(t["id"] for t in payload.get("themes", [])), info[a].question_id)
        for a, (_text, payload) in sorted(texts.items())
        if a in info
    ]


def consensus_codings(session: Session, round_name: str) -> list[StoredCoding]:
    round_ = require_round(session, round_name)
    agreed = consensus_sets(session, round_.id)
    if not agreed:
        return []
    info = _answers(session, round_.id, agreed.keys())
    return [StoredCoding(a, CONSENSUS_CODER, agreed[a], info[a].question_id) for a in sorted(agreed)]


# ------------------------------------------------------------------------------------------ retraining input


def decided_answers(session: Session, round_name: str) -> list[DecidedAnswer]:
    """Answers whose themes are settled: the consensus where recorded, else the coders' set where
    every coder who marked it done agrees (accepted and added themes are positives; rejected, removed
    and never-chosen themes of the question negatives). Disputed answers without consensus are left
    out: there is nothing settled to learn from them yet."""
    round_ = require_round(session, round_name)
    agreed = consensus_sets(session, round_.id)
    by_answer: dict[int, set[frozenset[str]]] = {}
    for (answer_id, _coder), themes in done_codes(session, round_.id).items():
        by_answer.setdefault(answer_id, set()).add(frozenset(themes))
    settled: dict[int, tuple[frozenset[str], str]] = {a: (s, "consensus") for a, s in agreed.items()}
    for answer_id, sets in by_answer.items():
        if answer_id not in settled and len(sets) == 1:
            settled[answer_id] = (next(iter(sets)), "coders agree")
    if not settled:
        return []
    info = _answers(session, round_.id, settled.keys())
    texts = _deidentified(session, round_.id, settled.keys())
    return [
        DecidedAnswer(a, info[a].cluster_name, info[a].question_id, texts[a][0], info[a].original,
                      tuple(sorted(settled[a][0])), settled[a][1])
        for a in info
        if a in texts  # retraining learns only from de-identified text
    ]


def answers_of(session: Session, round_name: str, answer_ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """answer -> (cluster, health board, question), for exports and reports."""
    round_ = require_round(session, round_name)
    return {a: (i.cluster_name, i.health_board_id, i.question_id) for a, i in _answers(session, round_.id, answer_ids).items()}


# ------------------------------------------------------------------------------------------ exports


@dataclass(frozen=True)
class CodeRow:
    """One decision as exports list it: every coder's latest decision per theme, then the consensus."""

    answer_id: int
    cluster: str
    health_board: str
    question: str
    theme: str
    coder: str
    decision: str  # accept | reject | add | remove; for the consensus coder: agreed | not agreed
    at: datetime
    text: str | None  # de-identified answer
    evidence: tuple[int, int] | None  # offsets of the suggestion's evidence in ``text``, when suggested


def code_rows(session: Session, round_name: str) -> list[CodeRow]:
    """The round's codes for export: latest decision per (answer, coder, theme), then consensus rows."""
    round_ = require_round(session, round_name)
    def latest(table, key, *columns):  # type: ignore[no-untyped-def]
        ranked = select(*columns, func.row_number().over(partition_by=key, order_by=table.id.desc()).label("rn")).where(
            table.round_id == round_.id
        ).subquery()
        return session.execute(select(*[ranked.c[c.key] for c in columns]).where(ranked.c.rn == 1)).all()

    decisions = latest(CodingDecision, (CodingDecision.answer_id, CodingDecision.coder, CodingDecision.theme_id),
                       CodingDecision.answer_id, CodingDecision.coder, CodingDecision.theme_id,
                       CodingDecision.decision, CodingDecision.at)
    agreed = latest(ConsensusCode, (ConsensusCode.answer_id, ConsensusCode.theme_id), ConsensusCode.answer_id,
                    ConsensusCode.theme_id, ConsensusCode.present, ConsensusCode.at)
    ids = {d[0] for d in decisions} | {c[0] for c in agreed}
    if not ids:
        return []
    info = _answers(session, round_.id, ids)
    texts = _deidentified(session, round_.id, ids)
    order = {a: i for i, a in enumerate(info)}

    def row(answer_id: int, coder: str, theme: str, decision: str, at: datetime) -> CodeRow:
        text, payload = texts.get(answer_id, (None, {}))
        spans = {t["id"]: (t.get("evidence_start"), t.get("evidence_end")) for t in payload.get("themes", [])}
        span = spans.get(theme)
        evidence = (int(span[0]), int(span[1])) if span and span[0] is not None and span[1] else None
        a = info[answer_id]
        return CodeRow(answer_id, a.cluster_name, a.health_board_id, a.question_id, theme, coder, decision, at,
                       text, evidence)

    rows = [row(a, c, t, d, at) for a, c, t, d, at in decisions]
    rows += [row(a, CONSENSUS_CODER, t, "agreed" if p else "not agreed", at) for a, t, p, at in agreed]
    rows.sort(key=lambda r: (order[r.answer_id], r.coder == CONSENSUS_CODER, r.coder, r.theme))
    return rows
