"""send and fetch history: when each delivery took its outcome, and a log of source fetches

Revision ID: 0005_send_and_fetch_history
Revises: 0004_story_language

The console draws a send's sent/deferred/failed over time from `delivery.outcome_at`, and
each source's fetches per day from `fetchlog` (kept for 30 days). Deliveries settled before
have no outcome time (a sent one still has its sent_at).
"""
import sqlalchemy as sa
from alembic import op

from digest.models import UTCDateTime


revision = "0005_send_and_fetch_history"
down_revision = "0004_story_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("delivery", sa.Column("outcome_at", UTCDateTime(), nullable=True))
    op.create_table(
        "fetchlog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("new_stories", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fetchlog_source_id", "fetchlog", ["source_id"])
    op.create_index("ix_fetchlog_at", "fetchlog", ["at"])


def downgrade() -> None:
    op.drop_index("ix_fetchlog_at", table_name="fetchlog")
    op.drop_index("ix_fetchlog_source_id", table_name="fetchlog")
    op.drop_table("fetchlog")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("outcome_at")
