"""The transactional outbox: a write transaction's events, written just before it commits.

Every item write of ``SqlTransaction`` (insert, save, delete, increment, decrement) hands
the item before and after the change to the transaction's ``Outbox``, which keeps the
change's events (``domain.events.kinds_of``), each storing the change itself as its body
(``storage.event_bodies``). ``flush`` runs as the transaction's last statement, inside it,
and appends them to the ``outbox`` table. So an event exists if and only if its change
committed, and a rolled-back savepoint takes its events with it.
The sequencer (``storage.sequencer``) numbers them into the store's stream and makes
their deliveries afterwards, so writers of one store never wait for each other's commits.
On SQLite, whose writers hold the whole database one at a time anyway, a transaction takes
that step itself and the outbox table stays empty.

To say what a change changed, the outbox also remembers the items this transaction has
read under its lock or written (``known``); ``SqlTransaction`` reads an item first only
when the outbox does not already know it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

import msgspec
from sqlalchemy import Connection, insert, text

from stockroom.domain.events import WIX_STORES_APP_ID, entity_of, kinds_of
from stockroom.domain.item import InventoryItem, Reason

from .event_bodies import stored
from .schema import outbox
from .sequencer import Waiting, number

__all__ = ["Outbox"]

_ENCODE = msgspec.json.Encoder().encode

APPEND_SQL: Final = """
    INSERT INTO outbox (store_id, event_id, entity_id, event_type, body, created_ms)
    SELECT :store, event.event_id, event.entity_id, event.event_type, event.body,
           event.created_ms
    FROM ROWS FROM (
             json_to_recordset(CAST(:events AS json))
             AS (event_id text, entity_id text, event_type text, body text, created_ms bigint)
         ) WITH ORDINALITY AS event(event_id, entity_id, event_type, body, created_ms, position)
    ORDER BY event.position
"""
"""A transaction's events into the outbox (PostgreSQL), as one JSON array (``take_rows``):
their ids are taken in the order given, which is the order of the changes. (Encoded by
msgspec, the bodies cost nothing to pass; as a text array, the driver would escape them in
Python.) A statement of its own (``flush``), or a part of the one that writes a batch's
stock (``SqlTransaction.write_changes``)."""
_APPEND: Final = text(APPEND_SQL)


def _new_id() -> str:
    """A random (version 4) UUID, as ``str(uuid.uuid4())`` but in a third of the time."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    hexed = raw.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


class Outbox:
    """The pending events of one write transaction, and the item states it has seen."""

    def __init__(
        self,
        conn: Connection,
        store_id: str,
        *,
        now_ms: Callable[[], int],
        numbers_events: bool = False,
    ) -> None:
        self._conn = conn
        self._numbers_events = numbers_events
        self._store_id = store_id
        self._now_ms = now_ms
        self._pending: list[tuple[str, str, str]] = []
        """(entity id, event type, stored body) of each event, in order."""
        self._known: dict[str, InventoryItem] = {}

    def known(self, item_id: str) -> InventoryItem | None:
        """The item as this transaction last saw it under its lock, if it did."""
        return self._known.get(item_id)

    def saw(self, item: InventoryItem) -> None:
        """Remember an item read under this transaction's lock."""
        self._known[item.id] = item

    def record(
        self,
        before: InventoryItem | None,
        after: InventoryItem | None,
        *,
        reason: Reason | None = None,
    ) -> None:
        """Keep the events of one change (``None`` before: created; ``None`` after: deleted)."""
        time_ms = after.updated_ms if after is not None else self._now_ms()
        entity_id = entity_of(before, after)
        body = stored(before, after, reason=reason, app_id=WIX_STORES_APP_ID, time_ms=time_ms)
        self._pending += ((entity_id, kind.value, body) for kind in kinds_of(before, after))
        if after is not None:
            self._known[after.id] = after
        elif before is not None:
            self._known.pop(before.id, None)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Forget what happens inside when an exception leaves it (the database rolls the
        savepoint back; this rolls back what the outbox kept)."""
        mark, known = len(self._pending), dict(self._known)
        try:
            yield
        except BaseException:
            del self._pending[mark:]
            self._known = known
            raise

    def flush(self) -> int:
        """Write the pending events; return how many. By default they go into the outbox,
        one statement taking no row any other writer waits for, and the sequencer numbers
        them after the commit. A transaction that holds the whole database (SQLite's)
        numbers them itself: nobody could commit beside it anyway, and the events are
        written once instead of twice."""
        if not self._pending:
            return 0
        count = len(self._pending)
        if self._numbers_events:
            number(self._conn, self._store_id, self._take())
        elif self._conn.dialect.name == "postgresql":  # one statement, one round trip
            self._conn.execute(_APPEND, {"store": self._store_id, "events": self.take_rows()})
        else:
            self._conn.execute(
                insert(outbox),
                [{"store_id": self._store_id, **row._asdict()} for row in self._take()],
            )
        return count

    def take_rows(self) -> str:
        """The pending events as the JSON rows of ``APPEND_SQL``, which the caller's statement
        appends: forgotten here."""
        return _ENCODE([row._asdict() for row in self._take()]).decode()

    def _take(self) -> list[Waiting]:
        """The pending events, each with its id, to write now: forgotten here."""
        now = self._now_ms()
        taken = [Waiting(_new_id(), *event, now) for event in self._pending]
        self._pending.clear()
        return taken
