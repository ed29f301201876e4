"""Retention: pruning old events and delivered deliveries, and keeping the relay's queue
well planned. Run by the relay, across every store, a store at a time."""

from __future__ import annotations

from sqlalchemy import Connection, delete, literal, not_, select, text, update

from stockroom.domain.webhooks import DeliveryState

from .schema import deliveries, event_streams, events

__all__ = ["SqlRetention", "refresh_statistics"]

_DELIVERED = DeliveryState.DELIVERED.value
_UNDELIVERED = (DeliveryState.PENDING.value, DeliveryState.PARKED.value)


def refresh_statistics(conn: Connection) -> None:
    """Let PostgreSQL's planner see the queue as it is now: it swells from nothing to a
    burst faster than autovacuum looks, and a claim planned for an empty queue reads
    all of it. (SQLite plans by its indexes alone.)"""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE deliveries, events"))


class SqlRetention:
    """Pruning, one short transaction per call: a store's stream row, which the sequencer
    (and, on SQLite, every writer) updates, is held by a prune only for that store's own
    deletions."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def forget_delivered(self, *, cutoff_ms: int) -> None:
        """Drop delivered deliveries older than ``cutoff_ms`` from the log."""
        self._conn.execute(
            delete(deliveries).where(
                deliveries.c.state == _DELIVERED, deliveries.c.delivered_ms < cutoff_ms
            )
        )

    def streams(self) -> list[tuple[str, int]]:
        """(store, pruned through) of every store that has had events."""
        rows = self._conn.execute(
            select(event_streams.c.store_id, event_streams.c.pruned_through).where(
                event_streams.c.last_seq > 0
            )
        )
        return [(str(store_id), int(through)) for store_id, through in rows]

    def prune_stream(self, store_id: str, *, through: int, cutoff_ms: int, limit: int) -> int:
        """Drop a store's events up to the last one made before ``cutoff_ms`` (at most
        ``limit`` more than were pruned), except those a webhook has yet to receive, and
        any such kept one since delivered. Returns how many went."""
        upto = self._horizon(store_id, after=through, upto=through + limit, cutoff_ms=cutoff_ms)
        if upto <= 0:
            return 0
        needed = (
            select(literal(1))
            .select_from(deliveries)
            .where(
                deliveries.c.state.in_(_UNDELIVERED),
                deliveries.c.store_id == events.c.store_id,
                deliveries.c.seq == events.c.seq,
            )
            .exists()
        )
        gone = self._conn.execute(
            delete(events)
            .where(events.c.store_id == store_id, events.c.seq <= upto, not_(needed))
            .execution_options(preserve_rowcount=True)
        ).rowcount
        self._conn.execute(
            update(event_streams)
            .where(event_streams.c.store_id == store_id, event_streams.c.pruned_through < upto)
            .values(pruned_through=upto)
        )
        return int(gone)

    def _horizon(self, store_id: str, *, after: int, upto: int, cutoff_ms: int) -> int:
        """The last sequence number in (``after``, ``upto``] whose event was made before
        ``cutoff_ms``; ``after`` if there is none. A binary search of the stream by its
        primary key, a point read per step (14 for 10,000 events): a stream is numbered
        in the order its events were made, so their times rise with their numbers. (Only
        as far as the writers' clocks agree and their transactions commit in turn: an event
        made a few milliseconds out of turn may go with its neighbours, a week after both
        were made.) An index on the events' times would answer at once, but every event
        written would pay to keep it, for a question asked once a minute."""
        low, high = after, upto
        while low < high:
            middle = (low + high + 1) // 2
            found = self._conn.execute(
                select(events.c.seq, events.c.created_ms)
                .where(
                    events.c.store_id == store_id,
                    events.c.seq >= middle,
                    events.c.seq <= high,
                )
                .order_by(events.c.seq)
                .limit(1)
            ).first()
            if found is None or found.created_ms >= cutoff_ms:
                high = middle - 1
            else:
                low = int(found.seq)
        return low
