from dataclasses import replace
from itertools import count
from typing import Any, NamedTuple

import pytest

from stockroom.domain.events import (
    ENTITY_FQDN,
    WIX_STORES_APP_ID,
    EventType,
    body_of,
    entity_of,
    kinds_of,
    modified_fields,
)
from stockroom.domain.item import Preorder, Reason
from stockroom.domain.rest import item_json
from tests.factories import a_flag_item, an_item

NOW = 1_800_000_000_000  # 2027-01-15T08:00:00.000Z


def ids():
    numbers = count(1)
    return lambda: f"event-{next(numbers)}"


class Event(NamedTuple):
    type: EventType
    entity_id: str
    body: dict[str, Any]


def change(before, after, reason=None, app_id=WIX_STORES_APP_ID):
    """The events one change fires, each with its body, as a subscriber gets them."""
    new_id = ids()
    entity_id = entity_of(before, after)
    return [
        Event(
            kind,
            entity_id,
            body_of(kind, new_id(), before, after, reason=reason, app_id=app_id, time_ms=NOW),
        )
        for kind in kinds_of(before, after)
    ]


def test_a_created_item_fires_created_with_the_whole_item_and_its_revision():
    item = an_item()

    (event,) = change(None, item)

    assert event.type is EventType.CREATED
    assert event.body == {
        "id": "event-1",
        "entityFqdn": ENTITY_FQDN,
        "slug": "created",
        "entityId": item.id,
        "eventTime": "2027-01-15T08:00:00.000Z",
        "triggeredByAnonymizeRequest": False,
        "entityEventSequence": "1",
        "createdEvent": {"entityAsJson": item_json(item)},
    }


def test_a_deleted_item_fires_deleted_with_its_last_state_one_past_its_revision():
    item = an_item(revision=4)

    (event,) = change(item, None)

    assert (event.type, event.body["slug"]) == (EventType.DELETED, "deleted")
    assert event.body["deletedEvent"] == {"deletedEntityAsJson": item_json(item)}
    assert event.body["entityEventSequence"] == "5"


def test_an_update_fires_updated_then_updated_with_reason_sharing_the_revision():
    before = an_item(quantity=10, revision=2, updated_ms=NOW - 5000)
    after = replace(before, quantity=7, revision=3, updated_ms=NOW)

    updated, with_reason = change(before, after, Reason.ORDER)

    assert [updated.type, with_reason.type] == [
        EventType.UPDATED,
        EventType.UPDATED_WITH_REASON,
    ]
    assert updated.body["updatedEvent"] == {
        "currentEntityAsJson": item_json(after),
        "modifiedFields": {
            "revision": "2",
            "updatedDate": "2027-01-15T07:59:55.000Z",
            "quantity": 10,
        },
    }
    assert with_reason.body["actionEvent"] == {
        "bodyAsJson": {
            "currentEntity": item_json(after),
            "reason": "ORDER",
            "appId": WIX_STORES_APP_ID,
        }
    }
    assert {e.body["entityEventSequence"] for e in (updated, with_reason)} == {"3"}
    assert updated.body["id"] != with_reason.body["id"]


def test_an_update_without_a_reason_omits_it_and_names_the_calling_app():
    before = an_item()
    after = replace(before, revision=2)

    _, with_reason = change(before, after, app_id="my-app")

    assert with_reason.body["actionEvent"]["bodyAsJson"] == {
        "currentEntity": item_json(after),
        "appId": "my-app",
    }


@pytest.mark.parametrize(
    ("before", "after", "in_stock"),
    [
        (an_item(quantity=1), an_item(quantity=0), False),
        (an_item(quantity=0), an_item(quantity=3), True),
        (a_flag_item(in_stock=True), a_flag_item(in_stock=False), False),
        (an_item(quantity=0), an_item(quantity=0, preorder=Preorder(enabled=True)), None),
        (an_item(quantity=5), an_item(quantity=4), None),
        (a_flag_item(in_stock=True), an_item(quantity=2), None),
    ],
    ids=["sold-out", "restocked", "flag-off", "to-preorder", "still-in", "switched-tracking"],
)
def test_stock_status_updated_fires_only_when_in_stock_flips(before, after, in_stock):
    after = replace(after, id=before.id, revision=before.revision + 1)

    found = [e for e in change(before, after) if e.type is EventType.STOCK_STATUS_UPDATED]

    if in_stock is None:
        assert found == []
    else:
        (event,) = found
        assert event.body["actionEvent"] == {"bodyAsJson": {"inStock": in_stock}}
        assert event.body["slug"] == "stock_status_updated"


def test_modified_fields_hold_previous_values_and_none_for_fields_that_were_absent():
    before = item_json(a_flag_item(in_stock=True))
    after = item_json(replace(a_flag_item(), id=before["id"], quantity=3, in_stock=None))
    after["variantId"] = before["variantId"]
    after["locationId"] = before["locationId"]
    after["productId"] = before["productId"]

    modified = modified_fields(before, after)

    assert modified == {
        "trackQuantity": False,
        "preorderInfo": {"enabled": False},
        "inStock": True,
        "quantity": None,
    }


def test_every_event_type_has_the_slug_and_type_of_the_contract():
    assert {kind.slug: kind.value for kind in EventType} == {
        "created": "wix.stores.catalog.v3.inventory_item_created",
        "updated": "wix.stores.catalog.v3.inventory_item_updated",
        "deleted": "wix.stores.catalog.v3.inventory_item_deleted",
        "stock_status_updated": "wix.stores.catalog.v3.inventory_item_stock_status_updated",
        "updated_with_reason": "wix.stores.catalog.v3.inventory_item_updated_with_reason",
    }


def test_a_change_needs_an_item_on_at_least_one_side():
    with pytest.raises(ValueError, match="before it, after it, or both"):
        change(None, None)


def test_an_event_a_change_does_not_fire_has_no_body():
    item = an_item()
    with pytest.raises(ValueError, match="does not fire updated"):
        body_of(EventType.UPDATED, "e", None, item, reason=None, app_id="a", time_ms=NOW)
    with pytest.raises(ValueError, match="does not fire created"):
        body_of(EventType.CREATED, "e", item, item, reason=None, app_id="a", time_ms=NOW)
    with pytest.raises(ValueError, match="does not fire stock_status_updated"):
        body_of(
            EventType.STOCK_STATUS_UPDATED, "e", item, item, reason=None, app_id="a", time_ms=NOW
        )
