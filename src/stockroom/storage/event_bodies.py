"""How an event's body is stored: as the change that fired it, made into the JSON a
subscriber receives when the event is read.

A write transaction stores, in each of its events' ``body``, the change itself (``stored``),
as one JSON array: the format, the item after the change as an array of its fields, the
item before it as the fields in which it differed from the item after (whole, for a
deletion), the reason, the calling app (``null``: Wix Stores') and the time:

    [2, [id, variant, location, product, quantity, inStock, [enabled, message, limit,
     counter], revision, created, updated, extendedFields, [name, variantName, sku, visible,
     barcode, brandId, brandName, [categoryIds]]], [[4, 7], [7, 12], [9, 1764...]], "ORDER",
     null, 1764...]

The body the contract describes (``domain.events.body_of``) is made from it when the event
is read, by the feed or by the relay about to deliver it (``rendered``).

Why: a flash sale fires two events a sale. Building their bodies (the item's REST JSON
twice, the modified fields, the encoding) cost the event loop more than everything else a
sale does in the database, and their kilobyte each cost PostgreSQL's writers while the item
stayed locked. Stored this way a sale's two events hold about 300 bytes each, made in a few
microseconds. Measured in 64-client flash sales, alternating 5 s runs: on SQLite about 15%
more sales a second than with the bodies built; on PostgreSQL about 11% more than with the
items stored whole (format 1). A body is made on every read instead (about 10 µs), which
the feed and the relay can afford: they read each event a few times, where the writer holds
the item's lock while it stores them.

The body is made by the code reading it, so a delivery and its redeliveries carry the same
bytes (and signature) as long as that code is the same. Events stored in format 1 (the two
items as JSON objects) and events stored before either format (the body itself, a JSON
object) are read too. Every server and relay of one database must run a version that reads
a format before any process writes it.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from stockroom.domain.events import WIX_STORES_APP_ID, EventType, body_of
from stockroom.domain.item import InventoryItem, Preorder, ProductSummary, Reason

__all__ = ["rendered", "stored"]

_FORMAT: Final = 2
_LEADING: Final = f"[{_FORMAT},"
_LEADING_1: Final = "[1,"

_encode = msgspec.json.Encoder().encode
_decode: Final = msgspec.json.Decoder(
    tuple[int, list[Any] | None, list[Any] | None, Reason | None, str | None, int]
).decode
_decode_1: Final = msgspec.json.Decoder(
    tuple[int, InventoryItem | None, InventoryItem | None, Reason | None, str, int]
).decode


def stored(
    before: InventoryItem | None,
    after: InventoryItem | None,
    *,
    reason: Reason | None,
    app_id: str,
    time_ms: int,
) -> str:
    """What the events of one change store as their body: the change, as JSON text."""
    app = None if app_id == WIX_STORES_APP_ID else app_id
    now: list[Any] | None = None
    was: list[Any] | None = None
    if after is not None:
        now = _fields(after)
        was = None if before is None else _differences(_fields(before), now)
    elif before is not None:
        was = _fields(before)
    else:
        raise ValueError("a change has an item before it, after it, or both")
    change = (_FORMAT, now, was, reason, app, time_ms)
    return _encode(change).decode()


def rendered(event_type: str, event_id: str, body: str) -> str:
    """The JSON a subscriber receives for the stored event ``event_id`` of ``event_type``."""
    if not body.startswith("["):  # stored whole, before changes were stored instead
        return body
    if body.startswith(_LEADING):
        before, after, reason, app_id, time_ms = _read(body)
    elif body.startswith(_LEADING_1):
        _, before, after, reason, app_id, time_ms = _decode_1(body)
    else:
        raise ValueError(f"an event stored in a format this version cannot read: {body[:12]}")
    made = body_of(
        EventType(event_type),
        event_id,
        before,
        after,
        reason=reason,
        app_id=app_id,
        time_ms=time_ms,
    )
    return _encode(made).decode()


def _read(
    body: str,
) -> tuple[InventoryItem | None, InventoryItem | None, Reason | None, str, int]:
    """A change ``stored`` in format 2: the item before and after it, the reason, the app
    and the time."""
    _, now, was, reason, app, time_ms = _decode(body)
    app_id = WIX_STORES_APP_ID if app is None else app
    if now is None:  # a deletion: the item before it, whole
        return None if was is None else _item(was), None, reason, app_id, time_ms
    before = None if was is None else _item(_undone(was, now))
    return before, _item(now), reason, app_id, time_ms


def _fields(item: InventoryItem) -> list[Any]:
    """An item as the array format 2 stores, in the order of ``_item``'s reading."""
    preorder, product = item.preorder, item.product
    return [
        item.id,
        item.variant_id,
        item.location_id,
        item.product_id,
        item.quantity,
        item.in_stock,
        [preorder.enabled, preorder.message, preorder.limit, preorder.counter],
        item.revision,
        item.created_ms,
        item.updated_ms,
        None if item.extended_fields is None else dict(item.extended_fields),
        None
        if product is None
        else [
            product.name,
            product.variant_name,
            product.variant_sku,
            product.variant_visible,
            product.variant_barcode,
            product.brand_id,
            product.brand_name,
            list(product.direct_category_ids),
        ],
    ]


def _item(fields: list[Any]) -> InventoryItem:
    """The item ``_fields`` stored."""
    (id_, variant, location, product_id, quantity, in_stock, preorder, revision, created,
     updated, extended, product) = fields  # fmt: skip
    return InventoryItem(
        id=id_,
        variant_id=variant,
        location_id=location,
        product_id=product_id,
        quantity=quantity,
        in_stock=in_stock,
        preorder=Preorder(*preorder),
        revision=revision,
        created_ms=created,
        updated_ms=updated,
        extended_fields=extended,
        product=None if product is None else _product(product),
    )


def _product(fields: list[Any]) -> ProductSummary:
    (name, variant_name, sku, visible, barcode, brand_id, brand_name, categories) = fields
    return ProductSummary(
        name=name,
        variant_name=variant_name,
        variant_sku=sku,
        variant_visible=visible,
        variant_barcode=barcode,
        brand_id=brand_id,
        brand_name=brand_name,
        direct_category_ids=tuple(categories),
    )


def _differences(was: list[Any], now: list[Any]) -> list[list[Any]]:
    """The fields in which ``was`` differs from ``now``, as [position, value] pairs."""
    pairs = enumerate(zip(was, now, strict=True))
    return [[at, value] for at, (value, other) in pairs if value != other]


def _undone(differences: list[list[Any]], now: list[Any]) -> list[Any]:
    """The fields ``_differences`` were taken from."""
    was = list(now)
    for at, value in differences:
        was[at] = value
    return was
