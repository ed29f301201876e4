"""The statements both SQL backends share, written with SQLAlchemy Core.

Each backend supplies an engine and the few things that differ between dialects (how a
write transaction begins, how an insert skips a conflict, how rows are locked); the
statements themselves live here, once.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from secrets import token_hex
from typing import TYPE_CHECKING, Any, Final

import msgspec
from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    Insert,
    Integer,
    RowMapping,
    String,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from stockroom.domain.errors import ServiceBusy
from stockroom.domain.item import (
    PREORDER_COUNTER_MAX,
    PREORDER_LIMIT_DEFAULT,
    QUANTITY_MAX,
    QUANTITY_MIN,
    InventoryItem,
    Preorder,
    ProductSummary,
    Reason,
)

from . import driver
from .access import SqlAccess
from .catalog import SqlCatalog, summary_values
from .events import SqlEvents
from .jobs import SqlJobs, claim_job
from .outbox import APPEND_SQL, Outbox
from .pages import select_page
from .relay import SqlRelayQueue
from .schema import event_streams, locations, secrets, stores
from .schema import inventory_items as items
from .sequencer import new_stream

if TYPE_CHECKING:
    from .held import HeldWrite

__all__ = ["InsertIgnoring", "SqlStorage", "SqlTransaction", "item_from_row", "item_values"]

InsertIgnoring = Callable[[Any, dict[str, Any]], Insert]
"""Builds ``INSERT ... ON CONFLICT DO NOTHING`` for a table in the backend's dialect."""

DEFAULT_LOCATION_NAME = "Default location"


def item_values(store_id: str, item: InventoryItem) -> dict[str, Any]:
    """The column values of one item."""
    return {
        "store_id": store_id,
        "id": item.id,
        "variant_id": item.variant_id,
        "location_id": item.location_id,
        "product_id": item.product_id,
        "quantity": item.quantity,
        "in_stock": item.in_stock,
        "preorder_enabled": item.preorder.enabled,
        "preorder_message": item.preorder.message,
        "preorder_limit": item.preorder.limit,
        "preorder_counter": item.preorder.counter,
        "extended_fields": dict(item.extended_fields) if item.extended_fields else None,
        "revision": item.revision,
        "created_ms": item.created_ms,
        "updated_ms": item.updated_ms,
        **summary_values(item.product),
    }


def _product_from_row(row: Mapping[Any, Any]) -> ProductSummary | None:
    details = (
        row["product_name"],
        row["variant_name"],
        row["variant_sku"],
        row["variant_barcode"],
        row["variant_visible"],
        row["brand_id"],
        row["brand_name"],
    )
    categories = row["direct_category_ids"]
    # Checked before anything is built: every row read passes here, a page 100 at a time.
    if not categories and details.count(None) == len(details):
        return None
    name, variant_name, sku, barcode, visible, brand_id, brand_name = details
    return ProductSummary(
        name=name,
        variant_name=variant_name,
        variant_sku=sku,
        variant_barcode=barcode,
        variant_visible=None if visible is None else bool(visible),
        brand_id=brand_id,
        brand_name=brand_name,
        direct_category_ids=tuple(categories or ()),
    )


def item_from_row(row: Mapping[Any, Any]) -> InventoryItem:
    """The one place a stored row becomes a domain item."""
    in_stock = row["in_stock"]
    return InventoryItem(
        id=row["id"],
        variant_id=row["variant_id"],
        location_id=row["location_id"],
        product_id=row["product_id"],
        quantity=row["quantity"],
        in_stock=None if in_stock is None else bool(in_stock),
        preorder=Preorder(
            enabled=bool(row["preorder_enabled"]),
            message=row["preorder_message"],
            limit=row["preorder_limit"],
            counter=row["preorder_counter"],
        ),
        revision=row["revision"],
        created_ms=row["created_ms"],
        updated_ms=row["updated_ms"],
        extended_fields=row["extended_fields"],
        product=_product_from_row(row),
    )


