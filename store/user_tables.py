"""Tables for people who use the web app: accounts, log-in sessions, per-round grants.

Kept apart from ``schema.py`` (the evidence itself) because these rows describe access, not data, and
change for different reasons. What is deliberately *not* stored: a password (only its scrypt hash, in
``users.password_hash``), a session token (only its SHA-256, so a copy of the database does not let
anyone act as a logged-in user) and a user name as typed at a failed log-in (only its SHA-256, in
``login_failures``: people sometimes type their password into the user-name box). Rows here are changed in place (a password reset, a disabled account,
a revoked session), so every change also appends an ``events`` row; see ``store/users.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .schema import Base, utcnow


class User(Base):
    """One person. ``username`` is stored lower-case so "Alice" and "alice" cannot be two accounts."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserSession(Base):
    """A log-in: the cookie holds the token, this row only its SHA-256 (hex).

    A session ends at ``expires_at`` (absolute, not sliding) or when ``revoked_at`` is set (log-out,
    account disabled); ended rows are kept so the audit trail can say when someone was logged in.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RoundGrant(Base):
    """Permission for one user to see one round's raw answers (what a peer-review chair needs)."""

    __tablename__ = "round_grants"
    __table_args__ = (UniqueConstraint("user_id", "round_id", name="uq_one_grant_per_user_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    granted_by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginFailure(Base):
    """One failed log-in for a user name, so that password guessing can be slowed (``store/users.py``).

    One row per failure rather than a counter updated in place: two failures at the same moment are
    both counted without any lock, and the window is simply "rows newer than now - window".
    ``username_key`` is the SHA-256 (hex) of the normalised user name *as typed*, never the name: a
    name that is no account is throttled exactly like one that is (so the answer does not reveal which
    names exist), and what was typed may be a password. Rows go when the name logs in successfully or
    an administrator sets its password, and are pruned once they are older than the window. No
    foreign key to ``users`` on purpose: most guessed names are not accounts.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "username_key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
