"""Use cases of a store's events: webhook subscriptions, their delivery log, redelivery,
and the pull feed.

A new subscription receives the events written after it was created; what came before is
in the feed (``read_feed``) for as long as events are retained.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from stockroom.domain.errors import FailedPrecondition, NotFound, RevisionMismatch, ValidationFailed
from stockroom.domain.item import UNSET, Unset
from stockroom.domain.webhooks import (
    Delivery,
    DeliveryNotRedeliverable,
    DeliveryState,
    FeedCursorExpired,
    Webhook,
    check_url,
    event_types_from,
)

from .context import Inventory

__all__ = [
    "FEED_LIMIT_MAX",
    "WEBHOOKS_PER_STORE",
    "FeedEntry",
    "FeedPage",
    "TooManyWebhooks",
    "create_webhook",
    "delete_webhook",
    "get_webhook",
    "list_deliveries",
    "list_webhooks",
    "read_feed",
    "redeliver",
    "update_webhook",
]

WEBHOOKS_PER_STORE: Final = 100
"""Every event is fanned out to each active subscription in its writing transaction."""

FEED_LIMIT_MAX: Final = 1000
DELIVERIES_LIMIT_MAX: Final = 1000
SIGNING_KEY_PREFIX: Final = "whsec_"


class TooManyWebhooks(FailedPrecondition):
    code = "WEBHOOK_LIMIT_REACHED"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    sequence: int
    event_type: str
    entity_id: str
    body: str
    """The event body as JSON text, exactly as webhooks deliver it."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    entries: list[FeedEntry]
    next_since: int
    """Pass as ``since`` to read on from here."""
    latest: int
    """The store's last sequence number so far."""

    @property
    def has_more(self) -> bool:
        return self.next_since < self.latest


def _new_secret() -> str:
    return SIGNING_KEY_PREFIX + secrets.token_urlsafe(32)


def create_webhook(
    inventory: Inventory,
    *,
    store_id: str,
    url: str,
    event_types: Sequence[str] | None = None,
    active: bool = True,
) -> Webhook:
    """Subscribe ``url`` to the store's events of ``event_types`` (all five when none).

    Raises ``ValidationFailed`` (the URL, unknown event types) and ``TooManyWebhooks``.
    """
    now = inventory.clock()
    webhook = Webhook(
        id=str(uuid.uuid4()),
        url=check_url(url),
        event_types=event_types_from(event_types),
        active=active,
        secret=_new_secret(),
        revision=1,
        created_ms=now,
        updated_ms=now,
    )
    with inventory.storage.writing(store_id) as tx:
        if len(tx.events.list_webhooks()) >= WEBHOOKS_PER_STORE:
            raise TooManyWebhooks(
                f"a store has at most {WEBHOOKS_PER_STORE} webhooks", limit=WEBHOOKS_PER_STORE
            )
        tx.events.insert_webhook(webhook)
    return webhook


def list_webhooks(inventory: Inventory, *, store_id: str) -> list[Webhook]:
    """The store's subscriptions, oldest first."""
    with inventory.storage.reading(store_id) as tx:
        return tx.events.list_webhooks()


def get_webhook(inventory: Inventory, *, store_id: str, webhook_id: str) -> Webhook:
    """One subscription. Raises ``NotFound``."""
    with inventory.storage.reading(store_id) as tx:
        found = tx.events.get_webhook(webhook_id)
    if found is None:
        raise _webhook_not_found(webhook_id)
    return found


def update_webhook(
    inventory: Inventory,
    *,
    store_id: str,
    webhook_id: str,
    url: str | Unset = UNSET,
    event_types: Sequence[str] | Unset = UNSET,
    active: bool | Unset = UNSET,
    rotate_secret: bool = False,
    expected_revision: int | None = None,
) -> Webhook:
    """Change a subscription's URL, event types or active flag, or give it a new secret.
    An inactive subscription gets no new deliveries and its pending ones wait.

    Raises ``NotFound``, ``RevisionMismatch`` and ``ValidationFailed``.
    """
    with inventory.storage.writing(store_id) as tx:
        current = tx.events.get_webhook(webhook_id, lock=True)
        if current is None:
            raise _webhook_not_found(webhook_id)
        if expected_revision is not None and expected_revision != current.revision:
            raise RevisionMismatch(
                f"revision {expected_revision} is stale; the webhook is at {current.revision}",
                webhookId=webhook_id,
                revision=str(current.revision),
            )
        changed = replace(
            current,
            url=current.url if url is UNSET else check_url(url),
            event_types=(
                current.event_types if event_types is UNSET else event_types_from(event_types)
            ),
            active=current.active if active is UNSET else active,
            secret=_new_secret() if rotate_secret else current.secret,
            revision=current.revision + 1,
            updated_ms=inventory.clock(),
        )
        tx.events.save_webhook(changed, expected_revision=current.revision)
    return changed


