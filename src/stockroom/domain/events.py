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
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, Final, NamedTuple

from .item import Availability, InventoryItem, Reason
from .rest import iso_ms, item_json

__all__ = [
    "ENTITY_FQDN",
    "WIX_STORES_APP_ID",
    "Event",
    "EventType",
    "events_for",
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


class Event(NamedTuple):
    """One event about one item: its id, type and the body subscribers receive. (A named
    tuple: a flash sale makes two a sale, and a frozen dataclass costs twice as long to
    build.)"""

    id: str
    type: EventType
    entity_id: str
    body: dict[str, Any]


_IN_STOCK: Final = Availability.IN_STOCK.value


def events_for(
    before: InventoryItem | None,
    after: InventoryItem | None,
    *,
    reason: Reason | None,
    app_id: str,
    time_ms: int,
    new_id: Callable[[], str],
    json_of: Callable[[InventoryItem], dict[str, Any]] = item_json,
) -> list[Event]:
    """The events of one change of one item; ``new_id`` gives each event its unique id.
    ``json_of`` is ``item_json``, or a caller's memo of it: a run of changes to one item
    passes each state twice, as one change's after and the next one's before."""
    event_time = iso_ms(time_ms)

    def event(kind: EventType, entity_id: str, sequence: int, part: dict[str, Any]) -> Event:
        event_id = new_id()
        body = {
            "id": event_id,
            "entityFqdn": ENTITY_FQDN,
            "slug": _SLUGS[kind],
            "entityId": entity_id,
            "eventTime": event_time,
            "triggeredByAnonymizeRequest": False,
            "entityEventSequence": str(sequence),
            **part,
        }
        return Event(event_id, kind, entity_id, body)

    if after is None:
        if before is None:
            raise ValueError("a change has an item before it, after it, or both")
        deleted = {"deletedEvent": {"deletedEntityAsJson": json_of(before)}}
        return [event(EventType.DELETED, before.id, before.revision + 1, deleted)]
    current = json_of(after)
    if before is None:
        created = {"createdEvent": {"entityAsJson": current}}
        return [event(EventType.CREATED, after.id, after.revision, created)]
    previous = json_of(before)
    updated = {
        "updatedEvent": {
            "currentEntityAsJson": current,
            "modifiedFields": modified_fields(previous, current),
        }
    }
    with_reason: dict[str, Any] = {"currentEntity": current}
    if reason is not None:
        with_reason["reason"] = reason.value
    with_reason["appId"] = app_id
    action = {"actionEvent": {"bodyAsJson": with_reason}}
    found = [
        event(EventType.UPDATED, after.id, after.revision, updated),
        event(EventType.UPDATED_WITH_REASON, after.id, after.revision, action),
    ]
    # Whether it is in stock, as the two states' JSON already says (spec 9 Q12).
    in_stock = current["availabilityStatus"] == _IN_STOCK
    if (previous["availabilityStatus"] == _IN_STOCK) != in_stock:
        flipped = {"actionEvent": {"bodyAsJson": {"inStock": in_stock}}}
        found.append(event(EventType.STOCK_STATUS_UPDATED, after.id, after.revision, flipped))
    return found


def modified_fields(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Each top-level field whose value differs, with its previous value (``None`` if the
    field had none before)."""
    changed = {name: was for name, was in previous.items() if current.get(name) != was}
    changed.update(
        (name, None) for name, now in current.items() if name not in previous and now is not None
    )
    return changed
