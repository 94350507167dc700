"""API tokens may expire and be revoked

Revision ID: 0003_api_token_expiry
Revises: 0002_feedback
"""
from alembic import op
import sqlalchemy as sa
import digest.models


revision = "0003_api_token_expiry"
down_revision = "0002_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tokens made before this revision never expire, as they were made to.
    with op.batch_alter_table("apitoken") as batch:
        batch.add_column(sa.Column("expires_at", digest.models.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", digest.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("apitoken") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
