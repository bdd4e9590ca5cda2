"""Logging in and out, who am I, and the administrator's routes (accounts, audit export).

Log-in answers the same 401 for an unknown user name, a wrong password and a disabled account, after
the same hashing work: the answer never tells a guesser which half was right (the audit log does, for
an administrator). A user name with too many recent failures (``Settings.login_max_failures`` within
``login_window_minutes``) is refused before its password is checked: 429 with ``Retry-After`` from the
JSON route, a flagged redirect back to the form from the browser's; names that are accounts and names
that are not are refused alike (``store.users.begin_login``). The session cookie is HttpOnly (no
script can read it), SameSite=Lax (not sent on cross-site posts) and Secure outside development.

``AuthenticationError`` (CW700) and ``PermissionDeniedError`` (CW701) are defined in ``api.access``
(beside the policy they enforce, so ``api.dependencies`` can raise them without importing this module)
and re-exported here.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from clwstwr.context import AppContext
from clwstwr.settings import Settings
from store import users
from store.database import transaction
from store.users import LoginThrottledError, UserRecord

from .access import AuthenticationError, PermissionDeniedError
from .dependencies import (
    SESSION_COOKIE,
    ActorDep,
    ContextDep,
    CurrentUserDep,
    session_cache,
    session_cookie_value,
    token_from_cookie,
)

__all__ = ["AuthenticationError", "PermissionDeniedError", "router", "admin_router"]

router = APIRouter(tags=["log-in"])
admin_router = APIRouter(prefix="/api/v1", tags=["administration"])

WRONG_CREDENTIALS = "wrong user name or password"


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=200)
    password: str = Field(max_length=users.MAX_PASSWORD_LENGTH)


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    active: bool
    created_at: datetime
    rounds: list[str] = Field(description="rounds granted to this user (what a chair may see)")


class NewUserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=200)
    password: str = Field(max_length=users.MAX_PASSWORD_LENGTH)
    role: str = Field(description=f"one of {', '.join(users.ROLES)}")
    display_name: str | None = Field(default=None, max_length=200)


class GrantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    round: str = Field(max_length=100, description="name of a stored round, e.g. 2024")


class UserList(BaseModel):
    users: list[UserOut]


def _user_out(session: Session, user: UserRecord) -> UserOut:
    return UserOut(username=user.username, display_name=user.display_name, role=user.role, active=user.active,
                   created_at=user.created_at, rounds=users.granted_rounds(session, user.id))


# ------------------------------------------------------------------------------------------ log-in / out


def _set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie_value(settings, token),
        max_age=int(settings.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=not settings.is_development,
        path="/",
    )


def _login_policy(settings: Settings) -> users.LoginPolicy:
    return users.LoginPolicy(max_failures=settings.login_max_failures, window=settings.login_window)


def _log_in(request: Request, ctx: AppContext, username: str, password: str) -> tuple[UserOut | None, str | None]:
    """Check the credentials and open a session; a session the browser already had is ended first.

    Two transactions on purpose: the throttle's decision (and this attempt, counted as a failure until
    proved otherwise) is committed before the password is hashed, so parallel guesses see each other.
    Raises LoginThrottledError after that commit, so the refusal's audit event is kept.
    """
    with transaction(ctx.sessions) as session:
        attempt = users.begin_login(session, username, policy=_login_policy(ctx.settings))
    if attempt.retry_after_seconds is not None:
        raise LoginThrottledError(attempt.retry_after_seconds)
    old = token_from_cookie(ctx.settings, request.cookies.get(SESSION_COOKIE))
    with transaction(ctx.sessions) as session:
        user = users.authenticate(session, username, password, attempt=attempt)
        if user is None:
            return None, None
        if old is not None:
            users.revoke_session(session, old)
        token = users.create_session(session, user, lifetime=ctx.settings.session_lifetime)
        out = _user_out(session, user)
    if old is not None:
        session_cache(request).forget_token(old)  # after the commit: a lookup racing it re-remembers it for seconds at most
    return out, token


@router.post("/api/v1/login", response_model=UserOut,
             responses={429: {"description": "too many failed log-ins for this user name (CW704); see Retry-After"}})
def login(body: LoginRequest, request: Request, response: Response, ctx: ContextDep) -> UserOut:
    """Log in with a user name and password; sets the session cookie and answers who you are.

    401 for a wrong name or password; 429 (CW704, with ``Retry-After`` in seconds) once the name has
    too many recent failures, whatever the password.
    """
    user, token = _log_in(request, ctx, body.username, body.password)
    if user is None or token is None:
        raise AuthenticationError(WRONG_CREDENTIALS)
    _set_session_cookie(response, ctx.settings, token)
    return user


def safe_next(target: str | None) -> str:
    """Where to go after a form log-in: a path on this site only (never an open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch in target for ch in "\r\n\t") or urlsplit(target).netloc:
        return "/"
    return target


