"""The transactional outbox: a write transaction's events, written just before it commits.

Every item write of ``SqlTransaction`` (insert, save, delete, increment, decrement) hands
the item before and after the change to the transaction's ``Outbox``, which builds the
change's events (``domain.events``) and keeps them. ``flush`` runs as the transaction's
last statements, inside it: it takes the next sequence numbers of the store's stream (whose
row also lists the store's active webhooks), inserts the events, and makes a delivery for
every webhook that takes each one. So an event exists if and only if its change committed,
and a rolled-back savepoint takes its events with it.

The stream's counter row is the last lock a writer takes and is held only until commit,
so the store's events are numbered in commit order: a reader of the feed never sees event
``n + 1`` before event ``n``.

To say what a change changed, the outbox also remembers the items this transaction has
read under its lock or written (``known``); ``SqlTransaction`` reads an item first only
when the outbox does not already know it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

import msgspec
from sqlalchemy import Connection, Insert, bindparam, insert, update

from stockroom.domain.events import WIX_STORES_APP_ID, Event, events_for
from stockroom.domain.item import InventoryItem, Reason
from stockroom.domain.webhooks import DeliveryState

from .schema import deliveries, event_streams, events

__all__ = ["Outbox", "new_stream"]

_ENCODE = msgspec.json.Encoder().encode


def new_stream(store_id: str) -> dict[str, Any]:
    """The row of a store's event stream before its first event."""
    return {"store_id": store_id, "last_seq": 0, "pruned_through": 0, "subscribers": []}


def _new_id() -> str:
    return str(uuid.uuid4())


class Outbox:
    """The pending events of one write transaction, and the item states it has seen."""

    def __init__(
        self,
        conn: Connection,
        store_id: str,
        *,
        now_ms: Callable[[], int],
        insert_ignoring: Callable[[Any, dict[str, Any]], Insert],
    ) -> None:
        self._conn = conn
        self._store_id = store_id
        self._now_ms = now_ms
        self._insert_ignoring = insert_ignoring
        self._pending: list[Event] = []
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
        self._pending += events_for(
            before,
            after,
            reason=reason,
            app_id=WIX_STORES_APP_ID,
            time_ms=time_ms,
            new_id=_new_id,
        )
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
        """Write the pending events and their deliveries; return how many events."""
        if not self._pending:
            return 0
        count, now = len(self._pending), self._now_ms()
        bodies = [_ENCODE(event.body).decode() for event in self._pending]
        advanced = self._advance(count, bodies, now)
        if advanced is None:  # the store's stream row is missing (made outside _ensure_store)
            self._conn.execute(self._insert_ignoring(event_streams, new_stream(self._store_id)))
            advanced = self._advance(count, bodies, now)
            assert advanced is not None
        last, subscribers = advanced
        first = last - count + 1
        rows = [
            {
                "store_id": self._store_id,
                "webhook_id": webhook_id,
                "seq": first + offset,
                "entity_id": event.entity_id,
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "next_attempt_ms": now,
                "created_ms": now,
            }
            for webhook_id, wanted in subscribers
            for offset, event in enumerate(self._pending)
            if event.type.value in wanted
        ]
        if rows:
            self._conn.execute(insert(deliveries), rows)
        self._pending.clear()
        return count

    def _advance(
        self, count: int, bodies: list[str], now: int
    ) -> tuple[int, list[tuple[str, list[str]]]] | None:
        """Take ``count`` sequence numbers of the store's stream and insert the events under
        them; (the last number taken, the store's active webhooks), or ``None`` when the
        store has no stream row. (One data-modifying statement on PostgreSQL measured
        slower than these two.)"""
        row = self._conn.execute(_ADVANCE, {"store": self._store_id, "count": count}).first()
        if row is None:
            return None
        last = int(row[0])
        self._conn.execute(
            insert(events),
            [
                {
                    "store_id": self._store_id,
                    "seq": last - count + 1 + offset,
                    "event_id": event.id,
                    "entity_id": event.entity_id,
                    "event_type": event.type.value,
                    "body": body,
                    "created_ms": now,
                }
                for offset, (event, body) in enumerate(zip(self._pending, bodies, strict=True))
            ],
        )
        return last, _subscribers(row[1])


_ADVANCE: Final = (
    update(event_streams)
    .where(event_streams.c.store_id == bindparam("store"))
    .values(last_seq=event_streams.c.last_seq + bindparam("count"))
    .returning(event_streams.c.last_seq, event_streams.c.subscribers)
)
"""Built once: a flush runs with every writing transaction."""


def _subscribers(stored: Any) -> list[tuple[str, list[str]]]:
    return [(str(webhook_id), list(kinds)) for webhook_id, kinds in stored or ()]
