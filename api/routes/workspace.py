"""The reviewer workspace over HTTP: the grid, one answer, decisions, memos, consensus, agreement,
retraining and exports, all under ``/api/v1/rounds/{name}/``.

Who may call which route is ``api.access.POLICY`` (reviewers code; programme and admin change
settings and retrain; consensus by reviewer, programme or admin). What a caller may *see* is decided
by the store: in a blind round a reviewer sees only their own work until they have finished, so the
routes that show everyone's codes at once (agreement, disagreements, consensus, exports) refuse a
blinded reviewer with 403 rather than show a partial picture.

Handlers are plain ``def`` (database and model work run in the thread pool). Retraining runs in a
background thread: ``POST retrain`` answers 202 with the run's id at once; ``GET retrain/{id}`` shows
its status and, when done, the before/after table.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from clwstwr import retraining
from clwstwr.agreement import CodingRecord, machine_vs_humans, summarise_agreement, themes_by_question
from clwstwr.code_exports import CodeExportRow, write_codes_csv, write_codes_xlsx
from clwstwr.context import AppContext
from clwstwr.refi_qda import QdaCoding, QdaProject, QdaSource, QdaUser, codes_from_codebook, selection_for, write_qdpx
from store import coding_decisions as decisions
from store import consensus
from store.answer_grid import MAX_PAGE_SIZE, GridQuery, answer_grid, answer_view
from store.coding_decisions import DecisionRecord
from store.database import transaction
from store.rounds import require_round
from store.users import UserRecord
from store.workspace import coder_finished, round_settings, set_blind_coding, visible_coders

from ..access import PermissionDeniedError
from ..dependencies import ContextDep, CurrentUserDep, SuggesterDep

router = APIRouter(prefix="/api/v1/rounds", tags=["reviewer workspace"])

# Programme and admin run a round rather than code it: blinding does not apply to them.
PRIVILEGED_ROLES = frozenset({"programme", "admin"})
Status = Literal["uncoded", "in_progress", "coded", "disputed", "agreed"]
Sort = Literal["cluster", "health_board", "question", "status", "score", "answer"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = Field(max_length=60, description="a theme id of the answer's question")
    decision: Literal["accept", "reject", "add", "remove"] = Field(
        description="accept/reject a suggested theme; add/remove any theme of the question"
    )


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["in_progress", "done"]


class MemoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=decisions.MAX_MEMO_CHARS)


class OutcomesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcomes: list[str] = Field(max_length=20, description="PCMW/ACD outcome ids, most important first")


class ConsensusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    themes: list[str] = Field(max_length=40, description="the agreed theme set (empty = fits none)")
    note: str = Field(default="", max_length=consensus.MAX_NOTE_CHARS)


class FinishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finished: bool = Field(default=True, description="false reopens the round for this coder")


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blind_coding: bool


def _privileged(user: UserRecord) -> bool:
    return user.role in PRIVILEGED_ROLES


def _require_unblinded(ctx: AppContext, name: str, user: UserRecord) -> None:
    """Refuse a blinded coder a view of everyone's codes (agreement, queue, consensus, exports)."""
    with transaction(ctx.sessions) as session:
        round_ = require_round(session, name)
        blinded = visible_coders(session, round_.id, user.username, privileged=_privileged(user)) is not None
    if blinded:
        raise PermissionDeniedError(
            f"round '{name}' is coded blind and you have not finished it: others' codes stay hidden until you "
            f"mark it finished (POST /api/v1/rounds/{name}/finish)"
        )


def _decision_out(d: DecisionRecord) -> dict[str, Any]:
    return {"id": d.id, "coder": d.coder, "theme": d.theme_id, "decision": d.decision, "source": d.source,
            "score": d.score, "at": d.at}


# ------------------------------------------------------------------------------------------ grid and answer


