"""Repository for accounts, log-in sessions and round grants: the only code that touches those tables.

Why these choices:

- Passwords are hashed with scrypt (memory-hard, in the standard library: no extra dependency) with a
  random per-user salt, stored as ``scrypt$n$r$p$salt$hash`` so the cost can be raised later without
  breaking stored hashes: verification reads the parameters from the stored string.
- Session tokens are random (256 bits) and only their SHA-256 is stored: a leaked database copy holds
  no usable token, and a fast hash is enough because the token, unlike a password, cannot be guessed.
- Every change (account created, password set, disabled, round granted, logged in/out, failed or
  throttled log-in) appends an ``events`` row. No event ever carries a password or a hash.
- Password guessing is slowed per user name: once a name has ``max_failures`` failed log-ins inside
  the window, further log-ins for it are refused before any password is checked (``begin_login``).
  Names that are accounts and names that are not are treated alike, so the refusal does not tell a
  guesser which names exist. Failures are rows (``login_failures``), keyed by the SHA-256 of the name
  as typed, never the name itself (it may be a password typed in the wrong box).

Functions take a Session and plain values and return plain frozen records; callers own the transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from corpora.errors import ClwstwrError

from .rounds import require_round
from .schema import Event, Round, utcnow
from .user_tables import LoginFailure, RoundGrant, User, UserSession

# What each role is for (the words); the order is the order lists and tables show them in.
ROLES: Mapping[str, str] = {
    "reviewer": "codes answers",
    "chair": "drafts and edits outcome letters; sees a round's raw answers only when granted",
    "programme": "SPPC / national team: reports, all rounds",
    "admin": "users, audit export, everything",
}
# Roles that see a round's raw answers only with a grant for that round.
GRANT_ONLY_ROLES = frozenset({"chair"})

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # scrypt cost does not grow with length, but nobody needs more
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,99}")

# scrypt cost: n=2**14, r=8, p=1 is 16 MiB and ~50 ms per hash here; enough to make guessing slow,
# cheap enough for a log-in. Raising it only affects new hashes.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_HASH_BYTES = 32


class UserAccountError(ClwstwrError):
    """An account request that cannot be done: a bad user name, role or password, or no such user."""

    code = "CW703"


class LoginThrottledError(ClwstwrError):
    """Too many failed log-ins for this user name lately: wait, or ask an administrator (HTTP 429).

    Built from the seconds to wait so the API can send them as ``Retry-After`` (``headers``) and in the
    error's ``details``; the message gives whole minutes, which is what a person can act on.
    """

    code = "CW704"

    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = max(1, int(retry_after_seconds))
        self.retry_after_minutes = math.ceil(self.retry_after_seconds / 60)
        super().__init__(throttled_message(self.retry_after_minutes))
        self.details = {"retry_after_seconds": self.retry_after_seconds}
        self.headers = {"Retry-After": str(self.retry_after_seconds)}


def throttled_message(minutes: int) -> str:
    """The one wording of a throttled log-in, shared by the JSON answer and the log-in page."""
    unit = "minute" if minutes == 1 else "minutes"
    return (f"too many failed log-ins for this user name; try again in {minutes} {unit} "
            "or ask an administrator")


@dataclass(frozen=True)
class LoginPolicy:
    """How much guessing a user name tolerates: ``max_failures`` failed log-ins within ``window``.

    A value object (built from ``Settings`` by the API) so the store does not read settings itself.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError(f"login policy: max_failures must be at least 1, got {self.max_failures}")
        if self.window <= timedelta(0):
            raise ValueError(f"login policy: window must be positive, got {self.window}")


@dataclass(frozen=True)
class LoginAttempt:
    """What ``begin_login`` decided: refused (``retry_after_seconds`` set, nothing counted) or let
    through, in which case the attempt is already stored as a failure until the password proves right."""

    username_key: str
    at: datetime
    retry_after_seconds: int | None = None

    @property
    def throttled(self) -> bool:
        return self.retry_after_seconds is not None


@dataclass(frozen=True)
class UserRecord:
    """A user as plain data: never carries the password hash out of this module."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class AuditEvent:
    """One row of the append-only events log, with the round's name instead of its id."""

    id: int
    at: datetime
    actor: str
    kind: str
    round: str | None
    payload: Mapping[str, object]


