"""The response grid: one row per answer, filtered, sorted and paginated by the database.

A round can hold thousands of answers and several coders' decisions on each, so nothing here loads a
round into Python to filter it: each answer's status (uncoded / in progress / coded / disputed /
agreed) is one SQL ``CASE`` over a single grouped subquery of the append-only tables (``_progress``),
and a page costs the same handful of queries whatever its size. The subquery is built from
single-table aggregates only, because a join planned on stale statistics (PostgreSQL right after a
bulk of decisions) turned a 0.2 s page into minutes.

The status a viewer sees respects blinding: in a blind round, before they finish, it is computed from
their own codes only (so "disputed" and "agreed" cannot leak a colleague's judgement).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from corpora.codebook import Codebook

from .coding_decisions import DecisionRecord, MemoVersion, decision_history, edited_outcomes, memo
from .coding_tables import PRESENT_DECISIONS, AnswerStatus, CodingDecision, ConsensusCode, SuggestedTheme
from .consensus import consensus_sets
from .rounds import require_round
from .schema import Answer, AnswerSuggestion, Submission
from .workspace import (
    CodingError,
    answer_ref,
    current_codes_select,
    latest_is,
    latest_run_id,
    latest_suggestion,
    settings_for,
    visible_coders,
)

STATUSES = ("uncoded", "in_progress", "coded", "disputed", "agreed")
SORTS = ("cluster", "health_board", "question", "status", "score", "answer")
THEME_SCOPES = ("any", "suggested", "coded")
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class GridQuery:
    page: int = 1
    page_size: int = 50
    sort: str = "cluster"
    descending: bool = False
    health_board: str | None = None
    question: str | None = None
    theme: str | None = None
    theme_scope: str = "any"  # suggested (by the latest run) | coded (by a visible coder) | any
    status: str | None = None
    search: str | None = None  # in the de-identified text, case-insensitive


@dataclass(frozen=True)
class GridRow:
    answer_id: int
    cluster_name: str
    health_board_id: str
    question_id: str
    text: str | None  # de-identified; None until a suggestion run has coded the answer
    suggested: tuple[dict[str, Any], ...]  # {id, label, score}, best first
    status: str
    my_codes: tuple[str, ...]


@dataclass(frozen=True)
class GridPage:
    total: int
    page: int
    page_size: int
    rows: tuple[GridRow, ...]
    status_counts: dict[str, int] = field(default_factory=dict)  # under the other filters
    blinded: bool = False


def index_run(session: Session, run_id: int) -> int:
    """Write the run's suggested themes into ``suggested_themes`` once (idempotent; safe if raced)."""
    if session.scalar(select(SuggestedTheme.id).where(SuggestedTheme.run_id == run_id).limit(1)) is not None:
        return 0
    rows = [
        {"run_id": run_id, "answer_id": answer_id, "theme_id": t["id"], "score": float(t.get("score") or 0.0), "rank": i}
        for answer_id, payload in session.execute(
            select(AnswerSuggestion.answer_id, AnswerSuggestion.payload).where(AnswerSuggestion.run_id == run_id)
        )
        for i, t in enumerate((payload or {}).get("themes", []))
    ]
    if not rows:
        return 0
    try:
        with session.begin_nested():
            session.execute(SuggestedTheme.__table__.insert(), rows)
    except IntegrityError:  # another request indexed the same run a moment ago: its rows are the same
        return 0
    return len(rows)


