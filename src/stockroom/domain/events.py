"""The inventory item events of spec 5, built from an item before and after a change.

One change yields the events the contract names for it, in this order:

- created (no item before): ``created``;
- deleted (no item after): ``deleted``;
- changed: ``updated``, then ``updated_with_reason``, then ``stock_status_updated`` when the
  item crossed between in stock and not (``availabilityStatus == IN_STOCK`` before vs after,
  spec 9 Q12). Creating or deleting an item never fires ``stock_status_updated``.

Bodies are the JSON Wix delivers (REST names). ``entityEventSequence`` is the item's
revision, so every event of one change carries the same number; a deletion carries the last
revision plus one, so that consumers who drop lower numbers never drop a deletion.
``modifiedFields`` maps each top-level field whose value changed to its previous value
(``None`` where it had none). Ids and times come in from the caller: nothing here reads a
clock or a random source.

A change's events are stored as the change itself and their bodies made when they are read
(``storage.event_bodies``): ``kinds_of`` says which events a change fires, ``body_of`` makes
the body of one of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from .item import Availability, InventoryItem, Reason, availability
from .rest import iso_ms, item_json

__all__ = [
    "ENTITY_FQDN",
    "WIX_STORES_APP_ID",
    "EventType",
    "body_of",
    "entity_of",
    "kinds_of",
    "modified_fields",
]

ENTITY_FQDN: Final = "wix.stores.catalog.v3.inventory_item"

WIX_STORES_APP_ID: Final = "215238eb-22a5-4c36-9e7b-e7c08025e04e"
"""The ``appId`` of ``updated_with_reason`` when no calling app is known (spec 5)."""


class EventType(StrEnum):
    """The five event types of spec 5, by their ``eventType`` strings."""

    CREATED = "wix.stores.catalog.v3.inventory_item_created"
    UPDATED = "wix.stores.catalog.v3.inventory_item_updated"
    DELETED = "wix.stores.catalog.v3.inventory_item_deleted"
    STOCK_STATUS_UPDATED = "wix.stores.catalog.v3.inventory_item_stock_status_updated"
    UPDATED_WITH_REASON = "wix.stores.catalog.v3.inventory_item_updated_with_reason"

    @property
    def slug(self) -> str:
        """The event's ``slug``: ``created``, ``stock_status_updated``, ..."""
        return self.value.removeprefix(f"{ENTITY_FQDN}_")


_SLUGS: Final = {kind: kind.slug for kind in EventType}


_IN_STOCK: Final = Availability.IN_STOCK


def entity_of(before: InventoryItem | None, after: InventoryItem | None) -> str:
    """The id of the item a change is about."""
    if after is not None:
        return after.id
    if before is None:
        raise ValueError("a change has an item before it, after it, or both")
    return before.id


def kinds_of(before: InventoryItem | None, after: InventoryItem | None) -> tuple[EventType, ...]:
    """The types of the events one change fires, in order (see the module's docstring)."""
    if after is None:
        return _DELETED
    if before is None:
        return _CREATED
    # Whether it crossed between in stock and not (spec 9 Q12).
    if (availability(before) is _IN_STOCK) != (availability(after) is _IN_STOCK):
        return _UPDATED_AND_FLIPPED
    return _UPDATED


_CREATED: Final = (EventType.CREATED,)
_DELETED: Final = (EventType.DELETED,)
_UPDATED: Final = (EventType.UPDATED, EventType.UPDATED_WITH_REASON)
_UPDATED_AND_FLIPPED: Final = (*_UPDATED, EventType.STOCK_STATUS_UPDATED)


def body_of(
    kind: EventType,
    event_id: str,
    before: InventoryItem | None,
    after: InventoryItem | None,
    *,
    reason: Reason | None,
    app_id: str,
    time_ms: int,
) -> dict[str, Any]:
    """The body of the event of type ``kind`` that a change fires (one of its ``kinds_of``)."""
    if kind not in kinds_of(before, after):
        raise ValueError(f"this change does not fire {kind.slug}")
    if after is None:
        assert before is not None  # kinds_of refused a change of nothing
        entity_id, sequence = before.id, before.revision + 1
        part: dict[str, Any] = {"deletedEvent": {"deletedEntityAsJson": item_json(before)}}
    elif before is None:
        entity_id, sequence = after.id, after.revision
        part = {"createdEvent": {"entityAsJson": item_json(after)}}
    else:
        entity_id, sequence = after.id, after.revision
        part = _changed(kind, before, after, reason=reason, app_id=app_id)
    return {
        "id": event_id,
        "entityFqdn": ENTITY_FQDN,
        "slug": _SLUGS[kind],
        "entityId": entity_id,
        "eventTime": iso_ms(time_ms),
        "triggeredByAnonymizeRequest": False,
        "entityEventSequence": str(sequence),
        **part,
    }


def _changed(
    kind: EventType,
    before: InventoryItem,
    after: InventoryItem,
    *,
    reason: Reason | None,
    app_id: str,
) -> dict[str, Any]:
    """What an event of type ``kind`` says of an item that existed before and after."""
    if kind is EventType.STOCK_STATUS_UPDATED:
        return {"actionEvent": {"bodyAsJson": {"inStock": availability(after) is _IN_STOCK}}}
    current = item_json(after)
    if kind is EventType.UPDATED:
        modified = modified_fields(item_json(before), current)
        return {"updatedEvent": {"currentEntityAsJson": current, "modifiedFields": modified}}
    with_reason: dict[str, Any] = {"currentEntity": current}
    if reason is not None:
        with_reason["reason"] = reason.value
    with_reason["appId"] = app_id
    return {"actionEvent": {"bodyAsJson": with_reason}}


def modified_fields(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Each top-level field whose value differs, with its previous value (``None`` if the
    field had none before)."""
    changed = {name: was for name, was in previous.items() if current.get(name) != was}
    changed.update(
        (name, None) for name, now in current.items() if name not in previous and now is not None
    )
    return changed
