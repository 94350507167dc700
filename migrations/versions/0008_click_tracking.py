"""click tracking: one click row per reader and story, scanner bursts kept uncounted, a
per-list switch

Revision ID: 0008_click_tracking
Revises: 0007_local_time_delivery

Nothing recorded clicks before, but a row repeated anyway is folded into its first so the
unique constraint can be made.
"""
import sqlalchemy as sa
from alembic import op


revision = "0008_click_tracking"
down_revision = "0007_local_time_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("digestlist", sa.Column("track_clicks", sa.Boolean(), nullable=False,
                                          server_default=sa.true()))
    op.execute("DELETE FROM click WHERE id NOT IN "
               "(SELECT MIN(id) FROM click GROUP BY subscriber_id, edition_id, story_id)")
    with op.batch_alter_table("click") as batch:
        batch.add_column(sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.create_unique_constraint("uq_click_subscriber_id", ["subscriber_id", "edition_id", "story_id"])


def downgrade() -> None:
    with op.batch_alter_table("click") as batch:
        batch.drop_constraint("uq_click_subscriber_id", type_="unique")
        batch.drop_column("counted")
    with op.batch_alter_table("digestlist") as batch:
        batch.drop_column("track_clicks")
