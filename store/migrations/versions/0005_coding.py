"""coding decisions, memos, consensus codes, blind coding: the reviewer workspace

Revision ID: 0005
Revises: 0004

Every table is append-only except ``retrain_runs`` (completed when its run ends); coders are user
names, not foreign keys to ``users`` (see ``store/coding_tables.py``).
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _round_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="CASCADE")


def _answer_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["answer_id"], ["answers.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "coding_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("coder", sa.String(length=200), nullable=False),
        sa.Column("theme_id", sa.String(length=60), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("decision in ('accept', 'reject', 'add', 'remove')", name="ck_decision_kind"),
        sa.CheckConstraint("source in ('suggestion', 'manual')", name="ck_decision_source"),
        _round_fk(),
        _answer_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_coding_decisions_round_coder", "coding_decisions", ["round_id", "coder"])
    op.create_index("ix_coding_decisions_answer_coder_theme", "coding_decisions", ["answer_id", "coder", "theme_id"])

    op.create_table(
        "answer_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("coder", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status in ('in_progress', 'done')", name="ck_answer_status"),
        _round_fk(),
        _answer_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_answer_status_round_coder", "answer_status", ["round_id", "coder"])
    op.create_index("ix_answer_status_answer_coder", "answer_status", ["answer_id", "coder"])

    op.create_table(
        "coder_round_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("coder", sa.String(length=200), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _round_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_coder_round_status_round_coder", "coder_round_status", ["round_id", "coder"])

    op.create_table(
        "memos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("coder", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _round_fk(),
        _answer_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id", "coder", "version", name="uq_memo_version"),
    )

    op.create_table(
        "outcome_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("coder", sa.String(length=200), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _round_fk(),
        _answer_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outcome_edits_answer_coder", "outcome_edits", ["answer_id", "coder"])

    op.create_table(
        "round_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("blind_coding", sa.Boolean(), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _round_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_round_settings_round_id", "round_settings", ["round_id"])

    op.create_table(
        "consensus_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.String(length=60), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _round_fk(),
        _answer_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consensus_round", "consensus_codes", ["round_id"])
    op.create_index("ix_consensus_answer_theme", "consensus_codes", ["answer_id", "theme_id"])

    op.create_table(
        "suggested_themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.String(length=60), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["suggestion_runs.id"], ondelete="CASCADE"),
        _answer_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "answer_id", "theme_id", name="uq_suggested_theme"),
    )
    op.create_index("ix_suggested_themes_run_theme", "suggested_themes", ["run_id", "theme_id"])

    op.create_table(
        "retrain_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("model_before", sa.String(length=200), nullable=False),
        sa.Column("model_after", sa.String(length=200), nullable=True),
        sa.Column("artefact", sa.String(length=500), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _round_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_retrain_runs_round_id", "retrain_runs", ["round_id"])


def downgrade() -> None:
    for table in (
        "retrain_runs",
        "suggested_themes",
        "consensus_codes",
        "round_settings",
        "outcome_edits",
        "memos",
        "coder_round_status",
        "answer_status",
        "coding_decisions",
    ):
        op.drop_table(table)
