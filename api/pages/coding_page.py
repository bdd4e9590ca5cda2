"""The coding view: one answer, its suggestions with their evidence highlighted, and the coder's tools.

Everything the keyboard needs is in the page as data attributes (theme ids, decision states, the
previous/next answer of the grid the coder came from), so ``workspace.js`` never has to ask the server
what is on screen; it only sends decisions to the JSON API and updates what it shows from the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from corpora.codebook import Codebook
from store.answer_grid import AnswerView, answer_grid, answer_view
from store.database import transaction

from ..dependencies import ContextDep, CurrentUserDep
from .grid_page import GridParams, GridParamsDep
from .page_templates import render
from .workspace_labels import DECIDE_ROUTE, Labels, is_privileged, may

router = APIRouter(include_in_schema=False)

SHOWN_OUTCOMES = 3  # suggested outcomes listed (best first); the coder can add any other


@dataclass(frozen=True)
class Segment:
    """A stretch of the answer text; ``themes`` are the suggestions whose evidence covers it."""

    text: str
    themes: tuple[str, ...]


@dataclass(frozen=True)
class SuggestionRow:
    id: str
    label: str
    score: float | None
    evidence: str
    state: str  # pending | accept | reject


@dataclass(frozen=True)
class Neighbours:
    previous: tuple[int, int] | None  # (answer id, position in the grid)
    next: tuple[int, int] | None
    position: int | None
    total: int | None


def evidence_segments(text: str, themes: list[dict[str, Any]]) -> list[Segment]:
    """Cut the text at every evidence boundary so overlapping evidence (two themes, one sentence) is
    one highlighted stretch naming both themes, and offsets outside the text are ignored, not fatal."""
    spans = []
    for theme in themes:
        start, end = theme.get("evidence_start"), theme.get("evidence_end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
            spans.append((start, end, theme["id"]))
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    segments = []
    for a, b in zip(cuts, cuts[1:]):
        covering = tuple(t for s, e, t in spans if s <= a and b <= e)
        segments.append(Segment(text[a:b], covering))
    return segments


def _states(view: AnswerView) -> dict[str, str]:
    """The coder's latest decision per theme, as the suggestion list shows it."""
    latest: dict[str, str] = {}
    for decision in view.mine.decisions:
        latest[decision.theme_id] = decision.decision
    return {theme: ("accept" if d in ("accept", "add") else "reject") for theme, d in latest.items()}


def neighbours(session: Session, codebook: Codebook, round_name: str, viewer: str, params: GridParams,
               position: int | None, answer_id: int, *, privileged: bool) -> Neighbours:
    """The previous and next rows of the coder's grid (same filters and sort) around this answer.

    ``position`` is where the grid showed the answer; it is checked (the answer may have moved by one
    since, e.g. leaving a "not started" filter once coded) and, if the answer has left the filtered
    list, the next answer is the one that slid into its place.
    """
    if position is None:
        return Neighbours(None, None, None, None)
    total: list[int] = []

    def at(pos: int) -> int | None:
        if pos < 1:
            return None
        page = answer_grid(session, codebook, round_name, viewer, params.query(pos, size=1), privileged=privileged)
        total[:] = [page.total]
        return page.rows[0].answer_id if page.rows else None

    current = next((p for p in (position, position - 1, position + 1) if at(p) == answer_id), None)
    if current is None:
        prev_id, next_id = at(position - 1), at(position)
        return Neighbours((prev_id, position - 1) if prev_id else None, (next_id, position) if next_id else None,
                          None, total[0] if total else None)
    prev_id, next_id = at(current - 1), at(current + 1)
    return Neighbours((prev_id, current - 1) if prev_id else None, (next_id, current + 1) if next_id else None,
                      current, total[0] if total else None)


@router.get("/rounds/{name}/answers/{answer_id}", response_class=HTMLResponse)
def coding_page(
    name: str,
    answer_id: int,
    request: Request,
    user: CurrentUserDep,
    ctx: ContextDep,
    params: GridParamsDep,
    pos: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """One answer to code; read-only for roles that do not code (the same rule as the decision API)."""
    privileged = is_privileged(user)
    with transaction(ctx.sessions) as session:
        view = answer_view(session, name, answer_id, user.username, privileged=privileged)
        around = neighbours(session, ctx.codebook, name, user.username, params, pos, answer_id, privileged=privileged)
    question = ctx.codebook.question(view.question_id)
    suggestion = view.suggestion or {}
    suggested = list(suggestion.get("themes", []))
    states = _states(view)
    rows = [SuggestionRow(t["id"], t.get("label", t["id"]), t.get("score"), t.get("evidence", ""),
                          states.get(t["id"], "pending")) for t in suggested]
    suggested_outcomes = [o["id"] for o in suggestion.get("outcomes", [])[:SHOWN_OUTCOMES]]
    chosen_outcomes = list(view.outcomes) if view.outcomes is not None else suggested_outcomes
    outcome_scores = {o["id"]: o.get("score") for o in suggestion.get("outcomes", [])}
    return render(
        request, "coding.html.j2", user,
        round_name=name, view=view, question=question, labels=Labels.from_codebook(ctx.codebook),
        segments=evidence_segments(view.text or "", suggested), suggestions=rows,
        my_codes=set(view.mine.codes), suggested_outcomes=suggested_outcomes, chosen_outcomes=chosen_outcomes,
        outcome_scores=outcome_scores, outcomes=ctx.codebook.outcomes, around=around, base=params.as_dict(),
        can_code=may(user, DECIDE_ROUTE), model=str(suggestion.get("model", "")),
    )
