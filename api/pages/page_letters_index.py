"""Which outcome letters a user's home page lists, read through the store's public functions.

The letters repository has no "list letters" query yet, so the list is rebuilt from the append-only
``letter.created`` events (every letter has exactly one) and each letter's latest version. That is a
few queries per letter — fine for the dozens of letters a programme year has; a ``list_letters`` in
``store.letters`` should replace it when there are more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from store import letters as letter_repo
from store import users
from store.users import UserRecord


@dataclass(frozen=True)
class LetterCard:
    letter_id: int
    cluster: str
    review_date: str
    version: int
    saved_by: str
    saved_at: datetime


def letters_for_home(session: Session, user: UserRecord) -> list[LetterCard]:
    """Letters a chair created (all letters for an administrator), newest first."""
    cards = []
    for event in reversed(users.audit_events(session, kind_prefix="letter.created")):
        if user.role != "admin" and event.actor != user.username:
            continue
        letter_id = int(event.payload["letter_id"])  # type: ignore[arg-type]
        latest = letter_repo.latest_version(session, letter_id)
        review = dict(latest.payload.get("review", {}))
        cards.append(LetterCard(letter_id, str(review.get("cluster", "")), str(review.get("review_date", "")),
                                latest.version, latest.created_by, latest.created_at))
    return cards
