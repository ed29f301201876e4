"""A store's event feed, webhook subscriptions and delivery log, inside the caller's
transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Insert, RowMapping, and_, delete, insert, select, true, update

from stockroom.domain.events import EventType
from stockroom.domain.webhooks import Delivery, DeliveryState, Webhook

from .event_bodies import rendered
from .schema import deliveries, event_streams, events, webhooks
from .sequencer import new_stream, sequence_all

__all__ = ["FeedEvent", "SqlEvents"]

InsertIgnoring = Callable[[Any, dict[str, Any]], Insert]

FeedEvent = tuple[int, str, str, str]
"""(sequence, event type, entity id, body as JSON text)."""

_PENDING, _PARKED = DeliveryState.PENDING.value, DeliveryState.PARKED.value


class SqlEvents:
    """One store's events and subscriptions."""

    def __init__(self, conn: Connection, store_id: str, *, insert_ignoring: InsertIgnoring) -> None:
        self._conn = conn
        self._store_id = store_id
        self._insert_ignoring = insert_ignoring

    # ---- the feed --------------------------------------------------------------------------

    def feed(self, *, since: int, limit: int) -> list[FeedEvent]:
        """Events after sequence ``since``, in order, at most ``limit``."""
        rows = self._conn.execute(
            select(
                events.c.seq, events.c.event_id, events.c.event_type, events.c.entity_id,
                events.c.body,
            )
            .where(events.c.store_id == self._store_id, events.c.seq > since)
            .order_by(events.c.seq)
            .limit(limit)
        )  # fmt: skip
        return [
            (int(seq), str(kind), str(entity), rendered(kind, event_id, body))
            for seq, event_id, kind, entity, body in rows
        ]

    def stream_bounds(self) -> tuple[int, int]:
        """(the last sequence given out, the sequence the stream is pruned through)."""
        row = self._conn.execute(
            select(event_streams.c.last_seq, event_streams.c.pruned_through).where(
                event_streams.c.store_id == self._store_id
            )
        ).first()
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    # ---- subscriptions ---------------------------------------------------------------------

    def insert_webhook(self, webhook: Webhook) -> None:
        self._conn.execute(insert(webhooks).values(self._webhook_values(webhook)))
        self._publish_subscribers()

    def save_webhook(self, webhook: Webhook, *, expected_revision: int) -> bool:
        values = self._webhook_values(webhook)
        del values["store_id"], values["id"], values["created_ms"]
        saved = self._conn.execute(
            update(webhooks)
            .where(
                webhooks.c.store_id == self._store_id,
                webhooks.c.id == webhook.id,
                webhooks.c.revision == expected_revision,
            )
            .values(values)
            .returning(webhooks.c.id)
        ).first()
        if saved is not None:
            self._publish_subscribers()
        return saved is not None

    def get_webhook(self, webhook_id: str, *, lock: bool = False) -> Webhook | None:
        query = select(webhooks).where(
            webhooks.c.store_id == self._store_id, webhooks.c.id == webhook_id
        )
        if lock:
            query = query.with_for_update()
        row = self._conn.execute(query).mappings().first()
        return None if row is None else _webhook(row)

    def list_webhooks(self) -> list[Webhook]:
        rows = self._conn.execute(
            select(webhooks)
            .where(webhooks.c.store_id == self._store_id)
            .order_by(webhooks.c.created_ms, webhooks.c.id)
        ).mappings()
        return [_webhook(row) for row in rows]

    def delete_webhook(self, webhook_id: str) -> bool:
        """Delete a subscription and every delivery made for it."""
        gone = self._conn.execute(
            delete(webhooks)
            .where(webhooks.c.store_id == self._store_id, webhooks.c.id == webhook_id)
            .returning(webhooks.c.id)
        ).first()
        if gone is None:
            return False
        # Publishing numbers the events waiting, which may make deliveries for this
        # subscription; the deletion below takes those too.
        self._publish_subscribers()
        self._conn.execute(
            delete(deliveries).where(
                deliveries.c.store_id == self._store_id, deliveries.c.webhook_id == webhook_id
            )
        )
        return True

    def number_waiting(self) -> None:
        """Number every event waiting in the outbox and make its deliveries, in this
        transaction (``storage.sequencer``)."""
        sequence_all(self._conn)

    def _publish_subscribers(self) -> None:
        """Copy the store's active subscriptions onto its stream row, where the sequencer
        reads them, after numbering the events already committed: so a subscription takes
        the events of exactly the changes committed while it is active."""
        sequence_all(self._conn)
        active = self._conn.execute(
            select(webhooks.c.id, webhooks.c.event_types)
            .where(webhooks.c.store_id == self._store_id, webhooks.c.active == true())
            .order_by(webhooks.c.created_ms, webhooks.c.id)
        )
        subscribers = [[str(webhook_id), list(kinds)] for webhook_id, kinds in active]
        self._conn.execute(self._insert_ignoring(event_streams, new_stream(self._store_id)))
        self._conn.execute(
            update(event_streams)
            .where(event_streams.c.store_id == self._store_id)
            .values(subscribers=subscribers)
        )

    def _webhook_values(self, webhook: Webhook) -> dict[str, Any]:
        return {
            "store_id": self._store_id,
            "id": webhook.id,
            "url": webhook.url,
            "event_types": [kind.value for kind in webhook.event_types],
            "active": webhook.active,
            "secret": webhook.secret,
            "revision": webhook.revision,
            "created_ms": webhook.created_ms,
            "updated_ms": webhook.updated_ms,
        }

    # ---- the delivery log ------------------------------------------------------------------

    def list_deliveries(
        self,
        webhook_id: str,
        *,
        states: Sequence[DeliveryState],
        before: int | None,
        limit: int,
    ) -> list[Delivery]:
        """A subscription's deliveries, newest first, in the given states, below ``before``."""
        query = (
            select(deliveries, events.c.event_id, events.c.event_type)
            .select_from(
                deliveries.outerjoin(
                    events,
                    and_(
                        events.c.store_id == deliveries.c.store_id, events.c.seq == deliveries.c.seq
                    ),
                )
            )
            .where(deliveries.c.store_id == self._store_id, deliveries.c.webhook_id == webhook_id)
        )
        if states:
            query = query.where(deliveries.c.state.in_([state.value for state in states]))
        if before is not None:
            query = query.where(deliveries.c.seq < before)
        rows = self._conn.execute(query.order_by(deliveries.c.seq.desc()).limit(limit)).mappings()
        return [_delivery(row) for row in rows]

    def get_delivery(self, webhook_id: str, seq: int) -> Delivery | None:
        found = self.list_deliveries(webhook_id, states=(), before=seq + 1, limit=1)
        return found[0] if found and found[0].sequence == seq else None

    def redeliver(self, webhook_id: str, *, seq: int | None, now_ms: int) -> int:
        """Make parked deliveries (or one, by ``seq``) pending again with fresh attempts,
        and pending ones due now; return how many were changed."""
        key = [deliveries.c.store_id == self._store_id, deliveries.c.webhook_id == webhook_id]
        if seq is not None:
            key.append(deliveries.c.seq == seq)
        parked = self._conn.execute(
            update(deliveries)
            .where(*key, deliveries.c.state == _PARKED)
            .values(state=_PENDING, attempts=0, next_attempt_ms=now_ms)
            .execution_options(preserve_rowcount=True)
        ).rowcount
        waiting = self._conn.execute(
            update(deliveries)
            .where(
                *key,
                deliveries.c.state == _PENDING,
                deliveries.c.next_attempt_ms > now_ms,
                deliveries.c.lease_owner.is_(None),  # not one a relay is sending now
            )
            .values(next_attempt_ms=now_ms)
            .execution_options(preserve_rowcount=True)
        ).rowcount
        if seq is not None:  # the item's later deliveries waited on this one
            held = select(deliveries.c.entity_id).where(*key).scalar_subquery()
            self._conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.store_id == self._store_id,
                    deliveries.c.webhook_id == webhook_id,
                    deliveries.c.entity_id == held,
                    deliveries.c.seq > seq,
                    deliveries.c.state == _PENDING,
                    deliveries.c.next_attempt_ms > now_ms,
                    deliveries.c.lease_owner.is_(None),
                )
                .values(next_attempt_ms=now_ms)
            )
        return int(parked) + int(waiting)


def _webhook(row: RowMapping) -> Webhook:
    return Webhook(
        id=row["id"],
        url=row["url"],
        event_types=tuple(EventType(name) for name in row["event_types"]),
        active=bool(row["active"]),
        secret=row["secret"],
        revision=row["revision"],
        created_ms=row["created_ms"],
        updated_ms=row["updated_ms"],
    )


def _delivery(row: RowMapping) -> Delivery:
    kind = row["event_type"]
    return Delivery(
        webhook_id=row["webhook_id"],
        sequence=row["seq"],
        entity_id=row["entity_id"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        next_attempt_ms=row["next_attempt_ms"],
        created_ms=row["created_ms"],
        event_id=row["event_id"],
        event_type=EventType(kind) if kind is not None else None,
        last_attempt_ms=row["last_attempt_ms"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        delivered_ms=row["delivered_ms"],
    )
