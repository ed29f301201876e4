"""One set of migrations builds, on every backend, exactly the schema ``schema.py`` declares,
and upgrades older databases without losing their rows."""

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from stockroom.cli.main import app
from stockroom.domain.item import InventoryItem, Preorder
from stockroom.storage import SqlStorage, open_storage
from stockroom.storage.migrate import current_revision, head_revision, upgrade
from stockroom.storage.schema import metadata

STORE = "old-store"
NOW = 1_704_067_200_000


def unmigrated(url: str) -> SqlStorage:
    return open_storage(url, now_ms=lambda: NOW, migrate=False)


def schema_differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def collations(engine: sa.Engine) -> tuple[dict[str, object], dict[str, object]]:
    """Each text column's collation as declared and as built (Alembic does not compare them)."""
    inspector = sa.inspect(engine)
    declared, built = {}, {}
    for table in metadata.sorted_tables:
        reflected = {column["name"]: column["type"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            declared[name] = getattr(column.type.dialect_impl(engine.dialect), "collation", None)
            built[name] = getattr(reflected[column.name], "collation", None)
    return declared, built


def test_migrating_an_empty_database_builds_exactly_the_declared_schema(empty_database):
    storage = unmigrated(empty_database)

    upgrade(storage.engine)

    assert current_revision(storage.engine) == head_revision()
    assert schema_differences(storage.engine) == []
    declared, built = collations(storage.engine)
    assert built == declared
    if storage.dialect == "postgresql":  # every text column compares by code point
        assert {collation for collation in declared.values() if collation} == {"C"}
    storage.close()


def test_migrating_twice_is_harmless(empty_database):
    storage = unmigrated(empty_database)

    upgrade(storage.engine)
    upgrade(storage.engine)

    assert current_revision(storage.engine) == head_revision()
    storage.close()


def test_many_processes_upgrading_at_once_migrate_once_and_all_succeed(empty_database):
    engines = [unmigrated(empty_database) for _ in range(4)]

    with ThreadPoolExecutor(len(engines)) as pool:
        for finished in [pool.submit(upgrade, storage.engine) for storage in engines]:
            finished.result()

    assert current_revision(engines[0].engine) == head_revision()
    assert schema_differences(engines[0].engine) == []
    for storage in engines:
        storage.close()


def test_a_database_at_the_first_revision_is_upgraded_with_its_rows_intact(empty_database):
    storage = unmigrated(empty_database)
    upgrade(storage.engine, "0001")
    location_id, item_id = "loc-1", "8c63dd6e-e35b-403a-b9a3-7f558ae8512d"
    old = sa.MetaData()
    old_tables = {
        name: sa.Table(name, old, autoload_with=storage.engine)
        for name in ("stores", "locations", "inventory_items")
    }
    with storage.engine.begin() as conn:
        conn.execute(
            old_tables["stores"].insert(),
            {"id": STORE, "default_location_id": location_id, "created_ms": NOW},
        )
        conn.execute(
            old_tables["locations"].insert(),
            {"store_id": STORE, "id": location_id, "name": "Default location",
             "location_type": "VIRTUAL", "is_default": True, "archived": False,
             "revision": 1, "created_ms": NOW, "updated_ms": NOW},
        )  # fmt: skip
        conn.execute(
            old_tables["inventory_items"].insert(),
            {"store_id": STORE, "id": item_id, "variant_id": "v-1", "location_id": location_id,
             "product_id": "p-1", "quantity": 7, "in_stock": None, "preorder_enabled": True,
             "preorder_message": "Été", "preorder_limit": 5, "preorder_counter": 2,
             "extended_fields": {"ns": {"k": [1, 2]}}, "revision": 3,
             "created_ms": NOW, "updated_ms": NOW + 1},
        )  # fmt: skip

    upgrade(storage.engine)

    assert current_revision(storage.engine) == head_revision()
    with storage.reading(STORE) as tx:
        assert tx.default_location_id() == location_id
        assert tx.get_item(item_id) == InventoryItem(
            id=item_id,
            variant_id="v-1",
            location_id=location_id,
            product_id="p-1",
            quantity=7,
            in_stock=None,
            preorder=Preorder(enabled=True, message="Été", limit=5, counter=2),
            revision=3,
            created_ms=NOW,
            updated_ms=NOW + 1,
            extended_fields={"ns": {"k": [1, 2]}},
        )
    storage.close()


def test_the_migrate_command_brings_a_database_to_the_newest_revision(empty_database):
    result = CliRunner().invoke(app, ["migrate", "--database", empty_database])

    assert result.exit_code == 0, result.output
    storage = unmigrated(empty_database)
    assert current_revision(storage.engine) == head_revision()
    storage.close()


def test_the_migrate_command_refuses_a_database_it_does_not_support():
    result = CliRunner().invoke(app, ["migrate", "--database", "mysql://db/stock"])

    assert result.exit_code == 2
    assert "unsupported database URL scheme 'mysql'" in result.output
