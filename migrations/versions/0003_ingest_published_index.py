"""story.published_at index, for near-duplicate windows and ranking

Revision ID: ingest1
Revises: 0002
Create Date: 2026-11-27 10:39:34.265562
"""
from alembic import op


revision = 'ingest1'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_published_at'), ['published_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_published_at'))
