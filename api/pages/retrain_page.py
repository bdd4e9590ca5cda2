"""The retraining page: start a refit of the suggester on the reviewers' settled codes, and see per
theme how precision and recall of the suggestions changed on answers the new model never trained on.

The run itself is ``clwstwr.retraining`` behind ``POST /api/v1/rounds/{name}/retrain`` (a background
thread); this page shows the round's latest run, or the one named in ``?run=``, and its script polls
the API while a run is going. Runs are found through their audit events, the one public record that
lists every run of a round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from clwstwr.retraining import HOLDOUT_SHARE, RetrainResult, retrain_result
from store import users
from store.consensus import decided_answers
from store.database import transaction
from store.rounds import require_round

from ..dependencies import ContextDep, CurrentUserDep
from .page_templates import render
from .workspace_labels import RETRAIN_ROUTE, Labels, may

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class MetricRow:
    theme: str
    label: str
    question: str
    support: int
    answers: int
    before: dict[str, Any]
    after: dict[str, Any]


def change(before: float | None, after: float | None) -> str:
    """"better", "worse" or "same" (or "" when either side is undefined), for the table's marks."""
    if before is None or after is None:
        return ""
    if abs(after - before) < 1e-9:
        return "same"
    return "better" if after > before else "worse"


def _latest_run_id(session: Any, round_name: str) -> int | None:
    started = [e for e in users.audit_events(session, kind_prefix="coding.retrain_started") if e.round == round_name]
    return int(started[-1].payload["retrain_id"]) if started else None  # type: ignore[arg-type]


@router.get("/rounds/{name}/retrain", response_class=HTMLResponse)
def retrain_page(
    name: str,
    request: Request,
    user: CurrentUserDep,
    ctx: ContextDep,
    run: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    with transaction(ctx.sessions) as session:
        require_round(session, name)
        settled = len(decided_answers(session, name))
        run_id = run or _latest_run_id(session, name)
    result: RetrainResult | None = retrain_result(ctx, run_id, name) if run_id else None
    rows: list[MetricRow] = []
    overall = None
    if result is not None and result.status == "done":
        rows = [MetricRow(t["theme"], t["label"], t["question"], t["support"], t["answers"], t["before"], t["after"])
                for t in result.metrics.get("themes", [])]
        overall = result.metrics.get("overall")
    return render(
        request, "retrain.html.j2", user,
        round_name=name, settled=settled, result=result, rows=rows, overall=overall, change=change,
        holdout_share=HOLDOUT_SHARE, can_retrain=may(user, RETRAIN_ROUTE), labels=Labels.from_codebook(ctx.codebook),
        in_service=request.app.state.suggestions.model,
    )
