"""staff sessions kept server-side, so signing out and a new password end them

Revision ID: 0103_staff_sessions
Revises: 0101_suppression_events
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import digest.models


revision = "0103_staff_sessions"
down_revision = "0101_suppression_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The cookies made before this revision name no row here: everyone signs in once more.
    op.create_table(
        "staffsession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", digest.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", digest.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["staffuser.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("staffsession") as batch:
        batch.create_index(batch.f("ix_staffsession_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staffsession") as batch:
        batch.drop_index(batch.f("ix_staffsession_user_id"))
    op.drop_table("staffsession")
