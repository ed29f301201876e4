from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from stockroom.storage.migrate import current_revision, head_revision, upgrade
from stockroom.storage.schema import metadata


def test_migrating_an_empty_database_builds_exactly_the_declared_schema(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")

    upgrade(engine)

    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
    engine.dispose()


def test_migrating_twice_is_harmless(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'twice.db'}")

    upgrade(engine)
    upgrade(engine)

    assert current_revision(engine) == head_revision()
    engine.dispose()
