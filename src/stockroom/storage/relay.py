"""The relay's queue across every store: claiming due deliveries and settling their
outcomes (pruning is ``storage.retention``'s).

Claiming keeps each item's order per subscription. A delivery is taken only when every
earlier undelivered delivery of the same item to the same subscription is taken with it,
in this very claim, ahead of it: so the claimant sends them in order and stops at the first
failure, and nobody else can send a later one meanwhile. Rows are locked ``FOR UPDATE SKIP
LOCKED`` while a claim runs (PostgreSQL; SQLite's one writer needs no locks), then leased
until ``lease_until_ms`` and committed, so any number of relays share the queue without
sending a delivery twice while its lease lasts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    bindparam,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
    update,
)

from stockroom.domain.webhooks import DeliveryState

from .retention import SqlRetention, refresh_statistics
from .schema import deliveries, events, webhooks

__all__ = ["Claimed", "Outcome", "SqlRelayQueue"]

_PENDING = DeliveryState.PENDING.value
_PARKED = DeliveryState.PARKED.value
_UNDELIVERED = (_PENDING, _PARKED)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A leased delivery with everything needed to send it."""

    store_id: str
    webhook_id: str
    seq: int
    entity_id: str
    attempts: int
    url: str
    secret: str
    event_id: str
    event_type: str
    body: str


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


def _free(table: Any, now_ms: int) -> Any:
    """Not leased, or leased by someone whose lease has run out."""
    return or_(table.c.lease_until_ms.is_(None), table.c.lease_until_ms < now_ms)


class SqlRelayQueue:
    """Deliveries of every store, inside the caller's (write) transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def any_due(self, now_ms: int, *, skip: Sequence[str] = ()) -> bool:
        """Whether a claim now would find something (a cheap look before claiming, which
        on SQLite takes the write lock). ``skip`` names subscriptions to leave alone."""
        query = self._claimable(now_ms, skip).with_only_columns(literal(1)).limit(1)
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
        ``skip`` names subscriptions to leave alone."""
        rows = self._conn.execute(
            self._claimable(now_ms, skip)
            # The index's order, so the scan stops at the limit; equal times come in the
            # order they were written, and the chain check below orders each item anyway.
            .order_by(deliveries.c.next_attempt_ms)
            .limit(limit)
            .with_for_update(skip_locked=True, of=deliveries)
        )
        candidates = [
            Claimed(
                store_id=row.store_id,
                webhook_id=row.webhook_id,
                seq=int(row.seq),
                entity_id=row.entity_id,
                attempts=int(row.attempts),
                url=row.url,
                secret=row.secret,
                event_id=row.event_id,
                event_type=row.event_type,
                body=row.body,
            )
            for row in rows
        ]
        taken = self._in_order(candidates) if candidates else []
        if taken:
            self._conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.store_id == bindparam("k_store"),
                    deliveries.c.webhook_id == bindparam("k_webhook"),
                    deliveries.c.seq == bindparam("k_seq"),
                )
                .values(lease_owner=owner, lease_until_ms=lease_until_ms),
                [{"k_store": c.store_id, "k_webhook": c.webhook_id, "k_seq": c.seq} for c in taken],
            )
        return taken

    def _claimable(self, now_ms: int, skip: Sequence[str]) -> Select[Any]:
        """Due, unleased deliveries of active subscriptions not behind a blocked one."""
        earlier = deliveries.alias("earlier")
        same_item = and_(
            earlier.c.store_id == deliveries.c.store_id,
            earlier.c.webhook_id == deliveries.c.webhook_id,
            earlier.c.entity_id == deliveries.c.entity_id,
            earlier.c.seq < deliveries.c.seq,
        )
        # An earlier undelivered delivery of the item that cannot go now blocks the later
        # ones: it is parked, or pending but waiting to retry or leased. (Two tests, so that
        # each looks its state up in the index.)
        parked_before = select(literal(1)).where(same_item, earlier.c.state == _PARKED).exists()
        waiting_before = (
            select(literal(1))
            .where(
                same_item,
                earlier.c.state == _PENDING,
                or_(earlier.c.next_attempt_ms > now_ms, not_(_free(earlier, now_ms))),
            )
            .exists()
        )
        joined = deliveries.join(
            webhooks,
            and_(
                webhooks.c.store_id == deliveries.c.store_id,
                webhooks.c.id == deliveries.c.webhook_id,
            ),
        ).join(
            events,
            and_(events.c.store_id == deliveries.c.store_id, events.c.seq == deliveries.c.seq),
        )
        query = (
            select(
                deliveries.c.store_id,
                deliveries.c.webhook_id,
                deliveries.c.seq,
                deliveries.c.entity_id,
                deliveries.c.attempts,
                webhooks.c.url,
                webhooks.c.secret,
                events.c.event_id,
                events.c.event_type,
                events.c.body,
            )
            .select_from(joined)
            .where(
                deliveries.c.state == _PENDING,
                deliveries.c.next_attempt_ms <= now_ms,
                _free(deliveries, now_ms),
                webhooks.c.active == true(),
                not_(parked_before),
                not_(waiting_before),
            )
        )
        if skip:
            query = query.where(deliveries.c.webhook_id.not_in(list(skip)))
        return query

    def _in_order(self, candidates: list[Claimed]) -> list[Claimed]:
        """The candidates each of whose item's earlier undelivered deliveries are all
        candidates too; a candidate behind one that is not (taken by a concurrent claim, or
        beyond the limit) waits for a later claim."""
        groups: defaultdict[tuple[str, str, str], dict[int, Claimed]] = defaultdict(dict)
        for candidate in candidates:
            groups[(candidate.store_id, candidate.webhook_id, candidate.entity_id)][
                candidate.seq
            ] = candidate
        highest = max(candidate.seq for candidate in candidates)
        key = tuple_(deliveries.c.store_id, deliveries.c.webhook_id, deliveries.c.entity_id)
        undelivered: defaultdict[tuple[str, str, str], list[int]] = defaultdict(list)
        rows = self._conn.execute(
            select(
                deliveries.c.store_id,
                deliveries.c.webhook_id,
                deliveries.c.entity_id,
                deliveries.c.seq,
            )
            .where(
                key.in_(list(groups)),
                deliveries.c.state.in_(_UNDELIVERED),
                deliveries.c.seq <= highest,
            )
            .order_by(deliveries.c.seq)
        )
        for store_id, webhook_id, entity_id, seq in rows:
            undelivered[(store_id, webhook_id, entity_id)].append(int(seq))
        taken: list[Claimed] = []
        for group, chosen in groups.items():
            for seq in undelivered[group]:
                if seq not in chosen:
                    break
                taken.append(chosen[seq])
        return sorted(taken, key=lambda c: (c.store_id, c.webhook_id, c.seq))

    def settle(self, *, owner: str, outcomes: Sequence[Outcome]) -> None:
        """Record outcomes of deliveries this owner still leases (a delivery whose lease ran
        out and was claimed again belongs to its new claimant)."""
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
                update(deliveries).where(key).values(lease_owner=None, lease_until_ms=None),
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
