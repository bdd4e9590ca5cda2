"""Throttling failed log-ins per user name, on SQLite and PostgreSQL: what is counted, when a name is
refused and for how long, what lets it back in, and that the name as typed is never stored.

Time is injected (``now=``), never slept. The policy here allows 2 failures, not the default 5, to keep
the number of scrypt hashes (one per checked password) small; nothing below depends on the number.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from clwstwr.context import AppContext
from store import users
from store.database import transaction
from store.schema import Base, Event, utcnow
from store.user_tables import LoginFailure

PASSWORD = "correct horse battery staple"
POLICY = users.LoginPolicy(max_failures=2, window=timedelta(minutes=15))
MINUTE = timedelta(minutes=1)


def _add(ctx: AppContext, username: str = "alice") -> None:
    with transaction(ctx.sessions) as session:
        users.create_user(session, username, PASSWORD, "reviewer", actor="tests")


def _try(ctx: AppContext, username: str, password: str, now) -> users.UserRecord | users.LoginAttempt | None:  # type: ignore[no-untyped-def]
    """One log-in as the web app does it: the throttle's own transaction, then the password's."""
    with transaction(ctx.sessions) as session:
        attempt = users.begin_login(session, username, policy=POLICY, now=now)
    if attempt.throttled:
        return attempt
    with transaction(ctx.sessions) as session:
        return users.authenticate(session, username, password, attempt=attempt, now=now)


def _failures(ctx: AppContext) -> list[tuple[str, object]]:
    with transaction(ctx.sessions) as session:
        return [(row.username_key, row.at) for row in session.scalars(select(LoginFailure).order_by(LoginFailure.id))]


def _events(ctx: AppContext, kind: str) -> list[dict[str, object]]:
    with transaction(ctx.sessions) as session:
        return [e.payload for e in users.audit_events(session, kind_prefix=kind)]


def test_throttle_refuses_a_name_with_too_many_failures_until_the_oldest_leaves_the_window(ctx: AppContext) -> None:
    _add(ctx)
    t0 = utcnow()
    assert _try(ctx, "alice", "wrong guess number one", t0) is None
    assert _try(ctx, "ALICE ", "wrong guess number two", t0 + MINUTE) is None, "case and spaces do not dodge the count"
    refused = _try(ctx, "alice", PASSWORD, t0 + 2 * MINUTE)
    assert isinstance(refused, users.LoginAttempt) and refused.retry_after_seconds == 13 * 60, \
        "the right password is refused too, until the failure at t0 leaves the window at t0 + 15 min"
    assert len(_failures(ctx)) == 2, "a refusal is not a failure: waiting out the window always works"
    assert _events(ctx, "user.login_throttled") == [{"username": "alice", "retry_after_seconds": 780}]
    with transaction(ctx.sessions) as session, pytest.raises(ValueError, match="throttled"):
        users.authenticate(session, "alice", PASSWORD, attempt=refused)
    just_before = _try(ctx, "alice", PASSWORD, t0 + 15 * MINUTE - timedelta(seconds=1))
    assert isinstance(just_before, users.LoginAttempt) and just_before.retry_after_seconds == 1
    back = _try(ctx, "alice", PASSWORD, t0 + 15 * MINUTE)
    assert isinstance(back, users.UserRecord) and back.username == "alice", "the window has passed"
    assert _failures(ctx) == [], "a success deletes the name's rows"


def test_throttle_treats_an_unknown_name_exactly_like_an_account(ctx: AppContext) -> None:
    _add(ctx)
    t0 = utcnow()
    for name in ("alice", "nobody-here"):
        for minute in range(2):
            assert _try(ctx, name, "a wrong guess at it", t0 + minute * MINUTE) is None
    known, unknown = (_try(ctx, name, PASSWORD, t0 + 5 * MINUTE) for name in ("alice", "nobody-here"))
    assert isinstance(known, users.LoginAttempt) and isinstance(unknown, users.LoginAttempt)
    assert known.retry_after_seconds == unknown.retry_after_seconds == 10 * 60
    assert users.LoginThrottledError(600).message == users.LoginThrottledError(unknown.retry_after_seconds).message
    assert _events(ctx, "user.login_throttled") == [
        {"username": "alice", "retry_after_seconds": 600},
        {"retry_after_seconds": 600},  # no name: it is not an account, and may be a mistyped password
    ]


def test_throttle_counts_only_consecutive_failures_a_success_clears_them(ctx: AppContext) -> None:
    _add(ctx)
    t0 = utcnow()
    assert _try(ctx, "alice", "a wrong guess at it", t0) is None
    assert isinstance(_try(ctx, "alice", PASSWORD, t0 + MINUTE), users.UserRecord)
    assert _try(ctx, "alice", "a wrong guess at it", t0 + 2 * MINUTE) is None
    assert isinstance(_try(ctx, "alice", PASSWORD, t0 + 3 * MINUTE), users.UserRecord), \
        "one failure since the last success is below the limit of two"
    assert _failures(ctx) == []


def test_throttle_an_administrators_password_reset_lets_the_name_back_in(ctx: AppContext) -> None:
    _add(ctx)
    _add(ctx, "bob")
    now = utcnow()
    with transaction(ctx.sessions) as session:  # failures without hashing: the throttle counts rows
        for name in ("alice", "alice", "bob"):
            users.begin_login(session, name, policy=POLICY, now=now)
    with transaction(ctx.sessions) as session:
        assert users.login_wait(session, "alice", policy=POLICY, now=now) is not None
        users.set_password(session, "alice", "a new and longer passphrase", actor="admin")
    with transaction(ctx.sessions) as session:
        assert users.login_wait(session, "alice", policy=POLICY, now=now) is None
        assert users.authenticate(session, "alice", "a new and longer passphrase",
                                  attempt=users.begin_login(session, "alice", policy=POLICY, now=now)) is not None
    assert [key for key, _ in _failures(ctx)] == [users.username_key("bob")], "other names keep their count"
    assert _events(ctx, "user.password_set")[-1]["login_failures_cleared"] == 2


def test_throttle_attempts_count_before_the_password_is_hashed_and_simultaneous_ones_all_count(ctx: AppContext) -> None:
    now = utcnow()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def guess() -> None:
        try:
            barrier.wait(timeout=10)
            with transaction(ctx.sessions) as session:
                users.begin_login(session, "target", policy=POLICY, now=now)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guess) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(_failures(ctx)) == 2, "two attempts at the same instant are two rows, both counted"
    # Neither password has been checked yet: a third guess sent meanwhile is already refused.
    with transaction(ctx.sessions) as session:
        assert users.begin_login(session, "target", policy=POLICY, now=now).throttled


def test_throttle_wait_with_more_failures_than_the_limit_lasts_until_the_count_drops_below_it(ctx: AppContext) -> None:
    t0 = utcnow()
    key = users.username_key("carol")
    with transaction(ctx.sessions) as session:  # three failures (e.g. a burst that raced the check)
        session.add_all([LoginFailure(username_key=key, at=t0 + m * MINUTE) for m in (0, 1, 2)])
    with transaction(ctx.sessions) as session:
        assert users.login_wait(session, "carol", policy=POLICY, now=t0 + 3 * MINUTE) == 13 * MINUTE, \
            "with 3 failures and a limit of 2, the name may try again when the second-oldest leaves"


def test_throttle_prunes_rows_older_than_the_window_when_adding_one(ctx: AppContext) -> None:
    now = utcnow()
    with transaction(ctx.sessions) as session:
        session.add_all([
            LoginFailure(username_key=users.username_key("old"), at=now - 2 * POLICY.window),
            LoginFailure(username_key=users.username_key("recent"), at=now - MINUTE),
        ])
    with transaction(ctx.sessions) as session:
        users.begin_login(session, "someone", policy=POLICY, now=now)
    keys = [key for key, _ in _failures(ctx)]
    assert keys == [users.username_key("recent"), users.username_key("someone")]


def test_throttle_never_stores_the_name_as_typed(ctx: AppContext) -> None:
    typed = "Hunter2-Is-My-Real-Password!"  # what people type into the user-name box by mistake
    strict = users.LoginPolicy(max_failures=1, window=POLICY.window)
    now = utcnow()
    with transaction(ctx.sessions) as session:
        attempt = users.begin_login(session, typed, policy=strict, now=now)
        assert users.authenticate(session, typed, PASSWORD, attempt=attempt) is None
    with transaction(ctx.sessions) as session:
        assert users.begin_login(session, typed, policy=strict, now=now).throttled
    expected_key = hashlib.sha256(typed.strip().lower().encode()).hexdigest()
    assert [key for key, _ in _failures(ctx)] == [expected_key]
    with transaction(ctx.sessions) as session:
        kinds = [e.kind for e in session.scalars(select(Event))]
        everything = repr([session.execute(select(table)).all() for table in Base.metadata.sorted_tables])
    assert {"user.login_failed", "user.login_throttled"} <= set(kinds)
    for form in (typed, typed.lower(), "hunter2"):
        assert form.lower() not in everything.lower(), f"{form!r} is stored somewhere"


def test_throttle_table_comes_from_migration_0006_with_its_index(ctx: AppContext) -> None:
    inspector = inspect(ctx.engine)
    columns = {c["name"]: c for c in inspector.get_columns("login_failures")}
    assert set(columns) == {"id", "username_key", "at"}
    assert not any(c["nullable"] for name, c in columns.items() if name != "id")
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("login_failures")}
    assert indexes["ix_login_failures_key_at"] == ["username_key", "at"]
    with ctx.engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0006"


def test_throttle_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="max_failures"):
        users.LoginPolicy(max_failures=0)
    with pytest.raises(ValueError, match="window"):
        users.LoginPolicy(window=timedelta(0))
    assert users.LoginThrottledError(61).message == (
        "too many failed log-ins for this user name; try again in 2 minutes or ask an administrator")
    assert users.LoginThrottledError(0).retry_after_seconds == 1
    assert "in 1 minute or" in users.LoginThrottledError(60).message
