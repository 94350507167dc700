"""Join the feature branches' migrations into one head.

Revision ID: features
Revises: curate1, ingest1, staff1, subscribers1
"""

revision = "features"
down_revision = ("curate1", "ingest1", "staff1", "subscribers1")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
