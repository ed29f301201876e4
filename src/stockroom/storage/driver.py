"""A batch of stock changes on SQLite, statement by statement, straight to the driver.

A batch of stock changes (``service.coalesce``) reads its items, writes them and numbers
their events: a handful of statements that SQLite runs in microseconds, in the process.
Through SQLAlchemy each costs some 45 µs more on this kind of machine (its execution
context, result set-up and events), and a batch holds the one write lock meanwhile. So on
SQLite these statements go to ``sqlite3`` as written here, inside the transaction
SQLAlchemy opened on the same connection. Their PostgreSQL forms stay in ``storage.sql``
and ``storage.sequencer``; both are checked against the same storage contract tests.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from functools import cache
from typing import Any, Final

from sqlalchemy import Connection

from stockroom.domain.item import InventoryItem

from .schema import inventory_items

__all__ = ["MAX_IDS", "advance", "driver_of", "item_rows", "write_stock"]

MAX_IDS: Final = 900
"""The most ids ``item_rows`` binds in one statement (SQLite's oldest limit on bound
values is 999); a longer list goes through SQLAlchemy instead."""

_ITEM_NAMES: Final = tuple(c.name for c in inventory_items.c if c.computed is None)
_JSON_NAMES: Final = ("extended_fields", "direct_category_ids")


def driver_of(conn: Connection) -> sqlite3.Connection | None:
    """The ``sqlite3`` connection under ``conn``, or ``None`` on another database."""
    if conn.dialect.name != "sqlite":
        return None
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


@cache
def _select_items(count: int) -> str:
    """The item SELECT for ``count`` ids: only column names and ``?`` marks go in."""
    marks = ", ".join("?" * count)
    columns = ", ".join(_ITEM_NAMES)
    where = f"WHERE store_id = ? AND id IN ({marks}) ORDER BY id"
    return f"SELECT {columns} FROM inventory_items {where}"  # noqa: S608


def item_rows(
    driver: sqlite3.Connection, store_id: str, ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The stored rows of these items (at most ``MAX_IDS``), by id, as ``item_from_row``
    takes them (JSON columns decoded, as SQLAlchemy's JSON type would)."""
    found = []
    for values in driver.execute(_select_items(len(ids)), (store_id, *ids)):
        row = dict(zip(_ITEM_NAMES, values, strict=True))
        for name in _JSON_NAMES:
            if row[name] is not None:
                row[name] = json.loads(row[name])
        found.append(row)
    return found


_WRITE_STOCK: Final = """
    UPDATE inventory_items
    SET quantity = ?, preorder_counter = ?, revision = ?, updated_ms = ?
    WHERE store_id = ? AND id = ? AND revision = ?
"""


def write_stock(
    driver: sqlite3.Connection, store_id: str, states: Sequence[tuple[InventoryItem, int]]
) -> int:
    """Each item's last state, guarded by the revision it was read at: ``states`` of
    (item, revision read). How many rows it wrote."""
    rows = [
        (item.quantity, item.preorder.counter, item.revision, item.updated_ms, store_id, item.id,
         was)
        for item, was in states
    ]  # fmt: skip
    return driver.executemany(_WRITE_STOCK, rows).rowcount


_ADVANCE: Final = """
    UPDATE event_streams SET last_seq = last_seq + ? WHERE store_id = ?
    RETURNING last_seq, subscribers
"""


def advance(driver: sqlite3.Connection, store_id: str, count: int) -> tuple[int, Any] | None:
    """Take ``count`` numbers of the store's stream: (the last taken, the subscribers), or
    ``None`` when the store has no stream row yet."""
    found = driver.execute(_ADVANCE, (count, store_id)).fetchall()
    if not found:
        return None
    [(last, subscribers)] = found
    return int(last), json.loads(subscribers)
