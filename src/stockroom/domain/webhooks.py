"""Webhook subscriptions, their deliveries, and the retry schedule.

A subscription sends a store's events of the chosen types to one URL. Each event it takes
becomes one delivery, tried until the receiver answers 2xx: after a failure it waits an
exponentially growing, jittered delay, and after ``max_attempts`` failures it is parked
until an operator redelivers it. While a delivery of an item is not yet delivered, later
deliveries of that item to the same subscription wait, so each receiver sees an item's
events in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from .errors import Conflict, FailedPrecondition, ValidationFailed
from .events import EventType

__all__ = [
    "URL_MAX",
    "Delivery",
    "DeliveryNotRedeliverable",
    "DeliveryState",
    "FeedCursorExpired",
    "Webhook",
    "check_url",
    "event_types_from",
    "retry_delay_ms",
]

URL_MAX: Final = 2048


class DeliveryState(StrEnum):
    PENDING = "PENDING"
    """Not yet delivered: waiting for its turn, in flight, or waiting to retry."""
    DELIVERED = "DELIVERED"
    """The receiver answered 2xx."""
    PARKED = "PARKED"
    """Failed ``max_attempts`` times; waits for an operator to redeliver it."""


class DeliveryNotRedeliverable(Conflict):
    code = "DELIVERY_ALREADY_DELIVERED"


class FeedCursorExpired(FailedPrecondition):
    code = "EVENTS_NO_LONGER_RETAINED"


@dataclass(frozen=True, slots=True)
class Webhook:
    """A store's subscription: where to send which events, and the key that signs them."""

    id: str
    url: str
    event_types: tuple[EventType, ...]
    active: bool
    secret: str
    revision: int
    created_ms: int
    updated_ms: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event on its way to one subscription, and how its attempts went."""

    webhook_id: str
    sequence: int
    entity_id: str
    state: DeliveryState
    attempts: int
    next_attempt_ms: int
    created_ms: int
    event_id: str | None = None
    event_type: EventType | None = None
    last_attempt_ms: int | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_ms: int | None = None


def check_url(url: str, *, field: str = "url") -> str:
    """An absolute ``http``/``https`` URL of at most 2048 characters. Raises
    ``ValidationFailed``."""
    if len(url) > URL_MAX:
        raise ValidationFailed.of(field, f"a URL is at most {URL_MAX} characters", "MAX_LENGTH")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a port that is not a number
    except ValueError:
        raise ValidationFailed.of(field, "not a valid URL", "FORMAT") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed.of(
            field, "an absolute http:// or https:// URL is required", "FORMAT"
        )
    return url


def event_types_from(
    names: Sequence[str] | None, *, field: str = "eventTypes"
) -> tuple[EventType, ...]:
    """The event types a subscription asked for, in contract order; none means all five.
    Raises ``ValidationFailed`` for a name that is not one of spec 5's ``eventType``s."""
    if not names:
        return tuple(EventType)
    unknown = sorted(set(names) - {kind.value for kind in EventType})
    if unknown:
        raise ValidationFailed.of(
            field,
            f"unknown event types {unknown}",
            "FORMAT",
            known=[kind.value for kind in EventType],
        )
    chosen = set(names)
    return tuple(kind for kind in EventType if kind.value in chosen)


def retry_delay_ms(attempts: int, *, base_ms: int, max_ms: int, jitter: float) -> int:
    """How long to wait after the ``attempts``-th failed attempt (1, 2, ...): ``base_ms``
    doubling with each attempt up to ``max_ms``, of which a random half (``jitter`` in
    [0, 1)) is taken off, so that receivers coming back are not hit all at once."""
    ceiling = min(max_ms, base_ms << min(max(attempts - 1, 0), 40))
    return max(1, round(ceiling / 2 + ceiling / 2 * jitter))
