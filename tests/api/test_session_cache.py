"""The short memory of confirmed log-ins (``api.session_cache``): never longer than it was asked to
remember, never past the session's own end, and forgetting on demand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from api.session_cache import SessionCache
from store.users import LiveSession, UserRecord

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def _user(user_id: int, name: str = "reviewer") -> UserRecord:
    return UserRecord(id=user_id, username=f"{name}-{user_id}", display_name="", role="reviewer", active=True,
                      created_at=T0)


class Clock:
    def __init__(self) -> None:
        self.seconds = 100.0

    def monotonic(self) -> float:
        return self.seconds

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds - 100.0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _cache(clock: Clock, ttl: float = 5.0, **kw: int) -> SessionCache:
    return SessionCache(ttl, clock=clock.monotonic, wall=clock.wall, **kw)


def test_a_confirmed_session_is_remembered_for_the_ttl_and_no_longer(clock: Clock) -> None:
    cache = _cache(clock)
    cache.put("tok-a", LiveSession(_user(1), T0 + timedelta(hours=8)))
    clock.seconds += 4.9
    assert cache.get("tok-a") == _user(1)
    clock.seconds += 0.1
    assert cache.get("tok-a") is None, "lapsed after 5 s: the database must be asked again"
    assert len(cache) == 0


def test_a_session_ending_within_the_ttl_is_not_kept_past_its_end(clock: Clock) -> None:
    cache = _cache(clock)
    cache.put("tok-a", LiveSession(_user(1), T0 + timedelta(seconds=2)))
    clock.seconds += 1.9
    assert cache.get("tok-a") is not None
    clock.seconds += 0.1
    assert cache.get("tok-a") is None


def test_other_tokens_are_not_answered_by_a_remembered_one(clock: Clock) -> None:
    cache = _cache(clock)
    cache.put("tok-a", LiveSession(_user(1), T0 + timedelta(hours=8)))
    assert cache.get("tok-b") is None
    assert cache.get("tok-a ") is None


def test_forgetting_a_token_or_a_user(clock: Clock) -> None:
    cache = _cache(clock)
    live = T0 + timedelta(hours=8)
    cache.put("a1", LiveSession(_user(1), live))
    cache.put("a2", LiveSession(_user(1), live))
    cache.put("b1", LiveSession(_user(2), live))
    cache.forget_token("a1")
    assert cache.get("a1") is None and cache.get("a2") is not None
    cache.forget_user(1)
    assert cache.get("a2") is None
    assert cache.get("b1") == _user(2), "another user's session is untouched"


def test_a_ttl_of_zero_remembers_nothing(clock: Clock) -> None:
    cache = _cache(clock, ttl=0.0)
    cache.put("tok", LiveSession(_user(1), T0 + timedelta(hours=8)))
    assert cache.get("tok") is None and len(cache) == 0


def test_the_oldest_entries_go_first_when_full(clock: Clock) -> None:
    cache = _cache(clock, max_entries=2)
    live = T0 + timedelta(hours=8)
    for i in range(3):
        cache.put(f"tok-{i}", LiveSession(_user(i), live))
    assert cache.get("tok-0") is None
    assert cache.get("tok-1") is not None and cache.get("tok-2") is not None


def test_tokens_are_not_kept_as_given(clock: Clock) -> None:
    cache = _cache(clock)
    cache.put("secret-token-value", LiveSession(_user(1), T0 + timedelta(hours=8)))
    assert "secret-token-value" not in repr(cache._entries)


def test_a_negative_ttl_is_refused() -> None:
    with pytest.raises(ValueError, match="ttl must be >= 0"):
        SessionCache(-1.0)