# ------------------------------------------------------------------------------------------ passwords


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=_HASH_BYTES)


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (salt and hash base64) for a new random salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(stored: str, password: str) -> bool:
    """True when ``password`` hashes to ``stored``; a malformed stored value never matches.

    The comparison is constant-time so the response time does not tell how much of a guess was right.
    """
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(digest, base64.b64decode(expected))
    except (ValueError, TypeError):
        return False


def _spend_hash_time(password: str) -> None:
    """Do the work a real check would, so an unknown user name answers as slowly as a wrong password."""
    _scrypt(password, b"\0" * 16, SCRYPT_N, SCRYPT_R, SCRYPT_P)


# ------------------------------------------------------------------------------------------ validation


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _valid_username(username: str) -> str:
    name = normalise_username(username)
    if not _USERNAME.fullmatch(name):
        raise UserAccountError(
            f"username {username!r}: expected 1-100 characters, letters, digits and . _ @ - only, "
            "starting with a letter or digit (an e-mail address works)"
        )
    return name


def _valid_role(role: str) -> str:
    if role not in ROLES:
        raise UserAccountError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    return role


def _valid_password(password: str, username: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserAccountError(
            f"password: must be at least {MIN_PASSWORD_LENGTH} characters (a phrase of a few words is easiest)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserAccountError(f"password: must be at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip().lower() == username:
        raise UserAccountError("password: must not be the user name")
    return password


def _record(user: User) -> UserRecord:
    return UserRecord(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        created_at=_aware(user.created_at),
    )


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _require_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise UserAccountError(f"username {username!r}: no such user (see `clwstwr user list`)")
    return user


# ------------------------------------------------------------------------------------------ accounts


def create_user(
    session: Session, username: str, password: str, role: str, *, actor: str, display_name: str | None = None
) -> UserRecord:
    """A new active account. Raises UserAccountError naming the field that is wrong or taken."""
    name = _valid_username(username)
    _valid_role(role)
    _valid_password(password, name)
    shown = (display_name or "").strip() or name
    if len(shown) > 200:
        raise UserAccountError("display_name: must be at most 200 characters")
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise UserAccountError(f"username {name!r}: already taken")
    user = User(username=name, display_name=shown, role=role, password_hash=hash_password(password), active=True)
    session.add(user)
    session.flush()
    session.add(Event(actor=actor, kind="user.created",
                      payload={"username": name, "role": role, "display_name": shown}))
    session.flush()
    return _record(user)


def get_user(session: Session, username: str) -> UserRecord | None:
    user = session.scalar(select(User).where(User.username == normalise_username(username)))
    return _record(user) if user is not None else None


def list_users(session: Session) -> list[UserRecord]:
    """Every account, active or not, by user name."""
    return [_record(u) for u in session.scalars(select(User).order_by(User.username))]


def set_password(session: Session, username: str, password: str, *, actor: str) -> UserRecord:
    """Replace the password, end the user's open sessions (a reset should lock out whoever had it) and
    clear the name's failed log-ins: the reset is what "ask an administrator" means to a throttled
    user, so it must let them straight back in."""
    user = _require_user(session, username)
    user.password_hash = hash_password(_valid_password(password, user.username))
    ended = _revoke_all(session, user.id)
    cleared = clear_login_failures(session, user.username)
    session.add(Event(actor=actor, kind="user.password_set",
                      payload={"username": user.username, "sessions_ended": ended,
                               "login_failures_cleared": cleared}))
    session.flush()
    return _record(user)


def disable(session: Session, username: str, *, actor: str) -> UserRecord:
    """Refuse the account from now on: its open sessions end at once. Rows are kept for the audit trail."""
    user = _require_user(session, username)
    ended = _revoke_all(session, user.id)
    if user.active:
        user.active = False
        session.add(Event(actor=actor, kind="user.disabled",
                          payload={"username": user.username, "sessions_ended": ended}))
    session.flush()
    return _record(user)


# ------------------------------------------------------------------------------------------ rounds


def grant_round(session: Session, username: str, round_name: str, *, actor: str) -> UserRecord:
    """Let ``username`` see ``round_name``'s raw answers. Granting twice changes nothing."""
    user = _require_user(session, username)
    round_ = require_round(session, round_name)
    exists = session.scalar(select(RoundGrant.id).where(RoundGrant.user_id == user.id, RoundGrant.round_id == round_.id))
    if exists is None:
        session.add(RoundGrant(user_id=user.id, round_id=round_.id, granted_by=actor))
        session.add(Event(actor=actor, kind="user.round_granted", round_id=round_.id,
                          payload={"username": user.username, "round": round_.name}))
        session.flush()
    return _record(user)


def granted_rounds(session: Session, user_id: int) -> list[str]:
    return list(session.scalars(
        select(Round.name).join(RoundGrant, RoundGrant.round_id == Round.id)
        .where(RoundGrant.user_id == user_id).order_by(Round.name)
    ))


def has_round_grant(session: Session, user_id: int, round_name: str) -> bool:
    found = session.scalar(
        select(RoundGrant.id).join(Round, RoundGrant.round_id == Round.id)
        .where(RoundGrant.user_id == user_id, Round.name == round_name)
    )
    return found is not None


def can_see_round(session: Session, user: UserRecord, round_name: str) -> bool:
    """May ``user`` read this round's raw answers? Chairs only with a grant; other roles always.

    A round that does not exist is "not visible" to a chair rather than an error, so a chair cannot
    learn which round names exist by probing.
    """
    if not user.active:
        return False
    if user.role in GRANT_ONLY_ROLES:
        return has_round_grant(session, user.id, round_name)
    return user.role in ROLES


# ------------------------------------------------------------------------------------------ log-in


def username_key(username: str) -> str:
    """What ``login_failures`` stores for a typed name: SHA-256 (hex) of the normalised name.

    Normalised as accounts are ("Alice " and "alice" are one name), so a guesser cannot dodge the count
    by changing case; hashed so that a password typed into the user-name box is not kept in clear.
    """
    return hashlib.sha256(normalise_username(username).encode("utf-8")).hexdigest()


def _utc(now: datetime | None) -> datetime:
    """``now`` (or the clock) in UTC: stored times are UTC, and SQLite compares them as text."""
    return _aware(now or utcnow()).astimezone(timezone.utc)


def login_wait(session: Session, username: str, *, policy: LoginPolicy, now: datetime | None = None) -> timedelta | None:
    """How long ``username`` must wait before it may try to log in again, or None if it may now.

    It must wait while it has ``max_failures`` or more failures newer than ``now - window``; the wait
    ends when enough of them leave the window to bring the count below the limit (with exactly
    ``max_failures`` failures, when the oldest leaves). Reads only; used by ``begin_login``.
    """
    now = _utc(now)
    times = list(session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.username_key == username_key(username), LoginFailure.at > now - policy.window)
        .order_by(LoginFailure.at)
    ))
    if len(times) < policy.max_failures:
        return None
    leaving = _aware(times[len(times) - policy.max_failures])
    return max(leaving + policy.window - now, timedelta(seconds=1))


