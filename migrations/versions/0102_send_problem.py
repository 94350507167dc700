"""edition send problem: why a send is not moving, and since when

Revision ID: 0102_send_problem
Revises: features
"""
from alembic import op
import sqlalchemy as sa
import digest.models


revision = "0102_send_problem"
down_revision = "features"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("edition") as batch:
        batch.add_column(sa.Column("send_problem", sa.Text(), nullable=True))
        batch.add_column(sa.Column("send_problem_since", digest.models.UTCDateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("edition") as batch:
        batch.drop_column("send_problem_since")
        batch.drop_column("send_problem")
