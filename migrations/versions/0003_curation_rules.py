"""curation rules: per-domain cap on lists

Revision ID: curate1
Revises: 0002
Create Date: 2026-11-27 10:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'curate1'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('digestlist', schema=None) as batch_op:
        batch_op.add_column(sa.Column('per_domain_cap', sa.Integer(), nullable=False,
                                      server_default='4'))


def downgrade() -> None:
    with op.batch_alter_table('digestlist', schema=None) as batch_op:
        batch_op.drop_column('per_domain_cap')
