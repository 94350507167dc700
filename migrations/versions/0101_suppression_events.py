"""suppression events: the audit of suppressing and lifting addresses

Revision ID: 0101_suppression_events
Revises: 0102_send_problem
Create Date: 2026-12-02 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import digest.models


revision = '0101_suppression_events'
# After the send path's 0102, which reached main first: one line of history, one head.
down_revision = '0102_send_problem'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('suppressionevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', digest.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('suppressionevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suppressionevent_email_hash'), ['email_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('suppressionevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suppressionevent_email_hash'))

    op.drop_table('suppressionevent')