# What the database computes (availability, the quantity's sort key), the domain computes too.
_ITEM_COLUMNS = [c for c in items.c if c.computed is None]

_DEFAULT_LOCATION: Final = select(stores.c.default_location_id).where(
    stores.c.id == bindparam("store")
)
_LIVE_LOCATIONS: Final = select(locations.c.id).where(
    locations.c.store_id == bindparam("store"),
    locations.c.id.in_(bindparam("ids", expanding=True)),
    locations.c.archived == false(),
)
"""Built once: every create reads these."""


_STORE: Final[BindParameter[str]] = bindparam("store", type_=String)
_ITEM: Final[BindParameter[str]] = bindparam("item", type_=String)
_BY: Final[BindParameter[int]] = bindparam("by", type_=Integer)
_NOW: Final[BindParameter[int]] = bindparam("now", type_=BigInteger)
"""The parameters of the statements below, which are built once, at import: a request on
the hot path only binds values to them (no statement construction, no cache-key work)."""

_GET_ITEM: Final = select(*_ITEM_COLUMNS).where(items.c.store_id == _STORE, items.c.id == _ITEM)
_GET_ITEM_LOCKED: Final = _GET_ITEM.with_for_update()
_FIND_ITEM: Final = select(*_ITEM_COLUMNS).where(
    items.c.store_id == _STORE,
    items.c.variant_id == bindparam("variant"),
    items.c.location_id == bindparam("location"),
)
_FIND_ITEM_LOCKED: Final = _FIND_ITEM.with_for_update()
_LOCK_ITEMS: Final = (
    select(*_ITEM_COLUMNS)
    .where(items.c.store_id == _STORE, items.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(items.c.id)
)
_LOCK_ITEMS_LOCKED: Final = _LOCK_ITEMS.with_for_update()
_WRITE_STOCK_ROWS: Final = text(f"""
    WITH written AS (
        UPDATE inventory_items AS item
        SET quantity = row.quantity, preorder_counter = row.counter, revision = row.revision,
            updated_ms = row.now
        FROM json_to_recordset(CAST(:rows AS json))
             AS row(item text, was bigint, quantity integer, counter integer, revision bigint,
                    now bigint)
        WHERE item.store_id = :store AND item.id = row.item AND item.revision = row.was
        RETURNING item.id
    ), appended AS ({APPEND_SQL})
    SELECT count(*) FROM written
""")  # noqa: S608 (constant text)
"""A run of stock changes worked out under the items' locks, written as each item's last
state, with the changes' events appended to the outbox, in one statement and one round trip
while the items stay locked (PostgreSQL; SQLite's is ``driver.write_stock``, its events
written by the transaction itself). How many items were written."""
_json_text = msgspec.json.Encoder().encode
INSERT_ITEM_ROWS: Final = text("""
    INSERT INTO inventory_items (
        store_id, id, variant_id, location_id, product_id, quantity, in_stock,
        preorder_enabled, preorder_message, preorder_limit, preorder_counter, extended_fields,
        revision, created_ms, updated_ms, product_name, variant_name, variant_sku,
        variant_barcode, variant_visible, brand_id, brand_name, direct_category_ids
    )
    SELECT
        store_id, id, variant_id, location_id, product_id, quantity, in_stock,
        preorder_enabled, preorder_message, preorder_limit, preorder_counter, extended_fields,
        revision, created_ms, updated_ms, product_name, variant_name, variant_sku,
        variant_barcode, variant_visible, brand_id, brand_name, direct_category_ids
    FROM ROWS FROM (json_populate_recordset(NULL::inventory_items, CAST(:rows AS json)))
         WITH ORDINALITY AS row
    ORDER BY row.ordinality
    ON CONFLICT DO NOTHING
    RETURNING id
""")
"""``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` of many items (PostgreSQL) from one
JSON array of their column values, in the order given; SQLAlchemy's multi-row VALUES would
bind some twenty parameters per item, each passed and converted in Python."""

_INCREMENT: Final = (
    update(items)
    .where(
        items.c.store_id == _STORE,
        items.c.id == _ITEM,
        items.c.quantity.is_not(None),
        items.c.quantity + _BY <= QUANTITY_MAX,
    )
    .values(quantity=items.c.quantity + _BY, revision=items.c.revision + 1, updated_ms=_NOW)
    .returning(*_ITEM_COLUMNS)
)


@cache
def _decrement_statement(*, preorder_request: bool, restrict: bool) -> Any:
    """``domain.stock.decrement`` as one conditional UPDATE (one per kind of request, built
    on first use).

    In a preorder request on a preorder-enabled item short of stock, the stock on hand
    (if any) is taken and the rest is booked on the preorder counter, within capacity.
    Otherwise the quantity falls by ``by``, never below the floor.
    """
    q = items.c.quantity
    floor = 0 if restrict else QUANTITY_MIN
    plain = q - _BY >= floor
    if not preorder_request:
        new_quantity: Any = q - _BY
        new_counter: Any = items.c.preorder_counter
        allowed: Any = plain
    else:
        booking = and_(items.c.preorder_enabled == true(), q < _BY)
        from_stock = case((q > 0, q), else_=literal(0))
        booked = _BY - from_stock
        capacity = func.coalesce(items.c.preorder_limit, PREORDER_LIMIT_DEFAULT) - (
            items.c.preorder_counter
        )
        new_quantity = case((booking, q - from_stock), else_=q - _BY)
        new_counter = case(
            (booking, items.c.preorder_counter + booked), else_=items.c.preorder_counter
        )
        allowed = or_(
            and_(
                booking,
                booked <= capacity,
                items.c.preorder_counter + booked <= PREORDER_COUNTER_MAX,
            ),
            and_(not_(booking), plain),
        )
    return (
        update(items)
        .where(items.c.store_id == _STORE, items.c.id == _ITEM, q.is_not(None), allowed)
        .values(
            quantity=new_quantity,
            preorder_counter=new_counter,
            revision=items.c.revision + 1,
            updated_ms=_NOW,
        )
        .returning(*_ITEM_COLUMNS)
    )


def service_busy(reason: str) -> ServiceBusy:
    """The answer to a request that waited too long for the database, saying why."""
    return ServiceBusy(f"the service is busy: {reason}; retry later")


class SqlTransaction:
    """``Transaction`` over one SQLAlchemy connection inside an open transaction.

    Every item write hands the item before and after it to the transaction's outbox, which
    writes the change's events when the transaction commits (``storage.outbox``).
    """

    def __init__(
        self,
        conn: Connection,
        store_id: str,
        *,
        insert_ignoring: InsertIgnoring,
        insert_items: Insert,
        locks_rows: bool,
        now_ms: Callable[[], int],
    ) -> None:
        self._conn = conn
        self._store_id = store_id
        self._insert_ignoring = insert_ignoring
        self._insert_items = insert_items
        self._locks_rows = locks_rows
        self._driver = driver.driver_of(conn)
        # One writer at a time (SQLite): number the events here rather than in the outbox.
        self._outbox = Outbox(conn, store_id, now_ms=now_ms, numbers_events=not locks_rows)

    @property
    def store_id(self) -> str:
        return self._store_id

    def default_location_id(self) -> str:
        found = self._conn.execute(_DEFAULT_LOCATION, {"store": self._store_id}).scalar()
        if found is None:
            raise LookupError(f"store {self._store_id!r} has not been created")
        return str(found)

    def location_exists(self, location_id: str) -> bool:
        return location_id in self.live_locations([location_id])

    def live_locations(self, location_ids: Iterable[str]) -> set[str]:
        """Which of these locations exist and are not archived, in one statement."""
        wanted = sorted(set(location_ids))
        if not wanted:
            return set()
        rows = self._conn.execute(_LIVE_LOCATIONS, {"store": self._store_id, "ids": wanted})
        return {str(location_id) for (location_id,) in rows}

    def get_item(self, item_id: str, *, lock: bool = False) -> InventoryItem | None:
        query = _GET_ITEM_LOCKED if lock and self._locks_rows else _GET_ITEM
        row = self._conn.execute(query, {"store": self._store_id, "item": item_id})
        found = row.mappings().first()
        return None if found is None else self._seen(item_from_row(found), locked=lock)

    def find_item(
        self, variant_id: str, location_id: str, *, lock: bool = False
    ) -> InventoryItem | None:
        query = _FIND_ITEM_LOCKED if lock and self._locks_rows else _FIND_ITEM
        row = self._conn.execute(
            query, {"store": self._store_id, "variant": variant_id, "location": location_id}
        )
        found = row.mappings().first()
        return None if found is None else self._seen(item_from_row(found), locked=lock)

    def _seen(self, item: InventoryItem, *, locked: bool) -> InventoryItem:
        # What this transaction reads under its lock stays true until it writes the item
        # (SQLite's write transactions hold the one database lock throughout).
        if locked or not self._locks_rows:
            self._outbox.saw(item)
        return item

    def _before(self, item_id: str, revision: int | None = None) -> InventoryItem | None:
        """The item as it stands before this transaction changes it, read (under lock)
        only when the outbox has not seen it already at ``revision``."""
        known = self._outbox.known(item_id)
        if known is None or (revision is not None and known.revision != revision):
            known = self.get_item(item_id, lock=True)
        return known

    def lock_items(self, item_ids: Sequence[str]) -> dict[str, InventoryItem]:
        if not item_ids:
            return {}
        ids = sorted(set(item_ids))
        rows: Iterable[Mapping[Any, Any]]
        if self._driver is not None and len(ids) <= driver.MAX_IDS:
            rows = driver.item_rows(self._driver, self._store_id, ids)
        else:
            query = _LOCK_ITEMS_LOCKED if self._locks_rows else _LOCK_ITEMS
            rows = self._conn.execute(query, {"store": self._store_id, "ids": ids}).mappings()
        locked = {}
        for row in rows:
            item = item_from_row(row)
            self._outbox.saw(item)  # what the stock changes' events start from
            locked[item.id] = item
        return locked

    def insert_item(self, item: InventoryItem) -> bool:
        return item.id in self.insert_items([item])

    def insert_items(self, new_items: Sequence[InventoryItem]) -> set[str]:
        """Insert the items whose (variant, location) and id are free, skipping the others:
        ``INSERT ... VALUES (...), (...) ON CONFLICT DO NOTHING RETURNING id``, a page of
        rows per statement (SQLAlchemy's "insertmanyvalues" sizes the pages to the driver's
        limit on bound values, 999 on SQLite before 3.32). Rows go in (variant, location)
        order, so concurrent inserts of the same keys wait for each other rather than
        deadlock; the events of the inserted items are recorded in the order given. The
        ids of the inserted items."""
        if not new_items:
            return set()
        rows = [
            item_values(self._store_id, item)
            for item in sorted(new_items, key=lambda i: (i.variant_id, i.location_id, i.id))
        ]
        if self._conn.dialect.name == "postgresql":  # one statement, one round trip
            found = self._conn.execute(INSERT_ITEM_ROWS, {"rows": _json_text(rows).decode()})
        else:
            found = self._conn.execute(self._insert_items, rows)
        inserted = {str(item_id) for item_id in found.scalars()}
        for item in new_items:
            if item.id in inserted:
                self._outbox.record(None, item)
        return inserted

    def save_item(
        self, item: InventoryItem, *, expected_revision: int, reason: Reason | None = None
    ) -> bool:
        before = self._before(item.id, expected_revision)
        if before is None:
            return False
        values = item_values(self._store_id, item)
        for key in ("store_id", "id", "variant_id", "location_id", "product_id", "created_ms"):
            del values[key]
        result = self._conn.execute(
            update(items)
            .where(
                items.c.store_id == self._store_id,
                items.c.id == item.id,
                items.c.revision == expected_revision,
            )
            .values(values)
            .returning(items.c.id)
        ).first()
        if result is not None:
            self._outbox.record(before, item, reason=reason)
        return result is not None

    def delete_item(self, item_id: str) -> InventoryItem | None:
        row = (
            self._conn.execute(
                delete(items)
                .where(items.c.store_id == self._store_id, items.c.id == item_id)
                .returning(*_ITEM_COLUMNS)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        deleted = item_from_row(row)
        self._outbox.record(deleted, None)
        return deleted

    def increment(
        self, item_id: str, by: int, *, now_ms: int, reason: Reason | None = None
    ) -> InventoryItem | None:
        return self._change_stock(item_id, _INCREMENT, by, now_ms, reason)

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
        statement = _decrement_statement(preorder_request=preorder_request, restrict=restrict)
        return self._change_stock(item_id, statement, by, now_ms, reason)

    def _change_stock(
        self, item_id: str, statement: Any, by: int, now_ms: int, reason: Reason | None
    ) -> InventoryItem | None:
        before = self._before(item_id)
        if before is None:
            return None
        values = {"store": self._store_id, "item": item_id, "by": by, "now": now_ms}
        row = self._conn.execute(statement, values).mappings().first()
        if row is None:
            return None
        after = item_from_row(row)
        if after.revision != before.revision + 1:
            raise RuntimeError(f"item {item_id} changed outside this transaction's lock")
        self._outbox.record(before, after, reason=reason)
        return after

    def write_changes(
        self, changes: Sequence[tuple[InventoryItem, InventoryItem, Reason | None]]
    ) -> bool:
        first: dict[str, InventoryItem] = {}
        last: dict[str, InventoryItem] = {}
        for before, after, _ in changes:
            first.setdefault(before.id, before)
            last[after.id] = after
        states = [(last[item_id], was.revision) for item_id, was in first.items()]
        # Recorded first; when not every item is written, the caller's rollback takes them.
        for before, after, reason in changes:
            self._outbox.record(before, after, reason=reason)
        if self._driver is not None:  # in-process: a statement per item costs no round trip
            return driver.write_stock(self._driver, self._store_id, states) == len(states)
        # The items and the events in one statement: one round trip while they are locked.
        rows = [
            {
                "item": after.id,
                "was": was,
                "quantity": after.quantity,
                "counter": after.preorder.counter,
                "revision": after.revision,
                "now": after.updated_ms,
            }
            for after, was in states
        ]
        values = {
            "store": self._store_id,
            "rows": _json_text(rows).decode(),
            "events": self._outbox.take_rows(),
        }
        return bool(self._conn.execute(_WRITE_STOCK_ROWS, values).scalar_one() == len(states))

    @property
    def dialect(self) -> str:
        return self._conn.dialect.name

    @property
    def jobs(self) -> SqlJobs:
        return SqlJobs(self._conn, self._store_id)

    @property
    def catalog(self) -> SqlCatalog:
        return SqlCatalog(self._conn, self._store_id)

    @property
    def access(self) -> SqlAccess:
        return SqlAccess(self._conn)

    @property
    def events(self) -> SqlEvents:
        return SqlEvents(self._conn, self._store_id, insert_ignoring=self._insert_ignoring)

    def flush_events(self) -> int:
        """Write the events of this transaction's changes (its last statements)."""
        return self._outbox.flush()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside undoes only what happened inside."""
        with self._outbox.savepoint(), self._conn.begin_nested():
            yield

    def select_page(
        self,
        matched: ColumnElement[bool] | None,
        after: ColumnElement[bool] | None,
        order_by: Sequence[Any],
        limit: int,
    ) -> list[InventoryItem]:
        rows = select_page(
            self._conn,
            _ITEM_COLUMNS,
            store=items.c.store_id == self._store_id,
            matched=matched,
            after=after,
            order_by=order_by,
            limit=limit,
        )
        return [item_from_row(row) for row in rows]

    def count_items(self, condition: ColumnElement[bool]) -> int:
        found = self._conn.execute(
            select(func.count()).where(items.c.store_id == self._store_id, condition)
        ).scalar_one()
        return int(found)

    def select_rows(
        self,
        columns: Sequence[ColumnElement[Any]],
        condition: ColumnElement[bool],
        *,
        group_by: Sequence[ColumnElement[Any]] = (),
    ) -> list[RowMapping]:
        statement = (
            select(*columns)
            .select_from(items)
            .where(items.c.store_id == self._store_id, condition)
            .group_by(*group_by)
        )
        return list(self._conn.execute(statement).mappings())

    def iter_items(self) -> Iterator[InventoryItem]:
        result = self._conn.execute(
            select(*_ITEM_COLUMNS).where(items.c.store_id == self._store_id).order_by(items.c.id)
        )
        for row in result.mappings():
            yield item_from_row(row)


class SqlStorage:
    """``Storage`` over a SQLAlchemy engine; backends subclass it for their dialect."""

    locks_rows = False
    driver_errors: tuple[type[Exception], ...] = ()
    """The driver's own errors, from statements sent to it past SQLAlchemy."""

    def __init__(self, engine: Engine, *, now_ms: Callable[[], int]) -> None:
        self.engine = engine
        self._database_errors: tuple[type[Exception], ...] = (
            DBAPIError,
            PoolTimeout,
            *self.driver_errors,
        )
        self._now_ms = now_ms
        self._known_stores: set[str] = set()
        self._secrets: dict[str, bytes] = {}
        self._ambient = threading.local()
        self._insert_items = self.ignoring_conflicts(items).returning(items.c.id)

    def ignoring_conflicts(self, table: Any) -> Insert:
        """``INSERT INTO table ... ON CONFLICT DO NOTHING`` in the backend's dialect."""
        raise NotImplementedError

    def insert_ignoring(self, table: Any, values: dict[str, Any]) -> Insert:
        return self.ignoring_conflicts(table).values(values)

    def _begin_write(self, conn: Connection) -> Connection:
        return conn

    def _begin_read(self, conn: Connection) -> Connection:
        return conn

    def _busy_reason(self, error: Exception) -> str | None:
        """Why ``error`` means the database was too busy to serve in time, or ``None`` when it
        means something else. Backends add their own lock timeouts."""
        if isinstance(error, PoolTimeout):
            return "no database connection came free in time"
        return None

    def _turn(self, *, write: bool) -> AbstractContextManager[None]:
        """What a transaction waits for before it takes a connection; nothing here.
        Raises ``ServiceBusy`` when the wait runs out."""
        return nullcontext()

    @contextmanager
    def _connection(self, *, write: bool) -> Iterator[Connection]:
        """A connection in a transaction that commits when the block ends and rolls back when
        an exception leaves it. Raises ``ServiceBusy`` (after the rollback) when the database
        stayed locked or the pool stayed empty too long; other database errors pass through."""
        try:
            with self._turn(write=write), self.engine.connect() as raw:
                conn = self._begin_write(raw) if write else self._begin_read(raw)
                with conn.begin():
                    yield conn
        except self._database_errors as error:
            reason = self._busy_reason(error)
            if reason is None:
                raise
            raise service_busy(reason) from error

    @contextmanager
    def reading(self, store_id: str) -> Iterator[SqlTransaction]:
        if (joined := self._joined(store_id)) is not None:
            yield joined
            return
        self._ensure_store(store_id)
        with self._connection(write=False) as conn:
            yield self._transaction(conn, store_id)

    @contextmanager
    def writing(self, store_id: str) -> Iterator[SqlTransaction]:
        if (joined := self._joined(store_id)) is not None:
            yield joined
            return
        self._ensure_store(store_id)
        with self._connection(write=True) as conn:
            tx = self._transaction(conn, store_id)
            yield tx
            tx.flush_events()  # the changes' events commit with them, or not at all

    def begin_without_waiting(self, store_id: str) -> HeldWrite | None:
        """``None``: a database behind a network waits on every statement's round trip."""
        return None

    @contextmanager
    def request(self, store_id: str) -> Iterator[SqlTransaction]:
        """A write transaction that every use case on this thread joins until it ends, so
        that a request's effects and its record (an idempotent response) commit as one."""
        if self._joined(store_id) is not None:
            raise RuntimeError("a request transaction is already open on this thread")
        with self.writing(store_id) as tx:
            self._ambient.tx = tx
            try:
                yield tx
            finally:
                self._ambient.tx = None

    def _joined(self, store_id: str) -> SqlTransaction | None:
        tx: SqlTransaction | None = getattr(self._ambient, "tx", None)
        if tx is not None and tx.store_id != store_id:
            raise RuntimeError("a request transaction belongs to one store")
        return tx

    @contextmanager
    def access(self, *, write: bool = False) -> Iterator[SqlAccess]:
        """API keys, idempotency records and rate windows, across stores."""
        with self._connection(write=write) as conn:
            yield SqlAccess(conn)

    @contextmanager
    def relaying(self, *, write: bool = True) -> Iterator[SqlRelayQueue]:
        """The webhook deliveries of every store, for the relay."""
        with self._connection(write=write) as conn:
            yield SqlRelayQueue(conn)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def claim_job(self, *, owner: str, lease_ms: int) -> tuple[str, str] | None:
        """Lease the oldest unfinished, unleased job of any store: (store id, job id)."""
        with self._connection(write=True) as conn:
            return claim_job(conn, owner=owner, now_ms=self._now_ms(), lease_ms=lease_ms)

    def secret(self, name: str) -> bytes:
        """A random key shared by every process using this database, made on first use."""
        if name in self._secrets:
            return self._secrets[name]
        with self._connection(write=True) as conn:
            conn.execute(self.insert_ignoring(secrets, {"name": name, "value": token_hex(32)}))
            value = conn.execute(select(secrets.c.value).where(secrets.c.name == name)).scalar_one()
        self._secrets[name] = bytes.fromhex(value)
        return self._secrets[name]

    def _transaction(self, conn: Connection, store_id: str) -> SqlTransaction:
        return SqlTransaction(
            conn,
            store_id,
            insert_ignoring=self.insert_ignoring,
            insert_items=self._insert_items,
            locks_rows=self.locks_rows,
            now_ms=self._now_ms,
        )

    def _ensure_store(self, store_id: str) -> None:
        """Create the store and its default location the first time it is used."""
        if store_id in self._known_stores:
            return
        now = self._now_ms()
        location_id = str(uuid.uuid4())
        with self._connection(write=True) as conn:
            created = conn.execute(
                self.insert_ignoring(
                    stores,
                    {"id": store_id, "default_location_id": location_id, "created_ms": now},
                ).returning(stores.c.id)
            ).first()
            if created is not None:
                conn.execute(
                    locations.insert().values(
                        store_id=store_id,
                        id=location_id,
                        name=DEFAULT_LOCATION_NAME,
                        location_type="VIRTUAL",
                        is_default=True,
                        archived=False,
                        revision=1,
                        created_ms=now,
                        updated_ms=now,
                    )
                )
            conn.execute(self.insert_ignoring(event_streams, new_stream(store_id)))
        self._known_stores.add(store_id)
