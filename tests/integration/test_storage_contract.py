"""The storage contract: every backend must pass these, unchanged."""

import threading
from contextlib import contextmanager, suppress
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from stockroom.domain import stock
from stockroom.domain.errors import StockroomError
from stockroom.storage.schema import events, inventory_items, outbox
from tests.factories import an_item, guid
from tests.strategies import amounts, items
from tests.writers import another_writer

STORE = "store-a"
NOW = 1_800_000_000_000
examples = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Rollback(Exception):
    """Raised to leave a transaction without committing."""


@contextmanager
def rolled_back(storage):
    """A write transaction that is always rolled back, so examples leave nothing behind."""
    with suppress(Rollback), storage.writing(STORE) as tx:
        yield tx
        raise Rollback


def at_default_location(tx, item):
    return replace(item, location_id=tx.default_location_id())


def test_an_inserted_item_reads_back_equal_by_id_and_by_variant_and_location(storage):
    with storage.writing(STORE) as tx:
        item = at_default_location(tx, an_item(extended_fields={"ns": {"k": [1, 2]}}))
        assert tx.insert_item(item)

    with storage.reading(STORE) as tx:
        assert tx.get_item(item.id) == item
        assert tx.find_item(item.variant_id, item.location_id) == item


def test_a_second_item_for_the_same_variant_and_location_is_not_inserted(storage):
    with storage.writing(STORE) as tx:
        first = at_default_location(tx, an_item())
        assert tx.insert_item(first)
        assert not tx.insert_item(replace(first, id=guid(), quantity=99))

    with storage.reading(STORE) as tx:
        assert list(tx.iter_items()) == [first]


def test_stores_never_see_each_others_items(storage):
    with storage.writing("store-a") as tx:
        item = at_default_location(tx, an_item())
        tx.insert_item(item)

    with storage.reading("store-b") as tx:
        assert tx.get_item(item.id) is None
        assert list(tx.iter_items()) == []
        assert tx.default_location_id() != item.location_id


def test_each_store_keeps_one_default_location_across_reopening(storage):
    with storage.reading(STORE) as tx:
        first = tx.default_location_id()
    storage._known_stores.clear()

    with storage.writing(STORE) as tx:
        assert tx.default_location_id() == first
        assert tx.location_exists(first)
        assert not tx.location_exists(guid())


def test_an_exception_inside_a_transaction_writes_nothing(storage):
    item = an_item()

    def insert_then_fail():
        with storage.writing(STORE) as tx:
            tx.insert_item(at_default_location(tx, item))
            raise Rollback

    with pytest.raises(Rollback):
        insert_then_fail()

    with storage.reading(STORE) as tx:
        assert tx.get_item(item.id) is None


def test_save_item_writes_only_at_the_expected_revision(storage):
    with storage.writing(STORE) as tx:
        item = at_default_location(tx, an_item())
        tx.insert_item(item)
        assert not tx.save_item(replace(item, quantity=1, revision=2), expected_revision=7)
        assert tx.save_item(replace(item, quantity=1, revision=2), expected_revision=1)

    with storage.reading(STORE) as tx:
        assert tx.get_item(item.id) == replace(item, quantity=1, revision=2)


def test_the_database_refuses_an_item_with_both_tracking_methods(storage):
    with storage.writing(STORE) as tx:
        location = tx.default_location_id()
    both = an_item(quantity=1, in_stock=True, location_id=location)

    with pytest.raises(IntegrityError), storage.writing(STORE) as tx:
        tx.insert_item(both)


def test_delete_returns_the_last_state_once(storage):
    with storage.writing(STORE) as tx:
        item = at_default_location(tx, an_item())
        tx.insert_item(item)
        assert tx.delete_item(item.id) == item
        assert tx.delete_item(item.id) is None


@examples
@given(item=items())
def test_the_stored_availability_column_matches_the_domain_rule(storage, item):
    with rolled_back(storage) as tx:
        item = at_default_location(tx, item)
        tx.insert_item(item)
        stored = tx._conn.execute(
            select(inventory_items.c.availability_status).where(inventory_items.c.id == item.id)
        ).scalar_one()
        assert stored == item.availability.value


@examples
@given(item=items(), by=amounts, preorder_request=st.booleans(), restrict=st.booleans())
def test_the_decrement_statement_agrees_with_the_domain_rule(
    storage, item, by, preorder_request, restrict
):
    try:
        expected = stock.decrement(
            item, by, preorder_request=preorder_request, restrict=restrict, now_ms=NOW
        )
    except StockroomError:
        expected = None

    with rolled_back(storage) as tx:
        item = at_default_location(tx, item)
        tx.insert_item(item)
        changed = tx.decrement(
            item.id, by, preorder_request=preorder_request, restrict=restrict, now_ms=NOW
        )
        if expected is None:
            assert changed is None
            assert tx.get_item(item.id) == item
        else:
            assert changed == replace(expected, location_id=item.location_id)