@router.get("/{name}/answers")
def list_answers(
    name: str,
    ctx: ContextDep,
    user: CurrentUserDep,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    sort: Sort = "cluster",
    desc: bool = False,
    health_board: Annotated[str | None, Query(max_length=20)] = None,
    question: Annotated[str | None, Query(max_length=40)] = None,
    theme: Annotated[str | None, Query(max_length=60)] = None,
    theme_scope: Literal["any", "suggested", "coded"] = "any",
    status: Status | None = None,
    q: Annotated[str | None, Query(max_length=200, description="search the de-identified text")] = None,
) -> dict[str, Any]:
    """One page of the response grid (filtered, sorted and counted by the database)."""
    query = GridQuery(page=page, page_size=page_size, sort=sort, descending=desc, health_board=health_board,
                      question=question, theme=theme, theme_scope=theme_scope, status=status, search=q)
    with transaction(ctx.sessions) as session:
        grid = answer_grid(session, ctx.codebook, name, user.username, query, privileged=_privileged(user))
    return {
        "round": name, "total": grid.total, "page": grid.page, "page_size": grid.page_size,
        "pages": (grid.total + grid.page_size - 1) // grid.page_size, "blinded": grid.blinded,
        "status_counts": grid.status_counts,
        "rows": [
            {"answer_id": r.answer_id, "cluster": r.cluster_name, "health_board": r.health_board_id,
             "question": r.question_id, "text": r.text, "suggested": list(r.suggested), "status": r.status,
             "my_codes": list(r.my_codes)}
            for r in grid.rows
        ],
    }


@router.get("/{name}/answers/{answer_id}")
def get_answer(name: str, answer_id: int, ctx: ContextDep, user: CurrentUserDep) -> dict[str, Any]:
    """The coding view's data: de-identified text, suggestions with evidence offsets, suggested
    outcomes, your codes, decisions and memo, and the others' codes when you may see them."""
    with transaction(ctx.sessions) as session:
        view = answer_view(session, name, answer_id, user.username, privileged=_privileged(user))

    def coder(v: Any) -> dict[str, Any]:
        return {"coder": v.coder, "codes": list(v.codes), "status": v.status,
                "decisions": [_decision_out(d) for d in v.decisions]}

    return {
        "round": name, "answer_id": view.answer_id, "cluster": view.cluster_name,
        "health_board": view.health_board_id, "question": view.question_id, "text": view.text,
        "suggestion": view.suggestion, "blind": view.blind, "blinded": view.blinded,
        "mine": coder(view.mine),
        "memo": {"version": view.memo.version, "text": view.memo.text, "at": view.memo.at} if view.memo else None,
        "outcomes": list(view.outcomes) if view.outcomes is not None else None,
        "others": [coder(o) for o in view.others],
        "consensus": list(view.consensus) if view.consensus is not None else None,
    }


# ------------------------------------------------------------------------------------------ a coder's work


@router.post("/{name}/answers/{answer_id}/decisions", status_code=201)
def post_decision(name: str, answer_id: int, body: DecisionIn, ctx: ContextDep, user: CurrentUserDep) -> dict[str, Any]:
    """Accept, reject, add or remove one theme; answers the decision, your codes now and your status."""
    with transaction(ctx.sessions) as session:
        record = decisions.record_decision(session, ctx.codebook, name, answer_id, user.username, body.theme,
                                           body.decision)
        codes = decisions.current_codes(session, answer_id, user.username)
        status = decisions.answer_status(session, answer_id, user.username)
    return {"decision": _decision_out(record), "codes": sorted(codes), "status": status}


@router.put("/{name}/answers/{answer_id}/status")
def put_status(name: str, answer_id: int, body: StatusIn, ctx: ContextDep, user: CurrentUserDep) -> dict[str, Any]:
    """Mark the answer done (coded, even with no theme) or back in progress."""
    with transaction(ctx.sessions) as session:
        status = decisions.set_answer_status(session, name, answer_id, user.username, body.status)
    return {"answer_id": answer_id, "status": status}