@router.post("/login", include_in_schema=False)
def login_form(
    request: Request,
    ctx: ContextDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=users.MAX_PASSWORD_LENGTH)],
    next: Annotated[str | None, Form()] = None,  # noqa: A002 - the conventional field name
) -> RedirectResponse:
    """The browser's log-in form: on success go to ``next``; on failure back to the form, flagged
    (``failed=1``, or ``throttled=N`` for the minutes a throttled name must wait)."""
    target = safe_next(next or request.query_params.get("next"))
    try:
        user, token = _log_in(request, ctx, username, password)
    except LoginThrottledError as refused:
        return RedirectResponse(f"/login?throttled={refused.retry_after_minutes}&next={quote(target, safe='')}",
                                status_code=303)
    if user is None or token is None:
        return RedirectResponse(f"/login?failed=1&next={quote(target, safe='')}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, ctx.settings, token)
    return response


@router.post("/api/v1/logout")
def logout(request: Request, response: Response, ctx: ContextDep) -> dict[str, str]:
    """End this session (harmless when not logged in) and clear the cookie."""
    token = token_from_cookie(ctx.settings, request.cookies.get(SESSION_COOKIE))
    if token is not None:
        with transaction(ctx.sessions) as session:
            users.revoke_session(session, token)
        session_cache(request).forget_token(token)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=not ctx.settings.is_development)
    return {"status": "logged out"}


@router.get("/api/v1/me", response_model=UserOut)
def me(user: CurrentUserDep, ctx: ContextDep) -> UserOut:
    """Who is logged in, with their role and granted rounds."""
    with transaction(ctx.sessions) as session:
        return _user_out(session, user)


# ------------------------------------------------------------------------------------------ administration


@admin_router.get("/users", response_model=UserList)
def list_users(ctx: ContextDep) -> UserList:
    with transaction(ctx.sessions) as session:
        return UserList(users=[_user_out(session, u) for u in users.list_users(session)])


@admin_router.post("/users", response_model=UserOut, status_code=201)
def add_user(body: NewUserRequest, ctx: ContextDep, actor: ActorDep) -> UserOut:
    with transaction(ctx.sessions) as session:
        return _user_out(session, users.create_user(session, body.username, body.password, body.role, actor=actor,
                                 display_name=body.display_name))


@admin_router.post("/users/{username}/grants", response_model=UserOut)
def grant_round(username: str, body: GrantRequest, ctx: ContextDep, actor: ActorDep) -> UserOut:
    """Let a user (typically a chair) see one round's raw answers."""
    with transaction(ctx.sessions) as session:
        return _user_out(session, users.grant_round(session, username, body.round, actor=actor))


@admin_router.post("/users/{username}/disable", response_model=UserOut)
def disable_user(username: str, request: Request, ctx: ContextDep, actor: ActorDep) -> UserOut:
    """Refuse this account from now on; its open sessions end at once."""
    with transaction(ctx.sessions) as session:
        record = users.disable(session, username, actor=actor)
        out = _user_out(session, record)
    session_cache(request).forget_user(record.id)
    return out


def _csv_cell(value: object) -> str:
    """Text a spreadsheet will not run as a formula (a display name could start with '=')."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@admin_router.get("/audit")
def export_audit(
    ctx: ContextDep,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",  # noqa: A002
    kind: Annotated[str | None, Query(max_length=60, description="only events whose kind starts with this")] = None,
) -> Response:
    """The append-only events log (imports, ratings, coding, letters, accounts), oldest first."""
    with transaction(ctx.sessions) as session:
        events = users.audit_events(session, kind_prefix=kind)
    rows = [
        {"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "round": e.round, "payload": e.payload}
        for e in events
    ]
    if format == "json":
        return Response(json.dumps({"events": rows}, ensure_ascii=False), media_type="application/json")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at", "actor", "kind", "round", "payload"])
    for row in rows:
        payload = json.dumps(row["payload"], ensure_ascii=False, sort_keys=True)
        writer.writerow([row["id"], row["at"], _csv_cell(row["actor"]), row["kind"], _csv_cell(row["round"]), payload])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="clwstwr-audit.csv"'})
