"""Log-ins the server has just confirmed, remembered for a few seconds.

Every API request checks its session cookie against the database. That check is a query and two
hand-offs between the event loop and a worker thread: about 0.9 ms of a 15 ms suggestion on the
2-core machine (``evaluation/api_latency.py``), paid again by every request of a reviewer working
through answers. So a confirmed session is remembered for ``ttl`` seconds, and no longer than the
session itself lives.

What this costs, and why it is bounded:

- A log-out, a log-in that replaces a session, or an administrator disabling an account *through this
  server* forgets the affected entries at once (``forget_token`` / ``forget_user``).
- The same change made elsewhere -- ``clwstwr user disable`` in a terminal, another server process on
  the same database -- reaches this process within ``ttl`` seconds (default 5), when the entry lapses.
- Only confirmed sessions are kept; an unknown, expired or revoked token always goes to the database,
  so a new log-in is never refused because of this cache.

Tokens are kept by their SHA-256, never as given; entries are per app (``app.state``), not global.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timezone

from store.users import LiveSession, UserRecord, token_hash

DEFAULT_TTL_SECONDS = 5.0
DEFAULT_MAX_ENTRIES = 10_000


class SessionCache:
    """Confirmed sessions by token hash, each valid until ``min(confirmed + ttl, session expiry)``.

    ``clock`` (monotonic seconds) and ``wall`` (aware UTC now) are parameters so tests can move time.
    Thread-safe: the event loop reads it, worker threads fill and empty it.
    """

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0 seconds, got {ttl}")
        self.ttl, self.max_entries = ttl, max_entries
        self._clock, self._wall = clock, wall
        self._entries: OrderedDict[str, tuple[UserRecord, float, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> UserRecord | None:
        """The user of a session confirmed less than ``ttl`` seconds ago and not yet expired, else None
        (None means "ask the database", not "refused")."""
        key = token_hash(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            user, confirmed, expires_at = entry
            if self._clock() - confirmed >= self.ttl or self._wall() >= expires_at:
                del self._entries[key]
                return None
            return user

    def put(self, token: str, live: LiveSession) -> None:
        """Remember a session the database has just confirmed."""
        if self.ttl == 0:
            return
        key = token_hash(token)
        with self._lock:
            self._entries[key] = (live.user, self._clock(), live.expires_at)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget_token(self, token: str) -> None:
        """This session has ended (log-out, replaced by a new log-in)."""
        with self._lock:
            self._entries.pop(token_hash(token), None)

    def forget_user(self, user_id: int) -> None:
        """Every remembered session of this user (account disabled, password changed)."""
        with self._lock:
            for key in [k for k, (user, _c, _e) in self._entries.items() if user.id == user_id]:
                del self._entries[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
