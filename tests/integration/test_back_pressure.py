"""Overload is ``ServiceBusy`` with nothing written, never a raw database error: SQLite's write
lock held past the busy timeout, PostgreSQL's pool empty past the pool timeout, a row lock
held past PostgreSQL's lock timeout. Other database errors are not disguised as busy."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from stockroom.domain.catalog import Location, LocationType
from stockroom.domain.changes import ItemDraft, ItemPatch
from stockroom.domain.errors import ServiceBusy
from stockroom.service import items
from stockroom.service.context import Inventory
from stockroom.storage import SqlStorage, open_storage
from tests.factories import guid
from tests.writers import another_writer

NOW = 1_800_000_000_000
STORE = "busy-store"


def stored_count(storage: SqlStorage, store_id: str = STORE) -> int:
    with storage.reading(store_id) as tx:
        return len(list(tx.iter_items()))


def some_drafts(count: int = 50) -> list[ItemDraft]:
    return [ItemDraft("p", guid(), quantity=1) for _ in range(count)]


@contextmanager
def sqlite_write_lock(path: Path) -> Iterator[None]:
    """Another connection holding SQLite's one write lock until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "busy.db"


@pytest.fixture
def impatient_sqlite(sqlite_file: Path) -> Iterator[SqlStorage]:
    storage = open_storage(f"sqlite:///{sqlite_file}", now_ms=lambda: NOW, busy_timeout_ms=100)
    yield storage
    storage.close()


def test_a_bulk_create_finding_sqlite_locked_past_the_busy_timeout_is_busy_and_writes_nothing(
    impatient_sqlite, sqlite_file
):
    inventory = Inventory(storage=impatient_sqlite, clock=lambda: NOW)
    items.create_item(inventory, store_id=STORE, draft=ItemDraft("p", guid(), quantity=1))

    drafts = some_drafts()

    with sqlite_write_lock(sqlite_file):
        started = time.monotonic()
        with pytest.raises(ServiceBusy) as raised:
            items.bulk_create_items(inventory, store_id=STORE, drafts=drafts)
        waited = time.monotonic() - started

    assert raised.value.code == "SERVICE_BUSY"
    assert raised.value.retry_after > 0
    assert raised.value.data == {"retryAfter": raised.value.retry_after}
    assert isinstance(raised.value.__cause__, OperationalError | sqlite3.OperationalError)
    assert 0.09 <= waited < 10
    assert stored_count(impatient_sqlite) == 1


def test_the_first_read_of_a_new_store_on_a_locked_sqlite_database_is_busy_too(
    impatient_sqlite, sqlite_file
):
    with sqlite_write_lock(sqlite_file), pytest.raises(ServiceBusy):
        items.get_item(Inventory(storage=impatient_sqlite), store_id=guid(), item_id=guid())


def test_the_sqlite_busy_timeout_defaults_to_thirty_seconds(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'default.db'}", now_ms=lambda: NOW)
    try:
        with storage.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        storage.close()


def test_other_database_errors_are_not_taken_for_busy(storage):
    location = Location(guid(), "Hall", LocationType.PHYSICAL, False, False, 1, NOW, NOW)

    def insert_twice() -> None:
        with storage.writing(STORE) as tx:
            tx.catalog.insert_location(location)
            tx.catalog.insert_location(location)

    with pytest.raises(IntegrityError):
        insert_twice()

    with storage.reading(STORE) as tx:
        assert tx.catalog.get_location(location.id) is None


# ---- PostgreSQL ------------------------------------------------------------------------------


@pytest.fixture
def postgres_url(postgres_contract_url: str) -> str:
    return postgres_contract_url


def test_a_bulk_create_finding_no_free_postgres_connection_is_busy_and_writes_nothing(
    postgres_url,
):
    storage = open_storage(postgres_url, now_ms=lambda: NOW, pool_size=1, pool_timeout_ms=100)
    inventory = Inventory(storage=storage, clock=lambda: NOW)
    store_id = guid()
    try:
        with storage.reading(store_id), pytest.raises(ServiceBusy) as raised:
            items.bulk_create_items(inventory, store_id=store_id, drafts=some_drafts())

        assert raised.value.code == "SERVICE_BUSY"
        assert isinstance(raised.value.__cause__, PoolTimeout)
        assert stored_count(storage, store_id) == 0
    finally:
        storage.close()