@router.put("/{name}/answers/{answer_id}/memo")
def put_memo(name: str, answer_id: int, body: MemoIn, ctx: ContextDep, user: CurrentUserDep) -> dict[str, Any]:
    """Save your memo on the answer as a new version (earlier versions are kept)."""
    with transaction(ctx.sessions) as session:
        saved = decisions.save_memo(session, name, answer_id, user.username, body.text)
    return {"answer_id": answer_id, "version": saved.version, "text": saved.text, "at": saved.at}


@router.put("/{name}/answers/{answer_id}/outcomes")
def put_outcomes(name: str, answer_id: int, body: OutcomesIn, ctx: ContextDep, user: CurrentUserDep) -> dict[str, Any]:
    """Replace the suggested PCMW/ACD outcomes with your own list."""
    with transaction(ctx.sessions) as session:
        saved = decisions.set_outcomes(session, ctx.codebook, name, answer_id, user.username, body.outcomes)
    return {"answer_id": answer_id, "outcomes": list(saved)}


@router.post("/{name}/finish")
def post_finish(name: str, ctx: ContextDep, user: CurrentUserDep, body: FinishIn | None = None) -> dict[str, Any]:
    """Declare your coding of the round finished: answers left in progress become done and, in a
    blind round, the others' codes become visible to you (and yours are closed)."""
    finished = body.finished if body is not None else True
    with transaction(ctx.sessions) as session:
        marked = decisions.finish_round(session, name, user.username, finished=finished)
        progress = decisions.coder_progress(session, name, user.username)
    return {"round": name, "coder": user.username, "finished": finished, "answers_marked_done": marked, **progress}


# ------------------------------------------------------------------------------------------ the round


@router.get("/{name}/settings")
def get_settings(name: str, ctx: ContextDep, user: CurrentUserDep) -> dict[str, Any]:
    with transaction(ctx.sessions) as session:
        current = round_settings(session, name)
        finished = coder_finished(session, name, user.username)
        progress = decisions.coder_progress(session, name, user.username)
    return {"round": name, "blind_coding": current.blind_coding, "set_by": current.set_by, "at": current.at,
            "you": {"finished": finished, **progress}}


@router.put("/{name}/settings")
def put_settings(name: str, body: SettingsIn, ctx: ContextDep, user: CurrentUserDep) -> dict[str, Any]:
    """Switch blind coding on or off (programme, admin); the change is logged."""
    with transaction(ctx.sessions) as session:
        current = set_blind_coding(session, name, body.blind_coding, user.username)
    return {"round": name, "blind_coding": current.blind_coding, "set_by": current.set_by, "at": current.at}


def _records(rows: list[consensus.StoredCoding]) -> list[CodingRecord]:
    return [CodingRecord(r.answer_id, r.coder, r.themes, r.question_id) for r in rows]


@router.get("/{name}/agreement")
def get_agreement(name: str, ctx: ContextDep, user: CurrentUserDep) -> dict[str, Any]:
    """Per theme and overall: prevalence, Cohen's kappa (pairs), Krippendorff's alpha, Gwet's AC1 between
    the coders (answers they marked done); the suggester as one more coder against each human and, where
    consensus is recorded, against it (with precision, recall and F1)."""
    _require_unblinded(ctx, name, user)
    with transaction(ctx.sessions) as session:
        humans = consensus.human_codings(session, name)
        machine = consensus.machine_codings(session, name, {h.answer_id for h in humans})
        gold = consensus.consensus_codings(session, name)
    per_question = themes_by_question(ctx.codebook)
    summary = summarise_agreement(_records(humans), per_question)
    comparison = machine_vs_humans(_records(humans), _records(machine), per_question,
                                   _records(gold) if gold else None)
    return {"round": name, "coders": list(summary.coders), "answers_coded": summary.n_answers,
            "consensus_answers": len(gold), "agreement": summary.to_dict(), "machine": comparison.to_dict()}


