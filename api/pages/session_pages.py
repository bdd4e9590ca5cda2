"""The pages every user passes through: the log-in form, the home page, and the static files.

The home page is the user's to-do list by role — a reviewer sees their progress per round, a chair
their letters, the programme team the reports — so nobody has to know a URL to start work. Static
files are served by a route (not a mount) so they sit in the access policy like every other route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from store import coding_decisions, rounds, users
from store.database import transaction

from ..auth import safe_next
from ..dependencies import ContextDep, CurrentUserDep, OptionalUserDep
from .page_templates import STATIC_DIR, render
from .page_letters_index import letters_for_home

router = APIRouter(include_in_schema=False)

_STATIC_NAME = re.compile(r"[a-z][a-z0-9_-]{0,60}\.(css|js|svg)")
_MEDIA = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml"}

# What each role comes here to do; the home page lists these as links for every visible round.
ROUND_TASKS: dict[str, tuple[tuple[str, str], ...]] = {
    "reviewer": (("grid", "Code answers"), ("agreement", "Agreement and disagreements"), ("report", "Round report")),
    "chair": (("grid", "Read answers"), ("report", "Round report")),
    "programme": (("grid", "Answers"), ("agreement", "Agreement"), ("retrain", "Retrain suggestions"),
                  ("report", "All-Wales report")),
    "admin": (("grid", "Answers"), ("agreement", "Agreement"), ("retrain", "Retrain suggestions"),
              ("report", "All-Wales report")),
}


@dataclass(frozen=True)
class RoundCard:
    name: str
    tasks: tuple[tuple[str, str], ...]
    done: int | None
    in_progress: int | None


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    user: OptionalUserDep,
    next: Annotated[str | None, Query(max_length=2000)] = None,  # noqa: A002 - the conventional name
    failed: Annotated[str | None, Query(max_length=5)] = None,
    throttled: Annotated[str | None, Query(max_length=5)] = None,
) -> HTMLResponse:
    """The log-in form; POST /login (``api.auth``) checks it and comes back here flagged on failure:
    ``failed=1`` for a wrong name or password, ``throttled=N`` when the name must wait N minutes.

    ``throttled`` is read leniently (anything but a whole number of minutes shows the message without
    a number) because it arrives in a URL anyone can edit; the page still says what happened.
    """
    notice = _throttled_notice(throttled) if throttled is not None else None
    status = 429 if notice else 401 if failed else 200
    return render(request, "login.html.j2", user, status_code=status, next=safe_next(next),
                  failed=bool(failed) and notice is None, throttled_message=notice)


def _throttled_notice(minutes: str) -> str:
    """The sentence the page shows: the same words as the API's CW704 message (``store.users``)."""
    if minutes.isascii() and minutes.isdigit() and int(minutes) >= 1:
        text = users.throttled_message(int(minutes))
    else:
        text = "too many failed log-ins for this user name; try again later or ask an administrator"
    return text[0].upper() + text[1:] + "."


@router.get("/", response_class=HTMLResponse)
def home_page(request: Request, user: CurrentUserDep, ctx: ContextDep) -> HTMLResponse:
    """The user's rounds and what they can do in each, and (chairs, admins) their letters."""
    with transaction(ctx.sessions) as session:
        names = (users.granted_rounds(session, user.id) if user.role in users.GRANT_ONLY_ROLES
                 else rounds.list_round_names(session))
        cards = []
        for name in names:
            progress = coding_decisions.coder_progress(session, name, user.username) if user.role == "reviewer" else None
            cards.append(RoundCard(name, ROUND_TASKS.get(user.role, ()),
                                   progress["done"] if progress else None, progress["in_progress"] if progress else None))
        letters = letters_for_home(session, user) if user.role in ("chair", "admin") else []
    return render(request, "home.html.j2", user, cards=cards, letters=letters,
                  role_description=users.ROLES.get(user.role, ""))


@router.get("/static/{filename}")
def static_file(filename: str) -> Response:
    """A file of api/static by its bare name (no sub-directories, nothing outside it)."""
    match = _STATIC_NAME.fullmatch(filename)
    path = STATIC_DIR / filename
    if match is None or not path.is_file():
        raise HTTPException(status_code=404, detail=f"static file {filename!r}: no such file")
    return FileResponse(path, media_type=_MEDIA[match.group(1)], headers={"Cache-Control": "no-cache"})