def test_a_request_that_cannot_get_a_second_connection_is_busy_and_rolls_back_whole(
    postgres_url,
):
    storage = open_storage(postgres_url, now_ms=lambda: NOW, pool_size=1, pool_timeout_ms=100)
    inventory = Inventory(storage=storage, clock=lambda: NOW)
    store_id = guid()
    try:
        with pytest.raises(ServiceBusy):
            create_then_need_a_second_connection(storage, inventory, store_id)

        assert stored_count(storage, store_id) == 0
    finally:
        storage.close()


def create_then_need_a_second_connection(storage, inventory, store_id):
    with storage.request(store_id):
        items.create_item(inventory, store_id=store_id, draft=some_drafts(1)[0])
        with storage.access():  # a second connection, while the only one is taken
            pass


def test_a_postgres_lock_wait_past_the_lock_timeout_is_busy_and_changes_nothing(postgres_url):
    impatient = make_url(postgres_url).update_query_dict({"options": "-c lock_timeout=100"})
    storage = open_storage(impatient.render_as_string(hide_password=False), now_ms=lambda: NOW)
    inventory = Inventory(storage=storage, clock=lambda: NOW)
    store_id = guid()
    item = items.create_item(inventory, store_id=store_id, draft=some_drafts(1)[0])
    holder_url = make_url(postgres_url).set(drivername="postgresql")
    try:
        with psycopg.connect(holder_url.render_as_string(hide_password=False)) as holder:
            holder.execute("SELECT 1 FROM inventory_items WHERE id = %s FOR UPDATE", [item.id])
            update = items.ItemUpdate(item.id, ItemPatch(quantity=7), item.revision)
            with pytest.raises(ServiceBusy) as raised:
                items.update_item(inventory, store_id=store_id, update=update)
            holder.rollback()

        assert isinstance(raised.value.__cause__, OperationalError)
        assert items.get_item(inventory, store_id=store_id, item_id=item.id) == item
    finally:
        storage.close()


def postgres_storage(url: str, *, trust_idle_ms: int) -> SqlStorage:
    """One connection, so that the next transaction runs on the one a test has cut."""
    return open_storage(url, now_ms=lambda: NOW, pool_size=1, trust_idle_ms=trust_idle_ms)


def cut_its_connection(storage: SqlStorage, postgres_url: str) -> None:
    """The server ends the session of the storage's pooled connection, as a failover or a
    restart would."""
    with storage.engine.connect() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin_url = make_url(postgres_url).set(drivername="postgresql")
    with psycopg.connect(admin_url.render_as_string(hide_password=False)) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])


def test_a_postgres_connection_idle_past_the_trusted_window_is_tested_and_replaced(
    postgres_url,
):
    storage = postgres_storage(postgres_url, trust_idle_ms=0)
    try:
        cut_its_connection(storage, postgres_url)

        assert stored_count(storage) == 0  # served on a new connection, without an error
    finally:
        storage.close()


def test_a_lost_postgres_connection_used_within_the_window_is_busy_once_then_replaced(
    postgres_url,
):
    storage = postgres_storage(postgres_url, trust_idle_ms=60_000)
    try:
        cut_its_connection(storage, postgres_url)
        with pytest.raises(ServiceBusy) as raised:
            stored_count(storage)

        assert "connection to the database was lost" in str(raised.value)
        assert stored_count(storage) == 0
    finally:
        storage.close()


def test_a_writer_queued_behind_one_of_its_own_process_past_the_busy_timeout_is_busy(
    impatient_sqlite,
):
    inventory = Inventory(storage=impatient_sqlite, clock=lambda: NOW)
    items.create_item(inventory, store_id=STORE, draft=ItemDraft("p", guid(), quantity=1))
    with another_writer(impatient_sqlite, STORE), pytest.raises(ServiceBusy):
        items.bulk_create_items(inventory, store_id=STORE, drafts=some_drafts())

    assert stored_count(impatient_sqlite) == 1
    assert len(items.bulk_create_items(inventory, store_id=STORE, drafts=some_drafts(3))) == 3