def begin_login(session: Session, username: str, *, policy: LoginPolicy, now: datetime | None = None) -> LoginAttempt:
    """The throttle, before any password is checked: refuse a name with too many recent failures, or
    count this attempt as a failure now (``authenticate`` deletes it if the password proves right).

    Why count before checking: the caller commits this transaction before hashing the password, so
    guesses sent in parallel each see the others' rows; counting only afterwards would let every
    request that arrived during the hashing through. A refusal appends ``user.login_throttled`` (with
    the account's name only when the name is an account, as ``user.login_failed`` does) and counts
    nothing, so waiting out the window always works. Rows older than the window are pruned here.
    """
    now = _utc(now)
    key = username_key(username)
    wait = login_wait(session, username, policy=policy, now=now)
    if wait is not None:
        seconds = math.ceil(wait.total_seconds())
        payload: dict[str, object] = {"retry_after_seconds": seconds}
        known = session.scalar(select(User.username).where(User.username == normalise_username(username)))
        if known is not None:
            payload = {"username": known, **payload}
        session.add(Event(actor="anonymous", kind="user.login_throttled", payload=payload))
        session.flush()
        return LoginAttempt(username_key=key, at=now, retry_after_seconds=seconds)
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - policy.window))
    session.add(LoginFailure(username_key=key, at=now))
    session.flush()
    return LoginAttempt(username_key=key, at=now)