@examples
@given(item=items(), by=amounts)
def test_the_increment_statement_agrees_with_the_domain_rule(storage, item, by):
    try:
        expected = stock.increment(item, by, now_ms=NOW)
    except StockroomError:
        expected = None

    with rolled_back(storage) as tx:
        item = at_default_location(tx, item)
        tx.insert_item(item)
        changed = tx.increment(item.id, by, now_ms=NOW)
        if expected is None:
            assert changed is None
        else:
            assert changed == replace(expected, location_id=item.location_id)


def test_stock_statements_on_a_missing_item_change_nothing(storage):
    with storage.writing(STORE) as tx:
        assert tx.increment(guid(), 1, now_ms=NOW) is None
        assert tx.decrement(guid(), 1, preorder_request=False, restrict=True, now_ms=NOW) is None


def events_about(storage, item_id):
    """The events of one item, whether still in the outbox or numbered into the stream."""
    with storage.engine.connect() as conn:
        return sum(
            conn.execute(
                select(func.count()).select_from(table).where(table.c.entity_id == item_id)
            ).scalar_one()
            for table in (outbox, events)
        )


def test_a_stock_write_at_a_moved_revision_is_reported_and_rolls_back_whole(storage):
    """The batch write's compare-and-set: if any item is not at the revision it was read
    at, the write says so, and the caller's rollback leaves no item and no event of it."""
    with storage.writing(STORE) as tx:
        kept = at_default_location(tx, an_item(quantity=5))
        moved = at_default_location(tx, an_item(quantity=5))
        tx.insert_items([kept, moved])
    created = events_about(storage, kept.id), events_about(storage, moved.id)

    stale = replace(moved, revision=moved.revision + 1)
    changes = [
        (kept, kept.with_stock(4, now_ms=NOW), None),
        (stale, stale.with_stock(4, now_ms=NOW), None),
    ]
    with rolled_back(storage) as tx:
        assert not tx.write_changes(changes)

    assert (events_about(storage, kept.id), events_about(storage, moved.id)) == created
    with storage.reading(STORE) as tx:
        assert (tx.get_item(kept.id), tx.get_item(moved.id)) == (kept, moved)
    with storage.writing(STORE) as tx:  # and at the revisions read, the same write goes in
        assert tx.write_changes(changes[:1])
    assert events_about(storage, kept.id) == created[0] + 2  # updated, and with its reason


def test_begin_without_waiting_is_in_process_sqlite_only_and_never_waits(storage):
    """SQLite's write lock free: a transaction held open until it is committed, like
    ``writing``'s. Held by another thread: ``None`` at once. PostgreSQL waits on every round
    trip: ``None``."""
    item = an_item(quantity=4)
    held = storage.begin_without_waiting(STORE)
    if storage.engine.dialect.name == "postgresql":
        assert held is None
        return
    assert held is not None
    held.tx.insert_item(replace(item, location_id=held.tx.default_location_id()))
    held.commit()
    with storage.reading(STORE) as tx:
        assert tx.get_item(item.id) is not None

    with another_writer(storage, STORE):
        assert storage.begin_without_waiting(STORE) is None
    held = storage.begin_without_waiting(STORE)
    assert held is not None  # nothing was left held by the refusal
    held.abandon(RuntimeError("changed our mind"))


def test_a_held_write_released_by_its_thread_ends_on_another(storage):
    """Once released, the thread that began the write cannot begin another beside it until
    the write ends, whichever thread ends it; a rollback leaves nothing."""
    if storage.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL never begins a write without waiting (the test above)")
    first, second = an_item(quantity=1), an_item(quantity=2)
    held = storage.begin_without_waiting(STORE)
    assert held is not None
    first = replace(first, location_id=held.tx.default_location_id())
    held.tx.insert_item(first)
    held.release_thread()

    assert storage.begin_without_waiting(STORE) is None  # this thread no longer holds it
    ended = threading.Thread(target=held.commit)
    ended.start()
    ended.join()

    again = storage.begin_without_waiting(STORE)
    assert again is not None
    again.tx.insert_item(replace(second, location_id=again.tx.default_location_id()))
    again.release_thread()
    abandoned = threading.Thread(target=again.abandon, args=(RuntimeError("gone"),))
    abandoned.start()
    abandoned.join()
    with storage.reading(STORE) as tx:
        assert (tx.get_item(first.id), tx.get_item(second.id)) == (first, None)
