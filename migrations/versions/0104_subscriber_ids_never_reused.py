"""subscriber ids never reused: AUTOINCREMENT on SQLite

Revision ID: 0104_subscriber_ids_never_reused
Revises: 0103_staff_sessions

Without it SQLite gives the largest id to the next row once that row is deleted, so a
newcomer got an erased subscriber's id. PostgreSQL's sequence never hands one out twice:
nothing to do there. SQLite sets AUTOINCREMENT only when a table is created, so the
table is rebuilt (env.py turns foreign keys off for that: dropping the old table would
otherwise delete every subscription and delivery with it).
"""
from alembic import op


revision = "0104_subscriber_ids_never_reused"
down_revision = "0103_staff_sessions"
branch_labels = None
depends_on = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("subscriber", recreate="always",
                              table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