def delete_webhook(inventory: Inventory, *, store_id: str, webhook_id: str) -> None:
    """Unsubscribe, dropping the subscription's undelivered deliveries. Raises ``NotFound``."""
    with inventory.storage.writing(store_id) as tx:
        if not tx.events.delete_webhook(webhook_id):
            raise _webhook_not_found(webhook_id)


def list_deliveries(
    inventory: Inventory,
    *,
    store_id: str,
    webhook_id: str,
    states: Sequence[DeliveryState] = (),
    before: int | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """A subscription's delivery log, newest first; ``before`` pages on (a sequence).

    Raises ``NotFound`` and ``ValidationFailed`` (the limit).
    """
    if not 1 <= limit <= DELIVERIES_LIMIT_MAX:
        raise ValidationFailed.of("limit", f"limit is between 1 and {DELIVERIES_LIMIT_MAX}")
    _number_waiting_events(inventory)
    with inventory.storage.reading(store_id) as tx:
        if tx.events.get_webhook(webhook_id) is None:
            raise _webhook_not_found(webhook_id)
        return tx.events.list_deliveries(webhook_id, states=states, before=before, limit=limit)


def redeliver(
    inventory: Inventory, *, store_id: str, webhook_id: str, sequence: int | None = None
) -> int:
    """Send parked deliveries again with fresh attempts, and waiting ones now: every one of
    the subscription's, or the one of event ``sequence``. Returns how many.

    Raises ``NotFound`` and ``DeliveryNotRedeliverable`` (that one was delivered).
    """
    now = inventory.clock()
    with inventory.storage.writing(store_id) as tx:
        tx.events.number_waiting()  # so that the deliveries of every change so far are here
        if tx.events.get_webhook(webhook_id) is None:
            raise _webhook_not_found(webhook_id)
        if sequence is not None:
            found = tx.events.get_delivery(webhook_id, sequence)
            if found is None:
                raise NotFound(
                    f"webhook {webhook_id} has no delivery of event {sequence}",
                    webhookId=webhook_id,
                    sequence=sequence,
                )
            if found.state is DeliveryState.DELIVERED:
                raise DeliveryNotRedeliverable(
                    f"event {sequence} was delivered already; the feed still has it",
                    webhookId=webhook_id,
                    sequence=sequence,
                )
        return tx.events.redeliver(webhook_id, seq=sequence, now_ms=now)


def read_feed(inventory: Inventory, *, store_id: str, since: int = 0, limit: int = 100) -> FeedPage:
    """The store's events after sequence ``since``, in order.

    Raises ``ValidationFailed`` (the limit, a negative ``since``) and ``FeedCursorExpired``
    when events after ``since`` have been pruned already.
    """
    if not 1 <= limit <= FEED_LIMIT_MAX:
        raise ValidationFailed.of("limit", f"limit is between 1 and {FEED_LIMIT_MAX}")
    if since < 0:
        raise ValidationFailed.of("since", "since is a sequence number, 0 or more", "MIN")
    _number_waiting_events(inventory)
    with inventory.storage.reading(store_id) as tx:
        latest, pruned_through = tx.events.stream_bounds()
        if since < pruned_through:
            raise FeedCursorExpired(
                f"events up to {pruned_through} are no longer retained; read on from there",
                since=since,
                prunedThrough=pruned_through,
                latestSequence=latest,
            )
        found = tx.events.feed(since=since, limit=limit)
    entries = [FeedEntry(seq, kind, entity, body) for seq, kind, entity, body in found]
    next_since = entries[-1].sequence if entries else since
    return FeedPage(entries=entries, next_since=next_since, latest=latest)


def _number_waiting_events(inventory: Inventory) -> None:
    """Number the events committed so far (the relay does too, but may not be running), so
    a reader finds its own changes' events."""
    with inventory.storage.relaying(write=False) as queue:
        waiting = queue.events_waiting()
    if waiting:
        with inventory.storage.relaying() as queue:
            queue.sequence_all()


def _webhook_not_found(webhook_id: str) -> NotFound:
    return NotFound(f"webhook {webhook_id} does not exist", webhookId=webhook_id)
