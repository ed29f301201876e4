"""The sequencer: numbering the outbox's events into their stores' streams.

A writing transaction appends its events to ``outbox`` (``storage.outbox``), under ids from
a counter nobody waits on, and commits. The sequencer then moves them, oldest id first,
into ``events``, giving each the next number of its store's stream, and makes a delivery
for each webhook that takes it, in one transaction. One sequencer runs at a time (an
advisory lock on PostgreSQL; SQLite's one writer), so a store's numbers are handed out in
the order the sequencer finds events, and a feed reader who has read through ``n`` will
never later find an event numbered ``n`` or below.

Per item, order holds too: two changes of one item are serialised by the item's row lock,
so the later one takes its outbox ids after the earlier one has committed, and is never
visible to the sequencer without it. Events of different items committed out of id order
are simply numbered in the order they become visible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Final, NamedTuple, Protocol

from sqlalchemy import Connection, bindparam, delete, insert, select, text, update

from stockroom.domain.webhooks import DeliveryState

from . import driver
from .schema import deliveries, event_streams, outbox

__all__ = ["BATCH", "Waiting", "any_waiting", "new_stream", "number", "sequence", "sequence_all"]

BATCH: Final = 2_000
"""At most this many events per sequencing transaction."""

_LOCK_KEY: Final = 0x5345_5155_454E  # "SEQUEN": any constant shared by every process


def new_stream(store_id: str) -> dict[str, Any]:
    """The row of a store's event stream before its first event."""
    return {"store_id": store_id, "last_seq": 0, "pruned_through": 0, "subscribers": []}


class Waiting(NamedTuple):
    """An event to be numbered: an outbox row's fields."""

    event_id: str
    entity_id: str
    event_type: str
    body: str
    created_ms: int


def any_waiting(conn: Connection) -> bool:
    """Whether the outbox holds events to number (a cheap look before taking the lock)."""
    return conn.execute(_ANY_WAITING).first() is not None


def sequence(conn: Connection, *, limit: int = BATCH, wait: bool = True) -> int:
    """Number up to ``limit`` of the outbox's oldest events into their streams, inside the
    caller's write transaction; how many. With ``wait=False`` return 0 at once when another
    sequencer is at work (on PostgreSQL; SQLite's writers take turns anyway)."""
    if not _lock(conn, wait=wait):
        return 0
    if conn.dialect.name == "postgresql":
        return _sequence_in_place(conn, limit)
    waiting = conn.execute(_OLDEST, {"limit": limit}).all()
    for store_id, rows in _by_store(waiting).items():
        number(conn, store_id, rows)
    _forget(conn, [row.id for row in waiting])
    return len(waiting)


def _by_store(rows: Sequence[Any]) -> dict[str, list[Any]]:
    """Outbox rows grouped by store, each group in the order given."""
    grouped: defaultdict[str, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.store_id].append(row)
    return grouped


def sequence_all(conn: Connection) -> int:
    """Number every event the outbox holds now; how many."""
    total = done = sequence(conn)
    while done == BATCH:
        done = sequence(conn)
        total += done
    return total


def _forget(conn: Connection, ids: list[int]) -> None:
    """Delete the numbered events from the outbox: exactly these (rows below the highest
    of them may still belong to transactions in flight), in pieces within SQLite's oldest
    limit on bound values."""
    for start in range(0, len(ids), 900):
        conn.execute(_DELETE_IN, {"ids": ids[start : start + 900]})


def _lock(conn: Connection, *, wait: bool) -> bool:
    if conn.dialect.name != "postgresql":
        return True
    if wait:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        return True
    return bool(
        conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}).scalar()
    )


def number(conn: Connection, store_id: str, rows: Sequence[Waiting]) -> None:
    """Give a store's events the next numbers of its stream, in order, and their deliveries
    (due from the moment their events were written): the sequencer's step on SQLite, which
    its writers take themselves (``storage.outbox``). PostgreSQL's sequencer moves events
    in place instead (``_sequence_in_place``)."""
    first, subscribers = _advance(conn, store_id, len(rows))
    numbered = [
        (store_id, first + offset, row.event_id, row.entity_id, row.event_type, row.body,
         row.created_ms)
        for offset, row in enumerate(rows)
    ]  # fmt: skip
    if (sqlite := driver.driver_of(conn)) is not None:
        sqlite.executemany(_INSERT_EVENTS, numbered)
    else:
        conn.exec_driver_sql(_INSERT_EVENTS, numbered)
    _deliver(conn, store_id, first, rows, subscribers)


