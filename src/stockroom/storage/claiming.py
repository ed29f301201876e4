"""Choosing what a claim takes: due deliveries, whole chains of each item in order.

A delivery is taken only with every earlier undelivered delivery of its item to its
subscription ahead of it in the same claim (``whole_chains``), so the claimant sends them
in order and stops at the first failure, and nobody else can send a later one meanwhile.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Select, and_, false, literal, not_, select, tuple_

from stockroom.domain.webhooks import DeliveryState

from .event_bodies import rendered
from .schema import deliveries, events, webhooks

__all__ = ["Claimed", "Key", "claimable", "inactive", "whole_chains", "with_details"]

_PENDING = DeliveryState.PENDING.value
_PARKED = DeliveryState.PARKED.value
_UNDELIVERED = (_PENDING, _PARKED)
_CHAIN_MAX: Final = 100
"""At most this many of one item's deliveries in one claim."""


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
class Key:
    """A candidate delivery, before it is taken."""

    store_id: str
    webhook_id: str
    seq: int
    entity_id: str
    attempts: int


def inactive(conn: Connection) -> list[str]:
    """Subscriptions switched off: their deliveries wait."""
    rows = conn.execute(select(webhooks.c.id).where(webhooks.c.active == false()))
    return [str(webhook_id) for (webhook_id,) in rows]


def claimable(now_ms: int, skip: Sequence[str]) -> Select[Any]:
    """Due deliveries (not leased: see the module), not behind a blocked one, not of a
    subscription in ``skip``. One table only, so the planner walks the due index in
    order and stops at the limit, whatever its statistics say."""
    earlier = deliveries.alias("earlier")
    same_item = and_(
        earlier.c.store_id == deliveries.c.store_id,
        earlier.c.webhook_id == deliveries.c.webhook_id,
        earlier.c.entity_id == deliveries.c.entity_id,
        earlier.c.seq < deliveries.c.seq,
    )
    # An earlier undelivered delivery of the item that cannot go now blocks the later
    # ones: it is parked, or pending but not due (waiting to retry, or leased). Both
    # are few, and found through the due index.
    parked_before = select(literal(1)).where(same_item, earlier.c.state == _PARKED).exists()
    waiting_before = (
        select(literal(1))
        .where(same_item, earlier.c.state == _PENDING, earlier.c.next_attempt_ms > now_ms)
        .exists()
    )
    query = select(
        deliveries.c.store_id,
        deliveries.c.webhook_id,
        deliveries.c.seq,
        deliveries.c.entity_id,
        deliveries.c.attempts,
    ).where(
        deliveries.c.state == _PENDING,
        deliveries.c.next_attempt_ms <= now_ms,
        not_(parked_before),
        not_(waiting_before),
    )
    if skip:
        query = query.where(deliveries.c.webhook_id.not_in(list(skip)))
    return query


def whole_chains(conn: Connection, candidates: list[Key], now_ms: int) -> list[Key]:
    """Whole chains: for each item, its undelivered deliveries from the earliest on,
    for as long as each is a candidate or else due and free to lock here. (A killed
    relay's deliveries fall due when its lease ends, after the later deliveries of the
    same items did: they come into the claim through those.) A chain stops at one that
    is parked, waiting, or being claimed by another relay."""
    groups: defaultdict[tuple[str, str, str], dict[int, Key]] = defaultdict(dict)
    for candidate in candidates:
        groups[(candidate.store_id, candidate.webhook_id, candidate.entity_id)][candidate.seq] = (
            candidate
        )
    highest = max(candidate.seq for candidate in candidates)
    item = tuple_(deliveries.c.store_id, deliveries.c.webhook_id, deliveries.c.entity_id)
    undelivered: defaultdict[tuple[str, str, str], list[tuple[int, bool]]] = defaultdict(list)
    for store_id, webhook_id, entity_id, seq, state, next_attempt_ms in conn.execute(
        select(
            deliveries.c.store_id,
            deliveries.c.webhook_id,
            deliveries.c.entity_id,
            deliveries.c.seq,
            deliveries.c.state,
            deliveries.c.next_attempt_ms,
        )
        .where(
            item.in_(list(groups)),
            deliveries.c.state.in_(_UNDELIVERED),
            deliveries.c.seq <= highest,
        )
        .order_by(deliveries.c.seq)
    ):
        due = state == _PENDING and next_attempt_ms <= now_ms
        undelivered[(store_id, webhook_id, entity_id)].append((int(seq), due))
    missing = [
        (group[0], group[1], seq)
        for group, chosen in groups.items()
        for seq, due in _prefix(undelivered[group], chosen)
        if seq not in chosen
    ]
    for extra in _lock_due(conn, missing, now_ms):
        groups[(extra.store_id, extra.webhook_id, extra.entity_id)][extra.seq] = extra
    taken = [
        chosen[seq]
        for group, chosen in groups.items()
        for seq, _ in _prefix(undelivered[group], chosen, locked_only=True)
    ]
    return sorted(taken, key=lambda k: (k.store_id, k.webhook_id, k.seq))