def _check(codebook: Codebook, query: GridQuery) -> None:
    problems = []
    if query.page < 1:
        problems.append(f"page: expected 1 or more, got {query.page}")
    if not 1 <= query.page_size <= MAX_PAGE_SIZE:
        problems.append(f"page_size: expected 1 to {MAX_PAGE_SIZE}, got {query.page_size}")
    if query.sort not in SORTS:
        problems.append(f"sort: expected one of {', '.join(SORTS)}, got {query.sort!r}")
    if query.status is not None and query.status not in STATUSES:
        problems.append(f"status: expected one of {', '.join(STATUSES)}, got {query.status!r}")
    if query.theme_scope not in THEME_SCOPES:
        problems.append(f"theme_scope: expected one of {', '.join(THEME_SCOPES)}, got {query.theme_scope!r}")
    if query.question is not None and query.question not in {q.id for q in codebook.questions}:
        problems.append(f"question: expected one of {', '.join(q.id for q in codebook.questions)}, got {query.question!r}")
    if query.health_board is not None and query.health_board not in {b.id for b in codebook.health_boards}:
        problems.append(
            f"health_board: expected one of {', '.join(b.id for b in codebook.health_boards)}, got {query.health_board!r}"
        )
    if query.theme is not None and query.theme not in {t.id for t in codebook.themes_for(None)}:
        problems.append(f"theme: unknown theme id {query.theme!r}")
    if problems:
        raise CodingError("; ".join(problems))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def answer_grid(
    session: Session, codebook: Codebook, round_name: str, viewer: str, query: GridQuery, *, privileged: bool = False
) -> GridPage:
    """One page of the round's answers as ``viewer`` may see them, with the total and status counts."""
    _check(codebook, query)
    round_ = require_round(session, round_name)
    rid = round_.id
    run_id = latest_run_id(session, rid)
    if run_id is not None:
        index_run(session, run_id)
    coders = visible_coders(session, rid, viewer, privileged=privileged)

    progress = _progress(codebook, rid, coders, query.theme if query.theme_scope != "suggested" else None)
    base = (
        select(Answer.id)
        .join(Submission, Answer.submission_id == Submission.id)
        .outerjoin(AnswerSuggestion, and_(AnswerSuggestion.answer_id == Answer.id, AnswerSuggestion.run_id == run_id))
        .outerjoin(progress, progress.c.answer_id == Answer.id)
        .where(Submission.round_id == rid)
    )
    n_done = func.coalesce(progress.c.n_done, 0)
    status = case(
        (progress.c.agreed > 0, "agreed"),
        (and_(n_done >= 2, progress.c.lowest != progress.c.highest), "disputed"),
        (n_done >= 2, "agreed"),
        (n_done == 1, "coded"),
        (progress.c.touched > 0, "in_progress"),
        else_=literal("uncoded"),
    )
    filters = []
    if query.health_board:
        filters.append(Submission.health_board_id == query.health_board)
    if query.question:
        filters.append(Answer.question_id == query.question)
    if query.theme:
        suggested = Answer.id.in_(
            select(SuggestedTheme.answer_id).where(SuggestedTheme.run_id == run_id, SuggestedTheme.theme_id == query.theme)
        )
        coded = func.coalesce(progress.c.with_theme, 0) > 0
        filters.append({"suggested": suggested, "coded": coded, "any": or_(suggested, coded)}[query.theme_scope])
    if query.search and query.search.strip():
        needle = f"%{_escape_like(query.search.strip())}%"
        filters.append(AnswerSuggestion.deidentified_text.ilike(needle, escape="\\"))
    base = base.where(*filters)

    per_answer = base.with_only_columns(status.label("status")).subquery("per_answer")
    counts_query = select(per_answer.c.status, func.count()).group_by(per_answer.c.status)
    status_counts = {s: 0 for s in STATUSES}
    for name, n in session.execute(counts_query):
        status_counts[name] = int(n)
    total = status_counts[query.status] if query.status else sum(status_counts.values())

    order = _order(codebook, query, status, run_id)
    page_query = (
        base.with_only_columns(
            Answer.id, Submission.cluster_name, Submission.health_board_id, Answer.question_id,
            AnswerSuggestion.deidentified_text, AnswerSuggestion.payload, status.label("status"),
        )
        .order_by(*order)
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    )
    if query.status:
        page_query = page_query.where(status == query.status)
    rows = session.execute(page_query).all()
    ids = [r[0] for r in rows]
    mine: dict[int, list[str]] = {}
    if ids:
        own = current_codes_select(rid, [viewer]).where(CodingDecision.answer_id.in_(ids))
        for answer_id, _coder, theme_id in session.execute(own):
            mine.setdefault(answer_id, []).append(theme_id)
    return GridPage(
        total=total,
        page=query.page,
        page_size=query.page_size,
        rows=tuple(
            GridRow(
                answer_id=r[0], cluster_name=r[1], health_board_id=r[2], question_id=r[3], text=r[4],
                suggested=tuple({"id": t["id"], "label": t.get("label", t["id"]), "score": t.get("score")}
                                for t in (r[5] or {}).get("themes", [])),
                status=r[6], my_codes=tuple(sorted(mine.get(r[0], ()))),
            )
            for r in rows
        ),
        status_counts=status_counts,
        blinded=coders is not None,
    )


