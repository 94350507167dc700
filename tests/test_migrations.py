"""The newest migrations go down and up again on both databases."""

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import Session, select

from digest import migrate
from digest.db import get_engine
from digest.models import DigestList, Subscriber, Subscription


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


def test_subscriber_ids_never_reused_rebuilds_the_table_and_keeps_every_row(database_url):
    config = migrate.alembic_config(database_url)
    command.downgrade(config, "0101_suppression_events")
    with Session(get_engine(database_url)) as session:
        news = DigestList(slug="news", name="News")
        ada = Subscriber(email="ada@example.org")
        session.add_all([news, ada])
        session.flush()
        session.add(Subscription(subscriber_id=ada.id, list_id=news.id, status="active"))
        session.commit()
    migrate.upgrade(database_url)
    engine = get_engine(database_url)
    with Session(engine) as session:
        # Rebuilding the table must not take the rows that refer to it along (ON DELETE CASCADE).
        assert session.exec(select(Subscription.status)).all() == ["active"]
        assert session.exec(select(Subscriber.email)).all() == ["ada@example.org"]
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert "AUTOINCREMENT" in connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'subscriber'").scalar()
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_story_language_downgrade_and_upgrade(database_url):
    config = migrate.alembic_config(database_url)

    def story_columns():
        engine = get_engine(database_url)
        engine.dispose()
        return {column["name"] for column in inspect(engine).get_columns("story")}

    assert "language" in story_columns()
    command.downgrade(config, "0104_subscriber_ids_never_reused")
    assert "language" not in story_columns() and "title" in story_columns()
    migrate.upgrade(database_url)
    assert "language" in story_columns()