def _lock_due(conn: Connection, keys: list[tuple[str, str, int]], now_ms: int) -> list[Key]:
    """Lock these deliveries if they are still due and nobody else holds them."""
    if not keys:
        return []
    rows = conn.execute(
        select(
            deliveries.c.store_id,
            deliveries.c.webhook_id,
            deliveries.c.seq,
            deliveries.c.entity_id,
            deliveries.c.attempts,
        )
        .where(
            tuple_(deliveries.c.store_id, deliveries.c.webhook_id, deliveries.c.seq).in_(keys),
            deliveries.c.state == _PENDING,
            deliveries.c.next_attempt_ms <= now_ms,
        )
        .with_for_update(skip_locked=True)
    )
    return [
        Key(row.store_id, row.webhook_id, int(row.seq), row.entity_id, int(row.attempts))
        for row in rows
    ]


def with_details(conn: Connection, taken: list[Key]) -> list[Claimed]:
    """The taken deliveries with their subscriptions' URL and secret and their events."""
    hooks = {
        str(webhook_id): (str(url), str(secret))
        for webhook_id, url, secret in conn.execute(
            select(webhooks.c.id, webhooks.c.url, webhooks.c.secret).where(
                webhooks.c.id.in_(sorted({k.webhook_id for k in taken}))
            )
        )
    }
    bodies: dict[tuple[str, int], tuple[str, str, str]] = {}
    for store_id in sorted({k.store_id for k in taken}):
        for seq, event_id, event_type, body in conn.execute(
            select(events.c.seq, events.c.event_id, events.c.event_type, events.c.body).where(
                events.c.store_id == store_id,
                events.c.seq.in_(sorted({k.seq for k in taken if k.store_id == store_id})),
            )
        ):
            made = rendered(event_type, event_id, body)
            bodies[(store_id, int(seq))] = (str(event_id), str(event_type), made)
    return [
        Claimed(
            store_id=k.store_id,
            webhook_id=k.webhook_id,
            seq=k.seq,
            entity_id=k.entity_id,
            attempts=k.attempts,
            url=hooks[k.webhook_id][0],
            secret=hooks[k.webhook_id][1],
            event_id=bodies[(k.store_id, k.seq)][0],
            event_type=bodies[(k.store_id, k.seq)][1],
            body=bodies[(k.store_id, k.seq)][2],
        )
        for k in taken
    ]


def _prefix(
    undelivered: list[tuple[int, bool]], chosen: dict[int, Key], *, locked_only: bool = False
) -> list[tuple[int, bool]]:
    """The start of an item's undelivered deliveries that can go now, in order: chosen ones,
    and (unless ``locked_only``) due ones that could be locked to join them."""
    prefix = []
    for seq, due in undelivered[:_CHAIN_MAX]:
        if seq not in chosen and (locked_only or not due):
            break
        prefix.append((seq, due))
    return prefix
