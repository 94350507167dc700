"""The newest migration goes down and up again on both databases."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from digest import migrate
from digest.db import get_engine


def tables(url):
    engine = get_engine(url)
    engine.dispose()
    return set(inspect(engine).get_table_names())


def test_suppression_events_downgrade_and_upgrade(database_url):
    config = migrate.alembic_config(database_url)
    below = ScriptDirectory.from_config(config).get_revision("0101_suppression_events").down_revision
    assert "suppressionevent" in tables(database_url)
    command.downgrade(config, below)
    assert "suppressionevent" not in tables(database_url) and "suppression" in tables(database_url)
    migrate.upgrade(database_url)
    assert "suppressionevent" in tables(database_url)


def test_staff_sessions_downgrade_and_upgrade(database_url):
    config = migrate.alembic_config(database_url)
    assert "staffsession" in tables(database_url)
    command.downgrade(config, "0101_suppression_events")
    assert "staffsession" not in tables(database_url) and "staffuser" in tables(database_url)
    migrate.upgrade(database_url)
    assert "staffsession" in tables(database_url)
