"""local-time delivery: a list option, each subscriber's time zone, each delivery's due time

Revision ID: 0007_local_time_delivery
Revises: 0006_no_repeats_subject_test

Lists keep sending at their own zone's time ("list") unless set to "local"; subscribers
without a zone get the list's; existing deliveries are due at once (no not_before).
"""
import sqlalchemy as sa
from alembic import op

from digest.models import UTCDateTime

revision = "0007_local_time_delivery"
down_revision = "0006_no_repeats_subject_test"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("digestlist", sa.Column("deliver_at", sa.String(length=8), nullable=False,
                                          server_default="list"))
    op.add_column("subscriber", sa.Column("timezone", sa.String(length=64), nullable=True))
    op.add_column("delivery", sa.Column("not_before", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("not_before")
    with op.batch_alter_table("subscriber") as batch:
        batch.drop_column("timezone")
    with op.batch_alter_table("digestlist") as batch:
        batch.drop_column("deliver_at")
