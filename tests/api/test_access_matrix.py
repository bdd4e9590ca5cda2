"""The role-by-route matrix: every route of the app, tried as every role and as nobody.

Routes are read from the app itself (``app.routes``, flattened), not from a list kept here, so a route
added without a line in ``api/access.py`` fails ``test_access_every_route_has_a_rule`` by name, and is
refused by the running app until it has one. Expectations are computed from the policy table in this
file's own words; ``test_access_policy_keeps_the_issues_promises`` pins the promises of issue 5 so the
table cannot quietly drift from them.

"Allowed" means the request got past the access check: anything but 401/403 (a 404 for an id that
does not exist, or a 422 for the empty body sent, is fine) -- and never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.access import POLICY, Rule, rule_for
from api.app import create_app
from api.dependencies import SESSION_COOKIE, session_cookie_value
from clwstwr.importing import import_file
from clwstwr.settings import Settings
from corpora.sample_round import SAMPLE_CSV, SAMPLE_DIR
from store import users
from store.database import transaction

from .conftest import make_account

ROUND = "2024"
ROLES = ("reviewer", "chair", "programme", "admin")
# Who knocks: nobody, each role, and a chair granted the round that round-scoped routes are called with.
PRINCIPALS = ("anonymous", *ROLES, "granted-chair")
BODY_METHODS = {"POST", "PUT", "PATCH"}


def app_route_keys(app: FastAPI) -> list[tuple[str, str]]:
    """(METHOD, path template) for every route the app serves; HEAD rides on GET, a mount counts as GET."""
    keys: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = route.path
        if path is None:
            continue
        methods = set(route.methods or {"GET"})
        if "GET" in methods:
            methods.discard("HEAD")
        keys.update((method, path) for method in methods)
    return sorted(keys, key=lambda k: (k[1], k[0]))


# Built without its lifespan (nothing loads), only to list the routes for parametrisation.
ROUTE_KEYS = app_route_keys(create_app(Settings(home=Path("/nonexistent/clwstwr-route-listing"))))


def expected_allowed(rule: Rule, principal: str) -> bool:
    if rule.public:
        return True
    if principal == "anonymous":
        return False
    role = "chair" if principal == "granted-chair" else principal
    granted = principal == "granted-chair" and rule.round_param is not None
    return role in rule.roles or (role in rule.granted_roles and granted)


def concrete_path(path: str, rule: Rule | None) -> str:
    """Fill path parameters: the round a chair may be granted for the rule's round, "1" elsewhere."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":", 1)[0]
        return ROUND if rule is not None and name == rule.round_param else "1"

    return re.sub(r"\{([^}]+)\}", fill, path)


# ------------------------------------------------------------------------------------------ the policy itself


def test_access_every_route_has_a_rule() -> None:
    missing = [f"{method} {path}" for method, path in ROUTE_KEYS if rule_for(method, path) is None]
    assert not missing, f"routes with no line in api/access.py POLICY (they refuse everyone until given one): {missing}"


def test_access_every_rule_names_a_route() -> None:
    stale = sorted(f"{m} {p}" for m, p in POLICY if (m, p) not in set(ROUTE_KEYS))
    assert not stale, f"api/access.py has rules for routes the app does not serve (renamed or removed?): {stale}"


def test_access_admin_may_do_everything_that_is_not_public() -> None:
    assert all(rule.public or "admin" in rule.roles for rule in POLICY.values())


def test_access_policy_keeps_the_issues_promises() -> None:
    may_be_public = {
        "GET /healthz", "GET /openapi.json", "GET /docs", "GET /docs/oauth2-redirect", "GET /redoc",
        "POST /api/v1/login", "POST /login", "GET /login", "POST /api/v1/logout", "POST /logout",
        "GET /static/{filename}",
    }
    public = {f"{m} {p}" for (m, p), rule in POLICY.items() if rule.public}
    assert public <= may_be_public, (
        f"only health, documentation, logging in/out and static files are open to anyone, not {public - may_be_public}"
    )
    for (method, path), rule in POLICY.items():
        if path.startswith(("/api/v1/users", "/api/v1/audit")):
            assert rule.roles == {"admin"} and not rule.granted_roles, f"{method} {path} is for administrators only"
        if "/letters" in path and method in {"POST", "PUT", "PATCH", "DELETE"}:
            assert "reviewer" not in rule.roles, f"a reviewer cannot edit a letter ({method} {path})"
    summary = POLICY[("GET", "/api/v1/rounds/{name}/summary")]
    assert {"programme", "admin", "reviewer"} <= summary.roles and "chair" not in summary.roles
    assert summary.granted_roles == {"chair"}, "a chair sees a round only when granted it"


# ------------------------------------------------------------------------------------------ the matrix over HTTP


@pytest.fixture(scope="module")
def matrix_client(tmp_path_factory: pytest.TempPathFactory, models_home: Path, text_models) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path_factory.mktemp("matrix-home"), models_path=models_home / "models")
    with TestClient(create_app(settings, text_models=text_models)) as client:
        ctx = client.app.state.context  # type: ignore[attr-defined]
        import_file(ctx.sessions, ctx.codebook, SAMPLE_DIR / SAMPLE_CSV, ROUND, actor="tests")
        yield client


@pytest.fixture(scope="module")
def accounts(matrix_client: TestClient) -> dict[str, users.UserRecord]:
    ctx = matrix_client.app.state.context  # type: ignore[attr-defined]
    made = {p: make_account(matrix_client, "chair" if p == "granted-chair" else p, rounds=[ROUND] if p == "granted-chair" else [])
            for p in PRINCIPALS if p != "anonymous"}
    with transaction(ctx.sessions) as session:
        return {p: users.get_user(session, a.username) for p, a in made.items()}  # type: ignore[misc]


def _cookie_for(client: TestClient, user: users.UserRecord) -> str:
    """A fresh session per request, so a log-out or disable in one case cannot leak into the next."""
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with transaction(ctx.sessions) as session:
        token = users.create_session(session, user, lifetime=ctx.settings.session_lifetime)
    return session_cookie_value(ctx.settings, token)


@pytest.mark.slow
@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(("method", "path"), ROUTE_KEYS, ids=[f"{m} {p}" for m, p in ROUTE_KEYS])
def test_access_matrix(matrix_client: TestClient, accounts: dict[str, users.UserRecord],
                       method: str, path: str, principal: str) -> None:
    rule = rule_for(method, path)
    cookies = {} if principal == "anonymous" else {SESSION_COOKIE: _cookie_for(matrix_client, accounts[principal])}
    client = TestClient(matrix_client.app, cookies=cookies)
    url = concrete_path(path, rule)
    response = client.request(method, url, json={} if method in BODY_METHODS else None, follow_redirects=False)
    if rule is not None and expected_allowed(rule, principal):
        assert response.status_code not in (401, 403), f"{principal} should reach {method} {url}: {response.text[:300]}"
        assert response.status_code < 500, f"{principal} reached {method} {url} but it answered {response.status_code}"
        return
    want = 401 if principal == "anonymous" and rule is not None else 403
    assert response.status_code == want, f"{principal} should be refused {method} {url}: {response.status_code}"
    assert response.json()["error"]["code"] == ("CW700" if want == 401 else "CW701")
