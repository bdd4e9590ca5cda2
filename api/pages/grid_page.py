"""The response grid page: one row per answer, filtered, sorted and paginated by the database.

Only the page being looked at is rendered (``store.answer_grid`` does the filtering, counting and
ordering in SQL), so a round of thousands of answers costs the same as one of fifty. Filters and sort
live in the URL: a filtered view can be bookmarked, shared, and reached again with the back button,
and the coding view receives it so that "next answer" means the next row of *this* grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from store.answer_grid import MAX_PAGE_SIZE, SORTS, STATUSES, THEME_SCOPES, GridQuery, answer_grid
from store.coding_decisions import coder_progress
from store.database import transaction
from store.workspace import coder_finished, round_settings

from ..dependencies import ContextDep, CurrentUserDep
from .page_templates import render
from .workspace_labels import FINISH_ROUTE, SETTINGS_ROUTE, Labels, is_privileged, may

router = APIRouter(include_in_schema=False)

PAGE_SIZES = (25, 50, 100, 200)
TEXT_PREVIEW = 240


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


@dataclass(frozen=True)
class GridParams:
    """The grid's URL parameters, as the page and the coding view's navigation both read them."""

    board: str | None = None
    question: str | None = None
    theme: str | None = None
    scope: str = "any"
    status: str | None = None
    q: str | None = None
    sort: str = "cluster"
    desc: bool = False
    size: int = 50

    def query(self, page: int, size: int | None = None) -> GridQuery:
        return GridQuery(page=page, page_size=size or self.size, sort=self.sort, descending=self.desc,
                         health_board=self.board, question=self.question, theme=self.theme,
                         theme_scope=self.scope, status=self.status, search=self.q)

    def as_dict(self) -> dict[str, object]:
        """What goes back into links (defaults left out, so URLs stay short)."""
        values: dict[str, object] = {"board": self.board, "question": self.question, "theme": self.theme,
                                     "status": self.status, "q": self.q}
        if self.theme and self.scope != "any":
            values["scope"] = self.scope
        if self.sort != "cluster":
            values["sort"] = self.sort
        if self.desc:
            values["desc"] = "1"
        if self.size != 50:
            values["size"] = self.size
        return {k: v for k, v in values.items() if v not in (None, "")}


def grid_params(
    board: Annotated[str | None, Query(max_length=40)] = None,
    question: Annotated[str | None, Query(max_length=60)] = None,
    theme: Annotated[str | None, Query(max_length=60)] = None,
    scope: Annotated[str, Query(max_length=20)] = "any",
    status: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str, Query(max_length=20)] = "cluster",
    desc: Annotated[str | None, Query(max_length=5)] = None,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> GridParams:
    """Blank form fields mean "no filter" (a select left at "All" sends ``board=``)."""
    return GridParams(board=_blank(board), question=_blank(question), theme=_blank(theme), scope=scope or "any",
                      status=_blank(status), q=_blank(q), sort=sort or "cluster", desc=desc in ("1", "true", "on"),
                      size=size)


GridParamsDep = Annotated[GridParams, Depends(grid_params)]


def _preview(text: str | None) -> str:
    if text is None:
        return ""
    return text if len(text) <= TEXT_PREVIEW else text[: TEXT_PREVIEW - 1].rsplit(" ", 1)[0] + " …"


@router.get("/rounds/{name}/grid", response_class=HTMLResponse)
def grid_page(
    name: str,
    request: Request,
    user: CurrentUserDep,
    ctx: ContextDep,
    params: GridParamsDep,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """One page of the round's answers; a bad filter value is refused naming the parameter (CW710)."""
    with transaction(ctx.sessions) as session:
        result = answer_grid(session, ctx.codebook, name, user.username, params.query(page),
                             privileged=is_privileged(user))
        settings = round_settings(session, name)
        finished = coder_finished(session, name, user.username)
        progress = coder_progress(session, name, user.username)
    last_page = max(1, -(-result.total // params.size))
    first_position = (page - 1) * params.size + 1
    rows = [(first_position + i, row, _preview(row.text)) for i, row in enumerate(result.rows)]
    return render(
        request, "grid.html.j2", user,
        round_name=name, params=params, base=params.as_dict(), page=page, last_page=last_page, result=result,
        rows=rows, labels=Labels.from_codebook(ctx.codebook), codebook=ctx.codebook,
        statuses=STATUSES, sorts=SORTS, scopes=THEME_SCOPES, page_sizes=PAGE_SIZES,
        first_shown=first_position if result.rows else 0, last_shown=first_position + len(result.rows) - 1,
        settings=settings, finished=finished, progress=progress,
        can_finish=may(user, FINISH_ROUTE), can_set_blind=may(user, SETTINGS_ROUTE),
    )
