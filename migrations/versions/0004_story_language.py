"""story language: the language a story is written in (declared by its feed, else detected)

Revision ID: 0004_story_language
Revises: 0003_api_token_expiry

Near-duplicate titles are compared with the function words of their language, and the
summary is split into sentences by that language's rules. Stories stored before have none
(treated as English, as they were).
"""
import sqlalchemy as sa
from alembic import op


revision = "0004_story_language"
down_revision = "0003_api_token_expiry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("story", sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("story") as batch:
        batch.drop_column("language")
