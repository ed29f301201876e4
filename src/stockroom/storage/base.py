"""The storage interface the service layer needs; each backend implements it.

A ``Storage`` hands out transactions scoped to one store. A ``Transaction`` commits when its
``with`` block ends normally and rolls back when an exception leaves it, so a use case that
raises half-way changes nothing.

Stock changes are conditional statements in the database: ``increment`` and ``decrement``
return the changed item, or ``None`` when the row is missing or the rule refused the change.
The caller then reads the item to say why; nothing is computed in Python and written back.

Every item write also records the change's events (spec 5) in the same transaction (the
transactional outbox): a change commits with its events or not at all. ``reason`` is what
the ``updated_with_reason`` event carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from sqlalchemy import ColumnElement, RowMapping

from stockroom.domain.item import InventoryItem, Reason

from .access import SqlAccess
from .catalog import SqlCatalog
from .events import SqlEvents
from .held import HeldWrite
from .jobs import SqlJobs
from .relay import SqlRelayQueue

__all__ = ["Storage", "Transaction"]


class Transaction(Protocol):
    """Reads and writes of one store inside one database transaction."""

    @property
    def store_id(self) -> str: ...

    def default_location_id(self) -> str:
        """The id of the store's one default location."""
        ...

    def location_exists(self, location_id: str) -> bool: ...

    def live_locations(self, location_ids: Iterable[str]) -> set[str]:
        """Which of these locations exist and are not archived."""
        ...

    def get_item(self, item_id: str, *, lock: bool = False) -> InventoryItem | None:
        """One item by id; ``lock`` holds it against other writers until the end."""
        ...

    def find_item(
        self, variant_id: str, location_id: str, *, lock: bool = False
    ) -> InventoryItem | None:
        """The item of a variant at a location, if there is one."""
        ...

    def lock_items(self, item_ids: Sequence[str]) -> dict[str, InventoryItem]:
        """Lock these items in key order, so that writers touching the same items
        in different orders cannot deadlock; the ones that exist, by id."""
        ...

    def insert_item(self, item: InventoryItem) -> bool:
        """Insert a new item; ``False`` when its (variant, location) is already taken."""
        ...

    def insert_items(self, new_items: Sequence[InventoryItem]) -> set[str]:
        """Insert the items whose (variant, location) is not taken, in a few statements
        however many there are; the ids of those inserted."""
        ...

    def save_item(
        self, item: InventoryItem, *, expected_revision: int, reason: Reason | None = None
    ) -> bool:
        """Write every field of ``item`` if the stored revision is still ``expected_revision``."""
        ...

    def delete_item(self, item_id: str) -> InventoryItem | None:
        """Delete one item and return its last state, or ``None`` if there was none."""
        ...

    def increment(
        self, item_id: str, by: int, *, now_ms: int, reason: Reason | None = None
    ) -> InventoryItem | None:
        """Add ``by`` units in one conditional statement (quantity-tracked, not above the max)."""
        ...

    def decrement(
        self,
        item_id: str,
        by: int,
        *,
        preorder_request: bool,
        restrict: bool,
        now_ms: int,
        reason: Reason | None = None,
    ) -> InventoryItem | None:
        """Take ``by`` units in one conditional statement, following ``domain.stock.decrement``."""
        ...

    @property
    def dialect(self) -> str:
        """The SQL dialect, for the query compiler: ``sqlite`` or ``postgresql``."""
        ...

    def select_page(
        self,
        matched: ColumnElement[bool] | None,
        after: ColumnElement[bool] | None,
        order_by: Sequence[Any],
        limit: int,
    ) -> list[InventoryItem]:
        """A page of the store's items: those meeting ``matched`` (None: every one) strictly
        after a cursor's bound ``after`` (None: from the first), in order, at most ``limit``;
        read whichever way suits the matches (``storage.pages``)."""
        ...

    def count_items(self, condition: ColumnElement[bool]) -> int: ...

    def select_rows(
        self,
        columns: Sequence[ColumnElement[Any]],
        condition: ColumnElement[bool],
        *,
        group_by: Sequence[ColumnElement[Any]] = (),
    ) -> list[RowMapping]:
        """Computed columns over the store's items meeting ``condition`` (aggregations)."""
        ...

    @property
    def access(self) -> SqlAccess:
        """API keys and idempotency records, inside this transaction."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: an exception inside undoes only what happened inside."""
        ...

    @property
    def catalog(self) -> SqlCatalog:
        """The store's products, variants and locations, inside this transaction."""
        ...

    @property
    def jobs(self) -> SqlJobs:
        """The store's background jobs, inside this transaction."""
        ...

    @property
    def events(self) -> SqlEvents:
        """The store's event feed, webhook subscriptions and delivery log."""
        ...

    def write_changes(
        self, changes: Sequence[tuple[InventoryItem, InventoryItem, Reason | None]]
    ) -> bool:
        """Write a run of stock changes (each: the item before, after, and why) to items
        this transaction has locked: each item once, at its last state, guarded by the
        revision its first change started from; every change's events are recorded, in
        order. ``False`` when an item was not at that revision: then roll back."""
        ...

    def iter_items(self) -> Iterator[InventoryItem]:
        """Every item of the store, in id order (for tests, exports and checks)."""
        ...


class Storage(Protocol):
    """A database holding any number of stores."""

    locks_rows: bool
    """Whether a write transaction holds only the rows it locks (PostgreSQL), rather than
    the whole database (SQLite's write lock)."""

    def reading(self, store_id: str) -> AbstractContextManager[Transaction]:
        """A read-only transaction seeing one consistent snapshot."""
        ...

    def writing(self, store_id: str) -> AbstractContextManager[Transaction]:
        """A read-write transaction; the store and its default location exist inside it."""
        ...

    def request(self, store_id: str) -> AbstractContextManager[Transaction]:
        """A write transaction that every use case on this thread joins until it ends."""
        ...

    def begin_without_waiting(self, store_id: str) -> HeldWrite | None:
        """``writing``, begun now and held open until the caller ends it, if no statement of
        it will wait on another writer or on a server: ``None`` instead, at once, when it
        would (then use ``writing`` on a worker thread)."""
        ...

    def access(self, *, write: bool = False) -> AbstractContextManager[SqlAccess]:
        """API keys, idempotency records and rate windows, across stores."""
        ...

    def claim_job(self, *, owner: str, lease_ms: int) -> tuple[str, str] | None:
        """Lease the oldest unfinished job whose lease is free or expired."""
        ...

    def relaying(self, *, write: bool = True) -> AbstractContextManager[SqlRelayQueue]:
        """Webhook deliveries across stores, for the relay."""
        ...

    def secret(self, name: str) -> bytes:
        """A key shared by every process using this database (cursor signing)."""
        ...

    def close(self) -> None: ...