class _Head(Protocol):
    """What numbering needs of an event besides its body."""

    @property
    def entity_id(self) -> str: ...
    @property
    def event_type(self) -> str: ...
    @property
    def created_ms(self) -> int: ...


def _advance(conn: Connection, store_id: str, count: int) -> tuple[int, list[Any]]:
    """Take the next ``count`` numbers of a store's stream: the first, and the store's
    webhook subscribers. On SQLite the statement goes straight to the driver (it runs in
    every write transaction; ``storage.driver``)."""
    taken: tuple[int, Any] | None
    if (sqlite := driver.driver_of(conn)) is not None:
        taken = driver.advance(sqlite, store_id, count)
    else:
        stream = conn.execute(_ADVANCE, {"store": store_id, "count": count}).first()
        taken = None if stream is None else (int(stream.last_seq), stream.subscribers)
    if taken is None:  # a store whose stream row predates nothing: make it
        conn.execute(insert(event_streams).values(new_stream(store_id) | {"last_seq": count}))
        return 1, []
    last, subscribers = taken
    return last - count + 1, list(subscribers or ())


def _deliver(
    conn: Connection,
    store_id: str,
    first: int,
    rows: Sequence[_Head],
    subscribers: Sequence[Any],
) -> None:
    """A delivery of each event numbered from ``first`` to each webhook that takes it."""
    made = [
        {
            "store_id": store_id,
            "webhook_id": str(webhook_id),
            "seq": first + offset,
            "entity_id": row.entity_id,
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "next_attempt_ms": row.created_ms,
            "created_ms": row.created_ms,
        }
        for webhook_id, wanted in subscribers
        for offset, row in enumerate(rows)
        if row.event_type in wanted
    ]
    if made:
        conn.execute(insert(deliveries), made)


def _sequence_in_place(conn: Connection, limit: int) -> int:
    """``sequence`` on PostgreSQL: the events move from the outbox into their streams in
    one statement, bodies and all, without passing through this process; only their heads
    are read, to number them and make their deliveries."""
    waiting = conn.execute(_OLDEST_HEADS, {"limit": limit}).all()
    if not waiting:
        return 0
    by_store = _by_store(waiting)
    streams = {store_id: _advance(conn, store_id, len(rows)) for store_id, rows in by_store.items()}
    conn.execute(
        _MOVE,
        {
            "ids": [row.id for row in waiting],
            "stores": list(streams),
            "bases": [first - 1 for first, _ in streams.values()],
        },
    )
    for store_id, (first, subscribers) in streams.items():
        _deliver(conn, store_id, first, by_store[store_id], subscribers)
    return len(waiting)


_INSERT_EVENTS: Final = (
    "INSERT INTO events (store_id, seq, event_id, entity_id, event_type, body, created_ms) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
"""Numbered events into the stream, in SQLite's ``?`` style: its writers take this step in
every transaction, and ``executemany`` of plain tuples skips SQLAlchemy's per-row
parameter processing."""
_ANY_WAITING: Final = select(outbox.c.id).limit(1)
_OLDEST: Final = select(outbox).order_by(outbox.c.id).limit(bindparam("limit"))
_OLDEST_HEADS: Final = (
    select(outbox.c.id, outbox.c.store_id, outbox.c.entity_id, outbox.c.event_type,
           outbox.c.created_ms)
    .order_by(outbox.c.id)
    .limit(bindparam("limit"))
)  # fmt: skip
_MOVE: Final = text("""
    WITH moved AS (
        DELETE FROM outbox WHERE id = ANY(CAST(:ids AS bigint[])) RETURNING *
    )
    INSERT INTO events (store_id, seq, event_id, entity_id, event_type, body, created_ms)
    SELECT moved.store_id,
           stream.base + row_number() OVER (PARTITION BY moved.store_id ORDER BY moved.id),
           moved.event_id, moved.entity_id, moved.event_type, moved.body, moved.created_ms
    FROM moved
    JOIN unnest(CAST(:stores AS text[]), CAST(:bases AS bigint[])) AS stream(store_id, base)
      ON stream.store_id = moved.store_id
""")
"""Move numbered events from the outbox into their streams (PostgreSQL): each store's take
numbered after its ``base``, in outbox order, which is the order the heads were read in."""
_DELETE_IN: Final = delete(outbox).where(outbox.c.id.in_(bindparam("ids", expanding=True)))
_ADVANCE: Final = (
    update(event_streams)
    .where(event_streams.c.store_id == bindparam("store"))
    .values(last_seq=event_streams.c.last_seq + bindparam("count"))
    .returning(event_streams.c.last_seq, event_streams.c.subscribers)
)
