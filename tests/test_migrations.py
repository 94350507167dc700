"""One line of migrations, from nothing to the models and back, on both databases."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select

from digest import migrate
from digest.db import get_engine
from digest.models import DigestList, Subscriber, Subscription


def tables(url):
    engine = get_engine(url)
    engine.dispose()
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def current(url):
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_heads()


def test_the_history_is_one_line_from_one_initial_migration(database_url):
    script = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    assert len(script.get_heads()) == 1 and len(script.get_bases()) == 1
    revisions = list(script.walk_revisions())
    assert all(not r.is_merge_point and not r.is_branch_point for r in revisions)
    assert revisions[-1].revision == "0001_initial"


def differences(url):
    with get_engine(url).connect() as connection:
        return compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata)


def test_migrated_schema_is_exactly_the_models(database_url):
    assert differences(database_url) == []


def test_upgrade_then_downgrade_to_nothing_then_upgrade_again(database_url):
    config = migrate.alembic_config(database_url)
    everything = {t.name for t in SQLModel.metadata.sorted_tables}
    assert tables(database_url) == everything
    command.downgrade(config, "base")
    assert tables(database_url) == set() and current(database_url) == ()
    migrate.upgrade(database_url)
    assert tables(database_url) == everything
    assert current(database_url) == (ScriptDirectory.from_config(config).get_current_head(),)


def test_each_migration_goes_down_and_up_again_keeping_the_rows(database_url):
    config = migrate.alembic_config(database_url)
    with Session(get_engine(database_url)) as session:
        news = DigestList(slug="news", name="News")
        ada = Subscriber(email="ada@example.org")
        session.add_all([news, ada])
        session.flush()
        session.add(Subscription(subscriber_id=ada.id, list_id=news.id, status="active"))
        session.commit()
    for revision in ScriptDirectory.from_config(config).walk_revisions():
        if revision.down_revision is None:
            continue
        command.downgrade(config, revision.down_revision)
        migrate.upgrade(database_url)
    with Session(get_engine(database_url)) as session:
        assert session.exec(select(Subscription.status)).all() == ["active"]
        assert session.exec(select(Subscriber.email)).all() == ["ada@example.org"]
    assert differences(database_url) == []


def test_a_database_from_before_the_fold_is_restamped_and_upgraded(database_url):
    config = migrate.alembic_config(database_url)
    command.downgrade(config, "0001_initial")
    engine = get_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0104_subscriber_ids_never_reused'"))
    migrate.upgrade(database_url)
    assert current(database_url) == (ScriptDirectory.from_config(config).get_current_head(),)
    assert tables(database_url) == {t.name for t in SQLModel.metadata.sorted_tables}


def test_subscriber_ids_are_never_reused_on_sqlite(sqlite_settings):
    # (PostgreSQL's sequences never hand an id out twice.)
    with get_engine(sqlite_settings.database_url).connect() as connection:
        assert "AUTOINCREMENT" in connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'subscriber'").scalar()