def _progress(codebook: Codebook, round_id: int, coders: tuple[str, ...] | None, theme: str | None):  # type: ignore[no-untyped-def]
    """Per answer: coders done, the lowest and highest code-set mask among them, coders who touched it,
    whether a consensus is recorded and how many coders have ``theme`` in their set -- everything the
    status and the "coded with" filter need, as one grouped subquery.

    A coder's code set is a bit mask (one bit per theme, summed over their current themes), so "the
    done coders disagree" is "their lowest and highest masks differ". All from one UNION ALL of three
    single-table aggregates grouped twice: no join whose plan depends on fresh table statistics.
    """
    themes = [t.id for t in codebook.themes_for(None)]
    if len(themes) > 62:
        raise CodingError(f"the grid's status needs at most 62 themes (one bit each); the codebook has {len(themes)}")
    bit = case({t: 1 << i for i, t in enumerate(themes)}, value=CodingDecision.theme_id, else_=0)
    none = cast(null(), BigInteger)
    present = latest_is(CodingDecision.id, CodingDecision.decision.in_(PRESENT_DECISIONS))
    wanted = CodingDecision.theme_id == theme if theme is not None else literal(False)
    per_theme = (
        select(CodingDecision.answer_id.label("answer_id"), CodingDecision.coder.label("coder"),
               case((present, func.max(bit)), else_=0).label("mask"),
               none.label("last_status"), none.label("last_done"), literal(0).label("consensus"),
               case((and_(present, func.max(case((wanted, 1), else_=0)) == 1), 1), else_=0).label("with_theme"))
        .where(CodingDecision.round_id == round_id,
               True if coders is None else CodingDecision.coder.in_(coders))
        .group_by(CodingDecision.answer_id, CodingDecision.coder, CodingDecision.theme_id)
    )
    statuses = (
        select(AnswerStatus.answer_id, AnswerStatus.coder, literal(0),
               cast(func.max(AnswerStatus.id), BigInteger),
               cast(func.max(case((AnswerStatus.status == "done", AnswerStatus.id))), BigInteger), literal(0),
               literal(0))
        .where(AnswerStatus.round_id == round_id, True if coders is None else AnswerStatus.coder.in_(coders))
        .group_by(AnswerStatus.answer_id, AnswerStatus.coder)
    )
    parts = [per_theme, statuses]
    if coders is None:  # a consensus reveals others' codes: never counted for a blinded coder
        parts.append(
            select(ConsensusCode.answer_id, literal(""), literal(0), none, none, literal(1), literal(0))
            .where(ConsensusCode.round_id == round_id)
            .group_by(ConsensusCode.answer_id)
        )
    rows = union_all(*parts).subquery("workspace_rows")
    per_coder = (
        select(rows.c.answer_id, rows.c.coder, func.sum(rows.c.mask).label("mask"),
               func.max(rows.c.last_status).label("last_status"), func.max(rows.c.last_done).label("last_done"),
               func.max(rows.c.consensus).label("consensus"), func.sum(rows.c.with_theme).label("with_theme"))
        .group_by(rows.c.answer_id, rows.c.coder)
        .subquery("per_coder")
    )
    done = per_coder.c.last_done == per_coder.c.last_status  # NULL (not done) when never marked done
    return (
        select(
            per_coder.c.answer_id,
            func.sum(case((done, 1), else_=0)).label("n_done"),
            func.min(case((done, per_coder.c.mask))).label("lowest"),
            func.max(case((done, per_coder.c.mask))).label("highest"),
            func.sum(case((per_coder.c.coder != "", 1), else_=0)).label("touched"),
            func.max(per_coder.c.consensus).label("agreed"),
            func.sum(per_coder.c.with_theme).label("with_theme"),
        )
        .group_by(per_coder.c.answer_id)
        .subquery("progress")
    )


