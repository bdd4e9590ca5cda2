"""Tables of the reviewer workspace: decisions, statuses, memos, outcome edits, settings, consensus.

Every table here is append-only: a coder's current code set, an answer's status, a memo's text, a
round's blind setting and the consensus code are all *derived* from the latest row (highest id) of
their key, so the history of who decided what, and when, is never lost. The one exception is
``retrain_runs``, whose row is completed when its run finishes (its start and end are also events).

Coders are referred to by user name (a string), not by a foreign key to the users table: the
workspace must not depend on how log-in is stored, and a decision must outlive a deleted account.
``round_id`` is repeated on each row so every round-level query filters one indexed column instead of
joining through answers and submissions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .schema import Base, utcnow

DECISIONS = ("accept", "reject", "add", "remove")
SOURCES = ("suggestion", "manual")
ANSWER_STATUSES = ("in_progress", "done")
# Decisions after which the theme is in the coder's set; "reject" and "remove" take it out.
PRESENT_DECISIONS = ("accept", "add")


class CodingDecision(Base):
    """One coder's decision about one theme for one answer; the latest per theme is what counts."""

    __tablename__ = "coding_decisions"
    __table_args__ = (
        CheckConstraint("decision in ('accept', 'reject', 'add', 'remove')", name="ck_decision_kind"),
        CheckConstraint("source in ('suggestion', 'manual')", name="ck_decision_source"),
        Index("ix_coding_decisions_round_coder", "round_id", "coder"),
        Index("ix_coding_decisions_answer_coder_theme", "answer_id", "coder", "theme_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(String(200))
    theme_id: Mapped[str] = mapped_column(String(60))
    decision: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(12))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnswerStatus(Base):
    """A coder's progress on one answer (in_progress, done); the latest row is the current status."""

    __tablename__ = "answer_status"
    __table_args__ = (
        CheckConstraint("status in ('in_progress', 'done')", name="ck_answer_status"),
        Index("ix_answer_status_round_coder", "round_id", "coder"),
        Index("ix_answer_status_answer_coder", "answer_id", "coder"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CoderRoundStatus(Base):
    """A coder declaring the round finished (or reopened): what lifts blinding for them."""

    __tablename__ = "coder_round_status"
    __table_args__ = (Index("ix_coder_round_status_round_coder", "round_id", "coder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(String(200))
    finished: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Memo(Base):
    """One version of a coder's memo on an answer; versions count up from 1 per answer and coder."""

    __tablename__ = "memos"
    __table_args__ = (UniqueConstraint("answer_id", "coder", "version", name="uq_memo_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutcomeEdit(Base):
    """A coder's corrected list of PCMW/ACD outcomes for an answer (replacing the suggested ones)."""

    __tablename__ = "outcome_edits"
    __table_args__ = (Index("ix_outcome_edits_answer_coder", "answer_id", "coder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(String(200))
    outcomes: Mapped[list] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoundSetting(Base):
    """The round's workspace settings as set at one moment; the latest row is in force."""

    __tablename__ = "round_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    blind_coding: Mapped[bool] = mapped_column(Boolean)
    set_by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConsensusCode(Base):
    """The group's agreed code for one theme of one answer: the round's gold standard (latest wins)."""

    __tablename__ = "consensus_codes"
    __table_args__ = (
        Index("ix_consensus_round", "round_id"),
        Index("ix_consensus_answer_theme", "answer_id", "theme_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    theme_id: Mapped[str] = mapped_column(String(60))
    present: Mapped[bool] = mapped_column(Boolean)
    decided_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SuggestedTheme(Base):
    """The themes a suggestion run suggested, one row each: lets the grid filter by theme in SQL.

    Derived from ``answer_suggestions.payload`` (the JSON contract object, kept whole); written once
    per run and never changed.
    """

    __tablename__ = "suggested_themes"
    __table_args__ = (
        UniqueConstraint("run_id", "answer_id", "theme_id", name="uq_suggested_theme"),
        Index("ix_suggested_themes_run_theme", "run_id", "theme_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("suggestion_runs.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    theme_id: Mapped[str] = mapped_column(String(60))
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)


class RetrainRun(Base):
    """One retraining of the suggester from a round's decisions, with before/after held-out metrics."""

    __tablename__ = "retrain_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="running")  # running | done | failed
    model_before: Mapped[str] = mapped_column(String(200))
    model_after: Mapped[str | None] = mapped_column(String(200), nullable=True)
    artefact: Mapped[str | None] = mapped_column(String(500), nullable=True)
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