def clear_login_failures(session: Session, username: str) -> int:
    """Forget the name's failed log-ins (a success, or an administrator's password reset); how many."""
    result = session.execute(delete(LoginFailure).where(LoginFailure.username_key == username_key(username)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def authenticate(session: Session, username: str, password: str, *, attempt: LoginAttempt | None = None,
                 now: datetime | None = None) -> UserRecord | None:
    """The user if the name and password match an active account, else None (and a failure event).

    Unknown name, wrong password and disabled account all return None after the same amount of
    hashing work; only the audit log says which it was. A failure leaves one ``login_failures`` row for
    the name as typed -- the one ``begin_login`` already wrote when ``attempt`` is given (the web log-in
    always goes through it; this function does not throttle by itself) -- and a success deletes the
    name's rows, so only consecutive failures count.
    """
    if attempt is not None and attempt.throttled:
        raise ValueError("authenticate: this log-in attempt was throttled; its password must not be checked")
    user = session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        _spend_hash_time(password)
        payload: dict[str, object] = {"reason": "unknown user name"}
    elif not verify_password(user.password_hash, password):
        payload = {"username": user.username, "reason": "wrong password"}
    elif not user.active:
        payload = {"username": user.username, "reason": "account disabled"}
    else:
        clear_login_failures(session, username)
        session.flush()
        return _record(user)
    if attempt is None:
        session.add(LoginFailure(username_key=username_key(username), at=_utc(now)))
    session.add(Event(actor="anonymous", kind="user.login_failed", payload=payload))
    session.flush()
    return None


def token_hash(token: str) -> str:
    """What is stored of a session token (and what a cache of sessions keys by): never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_session(session: Session, user: UserRecord, *, lifetime: timedelta, now: datetime | None = None) -> str:
    """A new log-in for ``user``: returns the token (shown once, to go in the cookie)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=now, expires_at=now + lifetime))
    session.add(Event(actor=user.username, kind="user.logged_in",
                      payload={"username": user.username, "expires_at": (now + lifetime).isoformat()}))
    session.flush()
    return token


# Built once (an immutable statement, not state): this runs on every request, and building the
# select and loading ORM objects cost more than the query itself on SQLite.
_LIVE_SESSION_USER = (
    select(User.id, User.username, User.display_name, User.role, User.active, User.created_at, UserSession.expires_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > bindparam("now"),
        User.active.is_(True),
    )
)


@dataclass(frozen=True)
class LiveSession:
    """A live log-in: who, and until when (so a caller that remembers it never outlives the session)."""

    user: UserRecord
    expires_at: datetime


def lookup_live_session(session: Session, token: str, *, now: datetime | None = None) -> LiveSession | None:
    """The live session of ``token``: not expired, not revoked, account still active; else None."""
    now = now or utcnow()
    row = session.execute(_LIVE_SESSION_USER, {"token_hash": token_hash(token), "now": now}).first()
    if row is None:
        return None
    user = UserRecord(id=row.id, username=row.username, display_name=row.display_name, role=row.role,
                      active=row.active, created_at=_aware(row.created_at))
    return LiveSession(user=user, expires_at=_aware(row.expires_at))


def lookup_session(session: Session, token: str, *, now: datetime | None = None) -> UserRecord | None:
    """The user of a live session: not expired, not revoked, account still active; else None."""
    live = lookup_live_session(session, token, now=now)
    return live.user if live is not None else None


def revoke_session(session: Session, token: str, *, now: datetime | None = None) -> bool:
    """End one log-in; True if it was live. Logging out twice is harmless."""
    now = now or utcnow()
    row = session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    username = session.scalar(select(User.username).where(User.id == row.user_id))
    session.add(Event(actor=username or "anonymous", kind="user.logged_out", payload={"username": username}))
    session.flush()
    return True


def _revoke_all(session: Session, user_id: int) -> int:
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ audit


def audit_events(session: Session, *, kind_prefix: str | None = None) -> list[AuditEvent]:
    """The whole events log, oldest first, for an administrator's export.

    It lives beside the accounts because exporting it is an administrator's job; the log itself is
    written by every repository.
    """
    query = select(Event, Round.name).outerjoin(Round, Event.round_id == Round.id).order_by(Event.id)
    if kind_prefix:
        query = query.where(Event.kind.startswith(kind_prefix))
    return [
        AuditEvent(id=e.id, at=_aware(e.at), actor=e.actor, kind=e.kind, round=name, payload=dict(e.payload or {}))
        for e, name in session.execute(query)
    ]