def _order(codebook: Codebook, query: GridQuery, status, run_id: int | None) -> list:  # type: ignore[no-untyped-def]
    question_rank = case({q.id: i for i, q in enumerate(codebook.questions)}, value=Answer.question_id, else_=99)
    status_rank = case({s: i for i, s in enumerate(STATUSES)}, value=status, else_=99)
    top_score = (
        select(func.max(SuggestedTheme.score))
        .where(SuggestedTheme.run_id == run_id, SuggestedTheme.answer_id == Answer.id)
        .scalar_subquery()
    )
    primary = {
        "cluster": [Submission.cluster_key, question_rank],
        "health_board": [Submission.health_board_id, Submission.cluster_key, question_rank],
        "question": [question_rank, Submission.cluster_key],
        "status": [status_rank, Submission.cluster_key, question_rank],
        "score": [func.coalesce(top_score, -1.0)],
        "answer": [],
    }[query.sort]
    if query.descending and primary:  # the chosen column reversed; ties keep their natural order
        primary = [primary[0].desc(), *primary[1:]]
    return [*primary, Answer.id.desc() if query.descending and not primary else Answer.id]


# ------------------------------------------------------------------------------------------ one answer


@dataclass(frozen=True)
class CoderView:
    coder: str
    codes: tuple[str, ...]
    status: str | None
    decisions: tuple[DecisionRecord, ...]


@dataclass(frozen=True)
class AnswerView:
    """Everything the coding view shows for one answer, already cut to what the viewer may see."""

    answer_id: int
    cluster_name: str
    health_board_id: str
    question_id: str
    text: str | None  # de-identified; evidence offsets in ``suggestion`` refer to it
    suggestion: dict[str, Any] | None  # the JSON contract object of the latest run
    blind: bool
    blinded: bool  # True: ``others`` and ``consensus`` are withheld from this viewer
    mine: CoderView
    memo: MemoVersion | None
    outcomes: tuple[str, ...] | None  # the viewer's corrected outcomes; None = the suggested ones stand
    others: tuple[CoderView, ...]
    consensus: tuple[str, ...] | None


def answer_view(session: Session, round_name: str, answer_id: int, viewer: str, *, privileged: bool = False) -> AnswerView:
    ref = answer_ref(session, round_name, answer_id)
    found = latest_suggestion(session, ref.round_id, ref.answer_id)
    coders = visible_coders(session, ref.round_id, viewer, privileged=privileged)
    history = decision_history(session, ref.answer_id, coders)
    statuses = _statuses(session, ref.answer_id, coders)
    names = sorted({d.coder for d in history} | set(statuses) | {viewer})
    views = {name: _coder_view(name, history, statuses.get(name)) for name in names}
    agreed = None
    if coders is None:
        latest = consensus_sets(session, ref.round_id, [ref.answer_id]).get(ref.answer_id)
        agreed = tuple(sorted(latest)) if latest is not None else None
    return AnswerView(
        answer_id=ref.answer_id,
        cluster_name=ref.cluster_name,
        health_board_id=ref.health_board_id,
        question_id=ref.question_id,
        text=found[0] if found else None,
        suggestion=found[1] if found else None,
        blind=settings_for(session, ref.round_id).blind_coding,
        blinded=coders is not None,
        mine=views[viewer],
        memo=memo(session, ref.answer_id, viewer),
        outcomes=edited_outcomes(session, ref.answer_id, viewer),
        others=tuple(v for name, v in views.items() if name != viewer),
        consensus=agreed,
    )


def _statuses(session: Session, answer_id: int, coders: tuple[str, ...] | None) -> dict[str, str]:
    query = select(AnswerStatus.coder, AnswerStatus.status).where(AnswerStatus.answer_id == answer_id).order_by(AnswerStatus.id)
    if coders is not None:
        query = query.where(AnswerStatus.coder.in_(coders))
    return dict(session.execute(query).all())  # later rows overwrite earlier: the latest wins


def _coder_view(coder: str, history: list[DecisionRecord], status: str | None) -> CoderView:
    own = [d for d in history if d.coder == coder]
    latest: dict[str, str] = {}
    for d in own:
        latest[d.theme_id] = d.decision
    codes = tuple(sorted(t for t, decision in latest.items() if decision in PRESENT_DECISIONS))
    return CoderView(coder, codes, status, tuple(own))
