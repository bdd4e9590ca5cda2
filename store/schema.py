"""SQLAlchemy 2 table definitions: what Clwstwr keeps, and the constraints that keep it honest.

The unique constraints are the last line of defence against double counting: one submission per cluster
per round, one rating per outcome per submission, one answer per question per submission, one import
per file per round. ``events`` is append-only: nothing in the code updates or deletes a row of it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Round(Base):
    """One annual self-reflection round (e.g. "2024")."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    total_clusters: Mapped[int] = mapped_column(Integer, default=60)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    submissions: Mapped[list[Submission]] = relationship(back_populates="round", cascade="all, delete-orphan")


class ImportBatch(Base):
    """One imported file; its content hash makes a second import of the same file a no-op."""

    __tablename__ = "import_batches"
    __table_args__ = (UniqueConstraint("round_id", "sha256", name="uq_import_file_per_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    source_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(10))
    rows_stored: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Submission(Base):
    """One cluster's return for a round. Respondent e-mail and name are deliberately not stored."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("round_id", "cluster_key", name="uq_one_submission_per_cluster"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    import_batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))
    source_row: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    cluster_name: Mapped[str] = mapped_column(String(300))
    cluster_key: Mapped[str] = mapped_column(String(300))
    health_board_id: Mapped[str] = mapped_column(String(20))
    team_stage_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))

    round: Mapped[Round] = relationship(back_populates="submissions")
    ratings: Mapped[list[MaturityRating]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="MaturityRating.outcome_id"
    )
    answers: Mapped[list[Answer]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="Answer.question_id"
    )


class MaturityRating(Base):
    """A cluster's chosen maturity level for one outcome; an unanswered outcome has no row."""

    __tablename__ = "maturity_ratings"
    __table_args__ = (UniqueConstraint("submission_id", "outcome_id", name="uq_one_rating_per_outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    outcome_id: Mapped[str] = mapped_column(String(20))
    level_id: Mapped[str] = mapped_column(String(20))

    submission: Mapped[Submission] = relationship(back_populates="ratings")


class Answer(Base):
    """A free-text answer, stored as given: the only place the original (identifiable) text lives."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("submission_id", "question_id", name="uq_one_answer_per_question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)

    submission: Mapped[Submission] = relationship(back_populates="answers")


class SuggestionRun(Base):
    """One pass of the suggester over a round: which model, when, for whom."""

    __tablename__ = "suggestion_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    suggestions: Mapped[list[AnswerSuggestion]] = relationship(back_populates="run", cascade="all, delete-orphan")


class AnswerSuggestion(Base):
    """The suggester's output for one answer in one run, kept whole (the JSON contract object).

    ``deidentified_text`` is what every quote and evidence offset refers to; the original stays in
    ``answers.text`` only.
    """

    __tablename__ = "answer_suggestions"
    __table_args__ = (UniqueConstraint("run_id", "answer_id", name="uq_one_suggestion_per_answer_per_run"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("suggestion_runs.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    deidentified_text: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON)

    run: Mapped[SuggestionRun] = relationship(back_populates="suggestions")


class Event(Base):
    """Append-only audit log: who did what, when. Rows are inserted, never updated or deleted."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"), nullable=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