@router.get("/{name}/disagreements")
def get_disagreements(
    name: str, ctx: ContextDep, user: CurrentUserDep, include_resolved: bool = False
) -> dict[str, Any]:
    """The queue to settle: answers two or more coders finished with different theme sets."""
    _require_unblinded(ctx, name, user)
    with transaction(ctx.sessions) as session:
        queue = consensus.disagreement_queue(session, name, include_resolved=include_resolved)
    items = []
    for item in queue:
        sets = {c: set(t) for c, t in item.codes.items()}
        question = ctx.codebook.question(item.question_id)
        splits = [
            {"theme": t.id, "applied_by": [c for c, s in sets.items() if t.id in s],
             "not_applied_by": [c for c, s in sets.items() if t.id not in s]}
            for t in question.themes
            if 0 < sum(t.id in s for s in sets.values()) < len(sets)
        ]
        agreed = [t.id for t in question.themes if all(t.id in s for s in sets.values())]
        items.append({"answer_id": item.answer_id, "cluster": item.cluster_name, "health_board": item.health_board_id,
                      "question": item.question_id, "text": item.text, "codes": item.codes, "agreed": agreed,
                      "splits": splits, "consensus": list(item.consensus) if item.consensus is not None else None})
    return {"round": name, "count": len(items), "disagreements": items}


@router.post("/{name}/answers/{answer_id}/consensus", status_code=201)
def post_consensus(name: str, answer_id: int, body: ConsensusIn, ctx: ContextDep, user: CurrentUserDep) -> dict[str, Any]:
    """Record the group's agreed theme set for the answer: the round's gold standard for it."""
    _require_unblinded(ctx, name, user)
    with transaction(ctx.sessions) as session:
        agreed = consensus.record_consensus(session, ctx.codebook, name, answer_id, body.themes, user.username,
                                            body.note)
    return {"answer_id": answer_id, "consensus": sorted(agreed), "decided_by": user.username, "note": body.note}


# ------------------------------------------------------------------------------------------ retraining


def _retrain_out(result: retraining.RetrainResult) -> dict[str, Any]:
    return {"id": result.id, "status": result.status, "model_before": result.model_before,
            "model_after": result.model_after, "started_by": result.started_by, "started_at": result.started_at,
            "finished_at": result.finished_at, "error": result.error, "metrics": result.metrics}


def _run_in_background(ctx: AppContext, service: Any, retrain_id: int) -> None:
    try:
        retraining.run_retrain(ctx, service, retrain_id)
    except Exception:  # recorded on the run (status failed) and logged by run_retrain
        pass


@router.post("/{name}/retrain", status_code=202)
def post_retrain(name: str, ctx: ContextDep, service: SuggesterDep, user: CurrentUserDep) -> dict[str, Any]:
    """Refit the suggester on the bundled answers plus this round's settled codes, in the background.
    Poll ``GET retrain/{id}`` for the status and the per-theme before/after table."""
    retrain_id = retraining.start_retrain(ctx, service, name, actor=user.username)
    threading.Thread(target=_run_in_background, args=(ctx, service, retrain_id), name=f"retrain-{retrain_id}",
                     daemon=True).start()
    return {"id": retrain_id, "status": "running", "url": f"/api/v1/rounds/{name}/retrain/{retrain_id}"}


@router.get("/{name}/retrain/{retrain_id}")
def get_retrain(name: str, retrain_id: int, ctx: ContextDep) -> dict[str, Any]:
    return _retrain_out(retraining.retrain_result(ctx, retrain_id, name))


@router.post("/{name}/retrain/{retrain_id}/activate")
def activate_retrain(
    name: str, retrain_id: int, request: Request, ctx: ContextDep, service: SuggesterDep, user: CurrentUserDep
) -> dict[str, Any]:
    """Put a finished run's model into service: suggestions from now on (and after a restart) use it.
    A person decides, having seen the before/after table: a retrained model is not always better."""
    new_service = retraining.activate_retrain(ctx, service, retrain_id, name, actor=user.username)
    request.app.state.suggestions = new_service
    return {"id": retrain_id, "model": new_service.model, "model_before": service.model}


