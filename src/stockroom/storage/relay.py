"""The relay's queue across every store: numbering the outbox's events, claiming due
deliveries and settling their outcomes (numbering is ``storage.sequencer``'s, what a claim
takes ``storage.claiming``'s, pruning ``storage.retention``'s).

Rows are locked ``FOR UPDATE SKIP LOCKED`` while a claim runs (PostgreSQL; SQLite's one
writer needs no locks), then leased until ``lease_until_ms`` and committed, so any number of
relays share the queue without sending a delivery twice while its lease lasts.

A lease also moves the delivery's ``next_attempt_ms`` to the lease's end: a delivery can go
exactly when ``state = 'PENDING' AND next_attempt_ms <= now`` (one range of one index), and
a killed relay's deliveries fall due by themselves when its leases run out. Settling sets
the next attempt anew (or now, for a delivery released untried).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, update

from stockroom.domain.webhooks import DeliveryState

from .claiming import Claimed, Key, claimable, inactive, whole_chains, with_details
from .retention import SqlRetention, refresh_statistics
from .schema import deliveries
from .sequencer import any_waiting, sequence, sequence_all

__all__ = ["Claimed", "Outcome", "SqlRelayQueue"]

_PENDING = DeliveryState.PENDING.value


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one claimed delivery. ``state`` ``None`` releases it untried."""

    store_id: str
    webhook_id: str
    seq: int
    entity_id: str
    state: DeliveryState | None
    attempted_ms: int = 0
    status: int | None = None
    error: str | None = None
    next_attempt_ms: int = 0


class SqlRelayQueue:
    """Events and deliveries of every store, inside the caller's (write) transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def events_waiting(self) -> bool:
        """Whether the outbox holds events yet to be numbered."""
        return any_waiting(self._conn)

    def sequence(self, *, wait: bool = True) -> int:
        """Number a batch of the outbox's events into their streams and make their
        deliveries (``storage.sequencer``); how many. ``wait=False``: none when another
        sequencer is at work."""
        return sequence(self._conn, wait=wait)

    def sequence_all(self) -> int:
        """Number every event the outbox holds now (waiting for another sequencer)."""
        return sequence_all(self._conn)

    def any_due(self, now_ms: int, *, skip: Sequence[str] = ()) -> bool:
        """Whether a claim now would find something (a cheap look before claiming, which
        on SQLite takes the write lock). ``skip`` names subscriptions to leave alone."""
        query = claimable(now_ms, [*skip, *inactive(self._conn)]).limit(1)
        return self._conn.execute(query).first() is not None

    def claim(
        self,
        *,
        owner: str,
        now_ms: int,
        lease_until_ms: int,
        limit: int,
        skip: Sequence[str] = (),
    ) -> list[Claimed]:
        """Lease up to ``limit`` due deliveries, each item's in order (see the module);
        ``skip`` names subscriptions to leave alone. Numbers the outbox's waiting events
        first, unless another sequencer is at it."""
        sequence(self._conn, wait=False)
        rows = self._conn.execute(
            claimable(now_ms, [*skip, *inactive(self._conn)])
            # The index's order, so the scan stops at the limit; equal times come in the
            # order they were written, and the chain check below orders each item anyway.
            .order_by(deliveries.c.next_attempt_ms)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        candidates = [
            Key(row.store_id, row.webhook_id, int(row.seq), row.entity_id, int(row.attempts))
            for row in rows
        ]
        taken = whole_chains(self._conn, candidates, now_ms) if candidates else []
        if not taken:
            return []
        self._conn.execute(
            update(deliveries)
            .where(
                deliveries.c.store_id == bindparam("k_store"),
                deliveries.c.webhook_id == bindparam("k_webhook"),
                deliveries.c.seq == bindparam("k_seq"),
            )
            .values(
                lease_owner=owner,
                lease_until_ms=lease_until_ms,
                next_attempt_ms=lease_until_ms,
            ),
            [{"k_store": k.store_id, "k_webhook": k.webhook_id, "k_seq": k.seq} for k in taken],
        )
        return with_details(self._conn, taken)

    def settle(self, *, owner: str, outcomes: Sequence[Outcome], now_ms: int) -> None:
        """Record outcomes of deliveries this owner still leases (a delivery whose lease ran
        out and was claimed again belongs to its new claimant); released ones are due at
        ``now_ms`` again."""
        key = and_(
            deliveries.c.store_id == bindparam("k_store"),
            deliveries.c.webhook_id == bindparam("k_webhook"),
            deliveries.c.seq == bindparam("k_seq"),
            deliveries.c.lease_owner == owner,
        )
        released, tried, retried = [], [], []
        for outcome in outcomes:
            params = {
                "k_store": outcome.store_id,
                "k_webhook": outcome.webhook_id,
                "k_seq": outcome.seq,
            }
            if outcome.state is None:
                released.append(params)
                continue
            delivered = outcome.state is DeliveryState.DELIVERED
            if outcome.state is DeliveryState.PENDING:
                retried.append(
                    params | {"k_entity": outcome.entity_id, "b_next": outcome.next_attempt_ms}
                )
            tried.append(
                params
                | {
                    "b_state": outcome.state.value,
                    "b_attempted": outcome.attempted_ms,
                    "b_status": outcome.status,
                    "b_error": None if outcome.error is None else outcome.error[:500],
                    "b_next": outcome.next_attempt_ms,
                    "b_delivered": outcome.attempted_ms if delivered else None,
                }
            )
        if released:
            self._conn.execute(
                update(deliveries)
                .where(key)
                .values(lease_owner=None, lease_until_ms=None, next_attempt_ms=now_ms),
                released,
            )
        if tried:
            self._conn.execute(
                update(deliveries)
                .where(key)
                .values(
                    state=bindparam("b_state"),
                    attempts=deliveries.c.attempts + 1,
                    last_attempt_ms=bindparam("b_attempted"),
                    last_status=bindparam("b_status"),
                    last_error=bindparam("b_error"),
                    next_attempt_ms=bindparam("b_next"),
                    delivered_ms=bindparam("b_delivered"),
                    lease_owner=None,
                    lease_until_ms=None,
                ),
                tried,
            )
        if retried:
            # The item's later deliveries cannot go before this one: they wait as long, so
            # that claims do not keep finding them due and blocked.
            self._conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.store_id == bindparam("k_store"),
                    deliveries.c.webhook_id == bindparam("k_webhook"),
                    deliveries.c.entity_id == bindparam("k_entity"),
                    deliveries.c.state == _PENDING,
                    deliveries.c.seq > bindparam("k_seq"),
                    deliveries.c.next_attempt_ms < bindparam("b_next"),
                )
                .values(next_attempt_ms=bindparam("b_next")),
                retried,
            )

    def refresh_statistics(self) -> None:
        """Let the planner see the queue as it is now (``retention.refresh_statistics``)."""
        refresh_statistics(self._conn)

    @property
    def retention(self) -> SqlRetention:
        """Pruning old events and deliveries, inside this transaction."""
        return SqlRetention(self._conn)
