"""What routes need, as ``Annotated`` aliases, resolved from the app's state (built in the lifespan).

Who is calling: the session cookie holds a random token plus an HMAC of it under the settings' secret
key. The HMAC lets a forged or stale-key cookie be refused without a database query and makes a new
secret key log everyone out; the database holds only the token's SHA-256 (``store.users``).

``authorize`` is installed on the whole app (``create_app``) and applies ``api.access.POLICY`` to every
route, so a route cannot forget its check; ``current_user`` / ``current_actor`` / ``require_role`` are for
routes that need to know who is calling or want a check of their own on top.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from clwstwr.context import AppContext
from clwstwr.settings import Settings
from nlp.suggestion_service import SuggestionService
from store import users
from store.database import transaction
from store.users import UserRecord

from .access import AuthenticationError, PermissionDeniedError, allows, rule_for
from .session_cache import SessionCache

log = logging.getLogger(__name__)

SESSION_COOKIE = "clwstwr_session"


async def get_context(request: Request) -> AppContext:
    # async: it only reads app state, and a plain def would cost a thread-pool hop on every request.
    return request.app.state.context


async def get_suggester(request: Request) -> SuggestionService:
    return request.app.state.suggestions


ContextDep = Annotated[AppContext, Depends(get_context)]
SuggesterDep = Annotated[SuggestionService, Depends(get_suggester)]


# ------------------------------------------------------------------------------------------ the cookie


def _mac(settings: Settings, token: str) -> str:
    key = settings.secret_key.get_secret_value().encode("utf-8")
    digest = hmac.new(key, token.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def session_cookie_value(settings: Settings, token: str) -> str:
    """What goes in the cookie for a session token."""
    return f"{token}.{_mac(settings, token)}"


def token_from_cookie(settings: Settings, value: str | None) -> str | None:
    """The session token in a cookie value, or None if absent or not signed with our key."""
    if not value or "." not in value:
        return None
    token, mac = value.rsplit(".", 1)
    # bytes, not str: compare_digest refuses non-ASCII str, and a cookie can hold anything
    return token if hmac.compare_digest(mac.encode("utf-8"), _mac(settings, token).encode("utf-8")) else None


# ------------------------------------------------------------------------------------------ who is calling


def _lookup_session(ctx: AppContext, token: str, cache: SessionCache) -> UserRecord | None:
    with transaction(ctx.sessions) as session:
        live = users.lookup_live_session(session, token)
    if live is None:
        return None
    cache.put(token, live)
    return live.user


def session_cache(request: Request) -> SessionCache:
    """This app's ``SessionCache`` (made in ``create_app``)."""
    return request.app.state.session_cache


async def optional_user(request: Request, ctx: ContextDep) -> UserRecord | None:
    """The logged-in user, or None. Resolved once per request (FastAPI caches dependencies).

    async, with only the database query on a worker thread: a plain def here and in the checks
    below cost a thread-pool hop each on every request, and a request without a cookie needs none.
    A session confirmed in the last few seconds needs neither (``api.session_cache``).
    """
    token = token_from_cookie(ctx.settings, request.cookies.get(SESSION_COOKIE))
    if token is None:
        return None
    cache = session_cache(request)
    user = cache.get(token)
    if user is not None:
        return user
    return await run_in_threadpool(_lookup_session, ctx, token, cache)


OptionalUserDep = Annotated[UserRecord | None, Depends(optional_user)]


async def current_user(user: OptionalUserDep) -> UserRecord:
    if user is None:
        raise AuthenticationError("not logged in (or the session has ended): log in with POST /api/v1/login")
    return user


CurrentUserDep = Annotated[UserRecord, Depends(current_user)]


async def current_actor(user: CurrentUserDep) -> str:
    """The name recorded as ``actor`` in events: the logged-in user's user name."""
    return user.username


ActorDep = Annotated[str, Depends(current_actor)]


def require_role(*roles: str) -> Callable[[UserRecord], UserRecord]:
    """A dependency admitting only ``roles``: ``Depends(require_role("chair", "admin"))``."""
    allowed = frozenset(roles)

    async def check(user: CurrentUserDep) -> UserRecord:
        if user.role not in allowed:
            raise PermissionDeniedError(f"role '{user.role}' may not do this; it needs one of: {', '.join(sorted(allowed))}")
        return user

    return check


def _has_round_grant(ctx: AppContext, user_id: int, round_name: str) -> bool:
    with transaction(ctx.sessions) as session:
        return users.has_round_grant(session, user_id, round_name)


async def authorize(request: Request, user: OptionalUserDep, ctx: ContextDep) -> None:
    """Apply ``api.access.POLICY`` to the route this request matched (installed on the whole app)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    rule = rule_for(request.method, path) if path else None
    if rule is None:
        log.error("route %s %s has no entry in api/access.py POLICY; refused", request.method, path)
        raise PermissionDeniedError(f"{request.method} {path}: this route has no access rule yet, so nobody may use it")
    if rule.public:
        return
    if user is None:
        raise AuthenticationError("not logged in (or the session has ended): log in with POST /api/v1/login")
    has_grant = False
    if user.role not in rule.roles and user.role in rule.granted_roles and rule.round_param:
        round_name = str(request.path_params.get(rule.round_param, ""))
        has_grant = await run_in_threadpool(_has_round_grant, ctx, user.id, round_name)
        if not has_grant:
            raise PermissionDeniedError(
                f"round '{round_name}': a {user.role} sees a round only when granted it; ask an administrator"
            )
    if not allows(rule, user.role, has_grant=has_grant):
        raise PermissionDeniedError(f"role '{user.role}' may not {request.method} {path}")
