"""Signing webhook deliveries, and verifying them on the receiving side.

Every delivery carries two headers::

    Stockroom-Timestamp: 1735689600
    Stockroom-Signature: v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

The signature is HMAC-SHA256, keyed with the subscription's secret, over the timestamp
(Unix seconds), a dot, and the body exactly as sent: ``f"{timestamp}.{body}"``. A receiver
recomputes it over the raw body *before* parsing it, compares in constant time, and refuses
timestamps outside a small window, so a captured delivery cannot be replayed later. Within
the window, de-duplicate on the event's ``id`` (deliveries are at least once)::

    from stockroom.webhooks import InvalidSignature, verify

    try:
        verify(secret, body=raw_body, timestamp=headers["Stockroom-Timestamp"],
               signature=headers["Stockroom-Signature"])
    except InvalidSignature:
        return 400

This module uses only the standard library, so a receiver may also copy it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Final

__all__ = [
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "SEQUENCE_HEADER",
    "SIGNATURE_HEADER",
    "STORE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_S",
    "InvalidSignature",
    "sign",
    "verify",
]

TIMESTAMP_HEADER: Final = "Stockroom-Timestamp"
SIGNATURE_HEADER: Final = "Stockroom-Signature"
EVENT_ID_HEADER: Final = "Stockroom-Event-Id"
EVENT_TYPE_HEADER: Final = "Stockroom-Event-Type"
SEQUENCE_HEADER: Final = "Stockroom-Sequence"
STORE_HEADER: Final = "Stockroom-Store"

TOLERANCE_S: Final = 300
"""How far a delivery's timestamp may be from the receiver's clock, by default."""

_SCHEME: Final = "v1"


class InvalidSignature(Exception):
    """The delivery was not signed with this secret, was altered, or is too old."""


def sign(secret: str, *, body: bytes, timestamp: int) -> str:
    """The ``Stockroom-Signature`` header value for ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{_SCHEME}={digest}"


def verify(
    secret: str,
    *,
    body: bytes,
    timestamp: str,
    signature: str,
    tolerance_s: int = TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Check a delivery's signature and age; return quietly when it is genuine.

    ``signature`` may list several comma-separated ``v1=`` values (one per secret while a
    secret is being rotated); any match is enough. ``now`` defaults to the current time.

    Raises ``InvalidSignature``.
    """
    try:
        sent = int(timestamp)
    except ValueError:
        raise InvalidSignature("the timestamp is not a number") from None
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_s:
        raise InvalidSignature(f"the timestamp is more than {tolerance_s} s away")
    expected = sign(secret, body=body, timestamp=sent)
    offered = [part.strip() for part in signature.split(",")]
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise InvalidSignature("the signature does not match the body")
