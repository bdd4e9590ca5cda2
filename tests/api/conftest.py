"""Logging in from API tests: every route but /healthz, /openapi.json and log-in itself needs a user.

Use the ``login`` fixture with any TestClient whose app is running (inside ``with TestClient(app)``)::

    def test_something(client, login):
        login(client, "chair", rounds=["2024"])   # creates a chair granted round 2024 and logs in
        client.get(...)                            # now carries that user's session cookie

It creates a real account in the app's own database (``client.app.state.context``) and logs in
through ``POST /api/v1/login``, so the cookie is the one a browser would hold. Calling it again on the
same client switches user. The fixture is session-scoped so module-scoped client fixtures can use it.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from store import users
from store.database import transaction

_numbers = itertools.count(1)


@dataclass(frozen=True)
class TestAccount:
    """An account a test made: what it needs to log in again or to assert on actors."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    username: str
    password: str
    role: str


def make_account(client: TestClient, role: str, *, username: str | None = None,
                 rounds: Iterable[str] = ()) -> TestAccount:
    """Create a user with ``role`` (granted ``rounds``, which must exist) in the client's app."""
    ctx = client.app.state.context  # type: ignore[attr-defined]
    name = username or f"{role}-{next(_numbers)}-{secrets.token_hex(2)}"
    password = secrets.token_urlsafe(18)
    with transaction(ctx.sessions) as session:
        users.create_user(session, name, password, role, actor="tests")
        for round_name in rounds:
            users.grant_round(session, name, round_name, actor="tests")
    return TestAccount(username=name, password=password, role=role)


def log_in(client: TestClient, account: TestAccount) -> None:
    response = client.post("/api/v1/login", json={"username": account.username, "password": account.password})
    assert response.status_code == 200, response.text


def login_as(client: TestClient, role: str, *, username: str | None = None, rounds: Iterable[str] = ()) -> TestAccount:
    account = make_account(client, role, username=username, rounds=rounds)
    log_in(client, account)
    return account


@pytest.fixture(scope="session")
def login():  # -> Callable[..., TestAccount]
    """``login(client, role, *, username=None, rounds=())``: a new user of that role, logged in."""
    return login_as
