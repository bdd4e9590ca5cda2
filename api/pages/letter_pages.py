"""The chair's pages: draft a letter from peer-review notes, and edit it with its provenance.

The editor shows the letter as it will be sent (the same ``letter_context`` the HTML, Word and PDF
exports use, so the sentences and their order are the letter's), each sentence editable and showing on
hover the words of the notes it came from. Saving goes through ``PUT /api/v1/letters/{id}`` with the
version the page was loaded from: if someone saved in between, the API refuses (409) and the script
keeps the chair's text on screen and says which version to reload — nothing is merged or lost.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from letters.letter_model import LANGUAGES, LetterDraft
from letters.letter_rendering import letter_context
from store import letters as letter_repo
from store import rounds
from store.database import transaction

from ..dependencies import ContextDep, CurrentUserDep
from .page_templates import render
from .workspace_labels import may

router = APIRouter(include_in_schema=False)

EDIT_ROUTE = ("PUT", "/api/v1/letters/{letter_id}")
CREATE_ROUTE = ("POST", "/api/v1/reviews/upload")
FORMATS = (("docx", "Word (.docx)"), ("pdf", "PDF"), ("html", "HTML"))
LANGUAGE_NAMES = {"en": "English", "cy": "Cymraeg", "bilingual": "Bilingual"}


@router.get("/letters/new", response_class=HTMLResponse)
def new_letter_page(request: Request, user: CurrentUserDep, ctx: ContextDep) -> HTMLResponse:
    """The form for a peer review's record and notes; the script uploads them and drafts the letter."""
    with transaction(ctx.sessions) as session:
        round_names = rounds.list_round_names(session)
    return render(request, "letter_new.html.j2", user, codebook=ctx.codebook, round_names=round_names,
                  can_create=may(user, CREATE_ROUTE))


@router.get("/letters/{letter_id}", response_class=HTMLResponse)
def letter_editor_page(
    letter_id: int,
    request: Request,
    user: CurrentUserDep,
    ctx: ContextDep,
    saved: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """The latest version, editable (chairs, admin); older versions are compared, never edited."""
    with transaction(ctx.sessions) as session:
        latest = letter_repo.latest_version(session, letter_id)
        versions = letter_repo.list_versions(session, letter_id)
    payload = dict(latest.payload)
    draft = LetterDraft.from_dict(payload)
    view = letter_context(draft, ctx.codebook, "en")["versions"][0]
    board = ctx.codebook.health_board(draft.review.health_board)
    return render(
        request, "letter_editor.html.j2", user,
        letter_id=letter_id, latest=latest, versions=versions, draft=draft, payload=payload, view=view, board=board,
        can_edit=may(user, EDIT_ROUTE), saved=saved, formats=FORMATS, languages=LANGUAGES,
        language_names=LANGUAGE_NAMES, outcome_labels={o.id: o.label for o in ctx.codebook.outcomes},
    )
