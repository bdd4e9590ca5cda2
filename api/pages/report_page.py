"""The programme team's report page: the all-Wales (or one health board's) thematic report of a round,
previewed in the page and downloaded as HTML, Word or PDF.

The report is built by ``clwstwr.reporting`` — the same job ``clwstwr report`` runs — with the app's
already-loaded text models, so a download costs the report's own work and no model loading. Topic
discovery (candidate new themes, the slow part) is left out unless asked for.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from clwstwr.reporting import build_round_report, resolve_board, summarise_round
from clwstwr.suggesting import TextModels
from letters.report_files import write_report_files
from letters.suppression import DEFAULT_THRESHOLD, Suppression
from store.database import transaction
from store.rounds import require_round

from ..dependencies import ContextDep, CurrentUserDep, SuggesterDep
from .page_templates import render

router = APIRouter(include_in_schema=False)

MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
BoardQuery = Annotated[str | None, Query(max_length=60, description="a health board id, short name or alias")]


def _board_id(ctx: ContextDep, board: str | None) -> str | None:
    return resolve_board(ctx.codebook, board).id if board and board.strip() else None


@router.get("/rounds/{name}/report", response_class=HTMLResponse)
def report_page(name: str, request: Request, user: CurrentUserDep, ctx: ContextDep, board: BoardQuery = None) -> HTMLResponse:
    """The filter, the headline figures for the chosen scope, the downloads and a preview."""
    board_id = _board_id(ctx, board)
    with transaction(ctx.sessions) as session:
        require_round(session, name)
    summary = summarise_round(ctx, name, board_id)
    chosen = ctx.codebook.health_board(board_id) if board_id else None
    # a board's figures follow the report's own rule: a count below the threshold is not shown here either
    responses = Suppression(DEFAULT_THRESHOLD if chosen else None).count(summary.responses)
    return render(request, "report.html.j2", user, round_name=name, board=chosen, summary=summary, responses=responses, threshold=DEFAULT_THRESHOLD,
                  codebook=ctx.codebook, formats=(("html", "HTML"), ("docx", "Word (.docx)"), ("pdf", "PDF")))


@router.get("/rounds/{name}/report/download")
def report_download(
    name: str,
    ctx: ContextDep,
    service: SuggesterDep,
    fmt: Annotated[Literal["html", "docx", "pdf"], Query(alias="format")] = "html",
    board: BoardQuery = None,
    topics: Annotated[bool, Query(description="include candidate new themes (topic discovery; slow)")] = False,
) -> Response:
    """The report file; HTML is shown inline (the page previews it), Word and PDF are attachments."""
    board_id = _board_id(ctx, board)
    models = TextModels(embedder=service.suggester.embedder, spacy_pipeline=service.deidentifier.nlp)
    report = build_round_report(ctx, name, board=board_id, discovery=topics, text_models=models, mapper=service.mapper)
    with tempfile.TemporaryDirectory(prefix="clwstwr-report-") as folder:
        files = write_report_files(report, ctx.templates, Path(folder), [fmt])
        path = {"html": files.html, "docx": files.docx, "pdf": files.pdf}[fmt]
        assert path is not None  # write_report_files wrote the one format asked for
        content = path.read_bytes()
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    filename = f"clwstwr-report-{safe}{'-' + board_id if board_id else ''}.{fmt}"
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(content, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"'})
