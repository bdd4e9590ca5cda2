"""failed log-ins per user name, for throttling password guessing

Revision ID: 0006
Revises: 0005

Written by hand to match ``store/user_tables.py`` (``LoginFailure``); plain column types only, so the
same revision runs on SQLite and PostgreSQL. The index on (username_key, at) serves the one query that
runs on every log-in: "this name's failures newer than the window".
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["username_key", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_key_at", table_name="login_failures")
    op.drop_table("login_failures")
