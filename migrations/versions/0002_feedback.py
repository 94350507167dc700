"""feedback: bounces, complaints and unsubscribes that come back after a mail left

Revision ID: 0002_feedback
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import digest.models


revision = "0002_feedback"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("email_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("report_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", digest.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["edition_id"], ["edition.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_key", "email_hash"),
    )
    op.create_index("ix_feedback_edition_kind", "feedback", ["edition_id", "kind"])
    op.create_index("ix_feedback_hash_kind_created", "feedback",
                    ["email_hash", "kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_hash_kind_created", table_name="feedback")
    op.drop_index("ix_feedback_edition_kind", table_name="feedback")
    op.drop_table("feedback")
