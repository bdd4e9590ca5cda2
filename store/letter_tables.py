"""Tables for peer reviews and their outcome letters, kept as an append-only chain of versions.

A letter is a thread of versions: version 1 is the machine draft, every later version is an edit a
person saved against the version they had open. Versions are never updated in place, so any two of
them can be compared and nothing a chair wrote is ever overwritten. The unique constraint on
``(letter_id, version)`` is the last line of defence when two people save at the same moment: only
one of them can become version n+1.

These live beside ``store/schema.py`` (same ``Base``, same metadata) rather than inside it so that
each module stays about one concept; ``store/letters.py`` imports this module, which registers them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .schema import Base, utcnow


class PeerReviewRow(Base):
    """One cluster peer review as recorded: who met, which three outcomes, and the notes as given.

    ``outcomes`` and ``attendees`` are JSON lists (two PCMW ids then one ACD id; names or roles).
    The notes are kept verbatim because every drafted sentence points into them by character offset.
    """

    __tablename__ = "peer_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"), nullable=True)
    cluster: Mapped[str] = mapped_column(String(300))
    health_board: Mapped[str] = mapped_column(String(20))
    review_date: Mapped[date] = mapped_column(Date)
    chair: Mapped[str] = mapped_column(String(300))
    sppc_representative: Mapped[str] = mapped_column(String(300))
    reviewing: Mapped[str] = mapped_column(String(300))
    outcomes: Mapped[list] = mapped_column(JSON)
    attendees: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text)
    notes_filename: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    letters: Mapped[list[Letter]] = relationship(back_populates="review", order_by="Letter.id")


class Letter(Base):
    """The identity an outcome letter keeps across its versions (what URLs and edits refer to)."""

    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("peer_reviews.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    review: Mapped[PeerReviewRow] = relationship(back_populates="letters")


class LetterVersion(Base):
    """One saved state of a letter: the whole draft (``LetterDraft.to_dict()``), who saved it, why.

    Inserted, never updated: an edit is a new row with the next version number.
    """

    __tablename__ = "letter_versions"
    __table_args__ = (UniqueConstraint("letter_id", "version", name="uq_one_row_per_letter_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
