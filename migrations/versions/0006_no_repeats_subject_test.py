"""no story twice and the subject test

Revision ID: 0006_no_repeats_subject_test
Revises: 0005_send_and_fetch_history

Editions know whether an editor wrote the subject and preheader, carry a second subject
to test, its winner, and how many readers got a repeat because of the variant cap;
edition items may be reserves; a stored rendering lists its stories; a delivery records
the subject it got and when the rest of a subject test becomes due.
"""
import sqlalchemy as sa
from alembic import op


revision = "0006_no_repeats_subject_test"
down_revision = "0005_send_and_fetch_history"
branch_labels = None
depends_on = None

_FALSE = sa.false()


def upgrade() -> None:
    with op.batch_alter_table("edition") as batch:
        batch.add_column(sa.Column("subject_written", sa.Boolean(), nullable=False, server_default=_FALSE))
        batch.add_column(sa.Column("preheader_written", sa.Boolean(), nullable=False, server_default=_FALSE))
        batch.add_column(sa.Column("subject_b", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("subject_winner", sa.String(length=1), nullable=True))
        batch.add_column(sa.Column("repeats_over_cap", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("editionitem") as batch:
        batch.add_column(sa.Column("reserve", sa.Boolean(), nullable=False, server_default=_FALSE))
    with op.batch_alter_table("editionvariant") as batch:
        batch.add_column(sa.Column("stories", sa.JSON(), nullable=True))
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("subject_variant", sa.String(length=1), nullable=True))
        batch.add_column(sa.Column("subject_hold_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("subject_hold_until")
        batch.drop_column("subject_variant")
    with op.batch_alter_table("editionvariant") as batch:
        batch.drop_column("stories")
    with op.batch_alter_table("editionitem") as batch:
        batch.drop_column("reserve")
    with op.batch_alter_table("edition") as batch:
        for column in ("repeats_over_cap", "subject_winner", "subject_b", "preheader_written",
                       "subject_written"):
            batch.drop_column(column)