# ------------------------------------------------------------------------------------------ exports


def _export_rows(ctx: AppContext, name: str) -> list[consensus.CodeRow]:
    with transaction(ctx.sessions) as session:
        return consensus.code_rows(session, name)


def _file(path: Path, media_type: str, filename: str) -> Response:
    return Response(path.read_bytes(), media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "round"


def _spreadsheet_rows(ctx: AppContext, rows: list[consensus.CodeRow]) -> list[CodeExportRow]:
    boards = {b.id: b.short_name for b in ctx.codebook.health_boards}
    return [CodeExportRow(r.answer_id, r.cluster, boards.get(r.health_board, r.health_board), r.question, r.theme,
                          r.coder, r.decision, r.at) for r in rows]


@router.get("/{name}/exports/codes.csv")
def export_csv(name: str, ctx: ContextDep, user: CurrentUserDep) -> Response:
    """Every coder's latest decision per theme, then the consensus: answer, cluster, board, question,
    theme, coder, decision, time."""
    _require_unblinded(ctx, name, user)
    rows = _spreadsheet_rows(ctx, _export_rows(ctx, name))
    with tempfile.TemporaryDirectory() as folder:
        path = write_codes_csv(rows, Path(folder) / "codes.csv")
        return _file(path, "text/csv; charset=utf-8", f"{_safe_name(name)}-codes.csv")


@router.get("/{name}/exports/codes.xlsx")
def export_xlsx(name: str, ctx: ContextDep, user: CurrentUserDep) -> Response:
    _require_unblinded(ctx, name, user)
    rows = _spreadsheet_rows(ctx, _export_rows(ctx, name))
    with tempfile.TemporaryDirectory() as folder:
        path = write_codes_xlsx(rows, Path(folder) / "codes.xlsx")
        return _file(path, XLSX, f"{_safe_name(name)}-codes.xlsx")


def qda_project(ctx: AppContext, name: str, rows: list[consensus.CodeRow]) -> QdaProject:
    """The round's applied codes (accepted/added by a coder, or agreed) as a REFI-QDA project.

    Each coding selects the suggestion's evidence sentence when the theme was suggested, otherwise the
    whole answer; answers no suggestion run has de-identified are left out (their text never leaves).
    """
    questions = {q.id: q.label for q in ctx.codebook.questions}
    boards = {b.id: b.short_name for b in ctx.codebook.health_boards}
    applied = [r for r in rows if r.decision in ("accept", "add", "agreed") and r.text]
    sources: dict[int, QdaSource] = {}
    for r in applied:
        sources.setdefault(r.answer_id, QdaSource(str(r.answer_id), f"{r.cluster} – {questions.get(r.question, r.question)}",
                                                  r.text or "", r.cluster, boards.get(r.health_board, r.health_board),
                                                  r.question))
    codings = []
    for r in applied:
        start, end = r.evidence if r.evidence else selection_for(r.text or "", None)
        codings.append(QdaCoding(str(r.answer_id), r.theme, r.coder, start, end, None, r.at))
    coders = sorted({r.coder for r in applied})
    used_questions = sorted({r.question for r in applied})
    return QdaProject(
        name=f"Clwstwr round {name}",
        users=tuple(QdaUser(c, c) for c in coders),
        codes=codes_from_codebook(ctx.codebook, used_questions or None),
        sources=tuple(sources.values()),
        codings=tuple(codings),
    )


@router.get("/{name}/exports/project.qdpx")
def export_qdpx(name: str, ctx: ContextDep, user: CurrentUserDep) -> Response:
    """A REFI-QDA project (.qdpx) that NVivo, ATLAS.ti, MAXQDA and QualCoder import."""
    _require_unblinded(ctx, name, user)
    project = qda_project(ctx, name, _export_rows(ctx, name))
    with tempfile.TemporaryDirectory() as folder:
        path = write_qdpx(project, Path(folder) / "project.qdpx")
        return _file(path, "application/zip", f"{_safe_name(name)}.qdpx")
