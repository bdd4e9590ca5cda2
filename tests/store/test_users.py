"""Accounts, sessions and round grants on SQLite and PostgreSQL: what is stored, what is refused, what
the audit log says (and never says)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from clwstwr.context import AppContext
from store import users
from store.database import transaction
from store.rounds import RoundNotFoundError, get_or_create_round
from store.schema import Event, utcnow
from store.user_tables import User, UserSession
from store.users import UserAccountError

PASSWORD = "correct horse battery staple"
HOUR = timedelta(hours=1)


def _add(ctx: AppContext, username: str = "Alice", role: str = "reviewer", password: str = PASSWORD) -> users.UserRecord:
    with transaction(ctx.sessions) as session:
        return users.create_user(session, username, password, role, actor="admin-cli", display_name="Alice Jones")


def test_users_create_stores_a_salted_scrypt_hash_and_never_the_password(ctx: AppContext) -> None:
    alice = _add(ctx)
    _add(ctx, "bob", password=PASSWORD)
    assert (alice.username, alice.display_name, alice.role, alice.active) == ("alice", "Alice Jones", "reviewer", True)
    with transaction(ctx.sessions) as session:
        hashes = {name: value for name, value in session.execute(select(User.username, User.password_hash))}
    scheme, n, r, p, salt, digest = hashes["alice"].split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert PASSWORD not in hashes["alice"]
    assert hashes["alice"] != hashes["bob"], "same password, different salt, different hash"
    assert users.verify_password(hashes["alice"], PASSWORD)
    assert not users.verify_password(hashes["alice"], PASSWORD + "!")
    assert not users.verify_password("not-a-hash", PASSWORD)


@pytest.mark.parametrize(
    ("username", "role", "password", "needle"),
    [
        ("has space", "reviewer", PASSWORD, "username 'has space'"),
        ("", "reviewer", PASSWORD, "username ''"),
        ("carol", "superuser", PASSWORD, "role 'superuser': expected one of reviewer, chair, programme, admin"),
        ("carol", "chair", "short", "at least 12 characters"),
        ("carol-the-chair", "chair", "Carol-The-Chair", "must not be the user name"),
    ],
)
def test_users_bad_account_requests_name_the_field(ctx: AppContext, username: str, role: str, password: str,
                                                   needle: str) -> None:
    with pytest.raises(UserAccountError) as err, transaction(ctx.sessions) as session:
        users.create_user(session, username, password, role, actor="admin")
    assert err.value.code == "CW703" and needle in str(err.value)
    with transaction(ctx.sessions) as session:
        assert users.list_users(session) == []


def test_users_user_names_are_unique_whatever_their_case(ctx: AppContext) -> None:
    _add(ctx, "Alice")
    with pytest.raises(UserAccountError, match="'alice': already taken"):
        _add(ctx, " ALICE ")
    with transaction(ctx.sessions) as session:
        assert [u.username for u in users.list_users(session)] == ["alice"]


def test_users_authenticate_checks_password_and_active_and_logs_why_it_failed(ctx: AppContext) -> None:
    _add(ctx)
    with transaction(ctx.sessions) as session:
        assert users.authenticate(session, "ALICE", PASSWORD).username == "alice"  # type: ignore[union-attr]
        assert users.authenticate(session, "alice", "wrong password entirely") is None
        assert users.authenticate(session, "nobody", PASSWORD) is None
        users.disable(session, "alice", actor="admin")
        assert users.authenticate(session, "alice", PASSWORD) is None
    with transaction(ctx.sessions) as session:
        failures = [e.payload for e in users.audit_events(session, kind_prefix="user.login_failed")]
    assert failures == [
        {"username": "alice", "reason": "wrong password"},
        {"reason": "unknown user name"},
        {"username": "alice", "reason": "account disabled"},
    ]


def test_users_sessions_store_only_a_sha256_and_end_on_expiry_revocation_or_disable(ctx: AppContext) -> None:
    alice = _add(ctx)
    now = utcnow()
    with transaction(ctx.sessions) as session:
        token = users.create_session(session, alice, lifetime=HOUR, now=now)
        other = users.create_session(session, alice, lifetime=HOUR, now=now)
    with transaction(ctx.sessions) as session:
        stored = list(session.scalars(select(UserSession.token_hash)))
        assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored
        assert users.lookup_session(session, token, now=now + timedelta(minutes=59)).username == "alice"  # type: ignore[union-attr]
        assert users.lookup_session(session, token, now=now + timedelta(minutes=61)) is None, "expired"
        assert users.lookup_session(session, "made-up-token") is None
        assert users.revoke_session(session, token) is True
        assert users.revoke_session(session, token) is False, "logging out twice is harmless"
        assert users.lookup_session(session, token) is None, "revoked"
        assert users.lookup_session(session, other) is not None
        users.disable(session, "alice", actor="admin")
    with transaction(ctx.sessions) as session:
        assert users.lookup_session(session, other) is None, "a disabled account's sessions end at once"
        assert users.get_user(session, "alice").active is False  # type: ignore[union-attr]


def test_users_set_password_replaces_it_and_ends_open_sessions(ctx: AppContext) -> None:
    alice = _add(ctx)
    with transaction(ctx.sessions) as session:
        token = users.create_session(session, alice, lifetime=HOUR)
        users.set_password(session, "alice", "a new and longer passphrase", actor="admin")
    with transaction(ctx.sessions) as session:
        assert users.lookup_session(session, token) is None
        assert users.authenticate(session, "alice", PASSWORD) is None
        assert users.authenticate(session, "alice", "a new and longer passphrase") is not None


def test_users_chairs_see_a_round_only_when_granted_other_roles_always(ctx: AppContext) -> None:
    chair = _add(ctx, "chair", role="chair")
    reviewer = _add(ctx, "rita", role="reviewer")
    with transaction(ctx.sessions) as session:
        get_or_create_round(session, "2023")
        get_or_create_round(session, "2024")
        assert not users.can_see_round(session, chair, "2024")
        users.grant_round(session, "chair", "2024", actor="admin")
        users.grant_round(session, "chair", "2024", actor="admin")  # twice: no second grant, no second event
        assert users.can_see_round(session, chair, "2024")
        assert not users.can_see_round(session, chair, "2023"), "a grant is for one round"
        assert not users.can_see_round(session, chair, "no-such-round")
        assert users.can_see_round(session, reviewer, "2023")
        assert users.granted_rounds(session, chair.id) == ["2024"]
        with pytest.raises(RoundNotFoundError):
            users.grant_round(session, "chair", "1999", actor="admin")
        with pytest.raises(UserAccountError, match="'nobody': no such user"):
            users.grant_round(session, "nobody", "2024", actor="admin")
    with transaction(ctx.sessions) as session:
        grants = [(e.actor, e.round, e.payload) for e in users.audit_events(session, kind_prefix="user.round_granted")]
    assert grants == [("admin", "2024", {"username": "chair", "round": "2024"})]


def test_users_every_change_is_an_event_and_none_carries_a_secret(ctx: AppContext) -> None:
    alice = _add(ctx)
    with transaction(ctx.sessions) as session:
        token = users.create_session(session, alice, lifetime=HOUR)
        users.revoke_session(session, token)
        users.authenticate(session, "alice", "not my password at all")
        users.set_password(session, "alice", "a new and longer passphrase", actor="admin")
        users.disable(session, "alice", actor="admin")
        users.disable(session, "alice", actor="admin")  # already disabled: nothing new to record
    with transaction(ctx.sessions) as session:
        events = session.scalars(select(Event).order_by(Event.id)).all()
        stored_hash = session.scalar(select(User.password_hash))
    assert [e.kind for e in events] == [
        "user.created", "user.logged_in", "user.logged_out", "user.login_failed", "user.password_set", "user.disabled",
    ]
    text = repr([(e.actor, e.payload) for e in events])
    for secret in (PASSWORD, "a new and longer passphrase", "not my password at all", token,
                   *stored_hash.split("$")[-2:]):  # type: ignore[union-attr]
        assert secret not in text
