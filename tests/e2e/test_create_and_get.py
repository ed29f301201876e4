import base64
import json
import re

import httpx
import pytest

from tests.factories import guid

from .helpers import BULK, ITEMS, application_error, create, get, violations

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def default_location(client):
    return create(client)["locationId"]


def test_create_fills_the_default_location_revision_and_derived_fields(client):
    item = create(client, quantity=7)

    assert item["revision"] == "1"
    assert item["trackQuantity"] is True
    assert item["availabilityStatus"] == "IN_STOCK"
    assert item["quantity"] == 7
    assert "inStock" not in item
    assert item["preorderInfo"] == {
        "enabled": False,
        "limit": 100000,
        "counter": 0,
        "quantity": 100000,
    }
    assert ISO_MS.match(item["createdDate"])
    assert item["createdDate"] == item["updatedDate"]
    assert re.match(r"^[0-9a-f-]{36}$", item["locationId"])


def test_every_item_of_a_store_without_a_location_lands_at_the_same_default(client):
    assert create(client)["locationId"] == create(client)["locationId"]


def test_stores_have_different_default_locations(client, live_server):
    other = httpx.post(
        f"{live_server.url}{ITEMS}",
        headers={"wix-site-id": guid()},
        json={"inventoryItem": {"productId": "p", "variantId": guid(), "inStock": True}},
    ).json()["inventoryItem"]

    assert other["locationId"] != default_location(client)


def test_a_flag_item_shows_no_preorder_counters(client):
    item = create(
        client, quantity=None, inStock=False, preorderInfo={"enabled": True, "message": "soon"}
    )

    assert item["trackQuantity"] is False
    assert item["inStock"] is False
    assert "quantity" not in item
    assert item["availabilityStatus"] == "PREORDER"
    assert item["preorderInfo"] == {"enabled": True, "message": "soon"}


def test_read_only_fields_sent_on_create_are_ignored(client):
    item = create(
        client,
        id=guid(),
        revision="42",
        trackQuantity=False,
        availabilityStatus="OUT_OF_STOCK",
        preorderInfo={"counter": 500, "quantity": 3},
    )

    assert item["revision"] == "1"
    assert item["trackQuantity"] is True
    assert item["preorderInfo"]["counter"] == 0


def test_extended_fields_are_kept_and_returned_as_given(client):
    namespaces = {"@acme/erp": {"bin": "A-7", "tags": ["x", 1, None]}}

    item = create(client, extendedFields={"namespaces": namespaces})

    assert get(client, item["id"])["extendedFields"] == {"namespaces": namespaces}


def test_get_returns_what_create_returned_and_aliases_serve_the_same_item(client):
    item = create(client)
    encoded = base64.urlsafe_b64encode(json.dumps({"inventoryItemId": item["id"]}).encode())

    aliased = client.get(
        f"/_api/inventory/v3/inventory-items/{item['id']}",
        params={".r": encoded.decode().rstrip("=")},
    )

    assert get(client, item["id"]) == item
    assert aliased.json()["inventoryItem"] == item


def test_a_second_item_for_the_same_variant_and_location_is_refused_with_409(client):
    item = create(client, quantity=3)

    response = client.post(
        ITEMS,
        json={"inventoryItem": {"productId": "p", "variantId": item["variantId"], "quantity": 9}},
    )

    error = application_error(response, 409)
    assert error["code"] == "ITEM_ALREADY_EXISTS"
    assert error["data"]["variantId"] == item["variantId"]
    assert get(client, item["id"]) == item


def test_the_same_variant_may_be_stocked_at_another_known_location_only(client):
    item = create(client)

    response = client.post(
        ITEMS,
        json={
            "inventoryItem": {
                "productId": "p",
                "variantId": item["variantId"],
                "locationId": guid(),
                "quantity": 1,
            }
        },
    )

    assert application_error(response, 404)["code"] == "NOT_FOUND"


def test_an_explicit_default_location_id_is_accepted(client):
    location = default_location(client)

    item = create(client, locationId=location)

    assert item["locationId"] == location


@pytest.mark.parametrize(
    ("fields", "field", "rule", "rule_name"),
    [
        (
            {"quantity": -1},
            "inventoryItem.quantity",
            "MIN",
            "REQUESTED_QUANTITY_MUST_BE_NON_NEGATIVE",
        ),
        ({"quantity": 100000}, "inventoryItem.quantity", "MAX", None),
        ({"quantity": -100000}, "inventoryItem.quantity", "MIN", None),
        ({"quantity": 1, "inStock": True}, "inventoryItem.trackingMethod", "ONE_OF", None),
        ({"quantity": None}, "inventoryItem.trackingMethod", "REQUIRED_FIELD", None),
        (
            {"quantity": None, "inStock": True, "preorderInfo": {"limit": 5}},
            "inventoryItem.preorderInfo.limit",
            "OTHER",
            "PREORDER_LIMIT_NOT_SUPPORTED_FOR_UNTRACKED_INVENTORY",
        ),
        ({"variantId": "not-a-guid"}, "inventoryItem.variantId", "FORMAT", None),
        ({"locationId": "nope"}, "inventoryItem.locationId", "FORMAT", None),
        ({"productId": ""}, "inventoryItem.productId", "MIN_LENGTH", None),
        ({"productId": "x" * 37}, "inventoryItem.productId", "MAX_LENGTH", None),
        ({"quantity": "5"}, "inventoryItem.quantity", "OTHER", None),
        ({"quantity": 1.5}, "inventoryItem.quantity", "OTHER", None),
        (
            {"preorderInfo": {"message": ""}},
            "inventoryItem.preorderInfo.message",
            "MIN_LENGTH",
            None,
        ),
        (
            {"preorderInfo": {"message": "m" * 251}},
            "inventoryItem.preorderInfo.message",
            "MAX_LENGTH",
            None,
        ),
        ({"preorderInfo": {"limit": -1}}, "inventoryItem.preorderInfo.limit", "MIN", None),
        ({"preorderInfo": {"limit": 100001}}, "inventoryItem.preorderInfo.limit", "MAX", None),
        ({"preorderInfo": {"enabled": "yes"}}, "inventoryItem.preorderInfo.enabled", "OTHER", None),
    ],
)
def test_invalid_items_are_refused_with_a_field_violation_and_create_nothing(
    client, fields, field, rule, rule_name
):
    variant = guid()
    body = {"productId": "p", "variantId": variant, "quantity": 1} | fields

    response = client.post(ITEMS, json={"inventoryItem": body})

    (violation,) = violations(response)
    assert (violation["field"], violation["violatedRule"]) == (field, rule)
    assert violation.get("ruleName") == rule_name
    if fields.get("variantId") is None:
        assert create(client, variantId=variant)["revision"] == "1"  # nothing was stored


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (b"{not json", "", "FORMAT"),
        (b"", "inventoryItem", "REQUIRED_FIELD"),
        (b"[]", "", "OTHER"),
        (b'{"inventoryItem": null}', "inventoryItem", "OTHER"),
        (
            b'{"inventoryItem": {"variantId": "f27ee649-ba6b-493d-b758-75816208cf2e"}}',
            "inventoryItem.productId",
            "REQUIRED_FIELD",
        ),
        (b'{"inventoryItem": {"productId": "p"}}', "inventoryItem.variantId", "REQUIRED_FIELD"),
        (b'{"inventoryItem": {"productId": "\xed\xa0\x80"}}', "", "FORMAT"),
        (b'{"inventoryItem": {"productId": "\\ud800x"}}', "", "FORMAT"),
        (b'{"inventoryItem": {"productId": "\xff"}}', "", "FORMAT"),
    ],
)
def test_malformed_bodies_get_a_400_never_a_500(client, body, field, rule):
    response = client.post(ITEMS, content=body, headers={"content-type": "application/json"})

    (violation,) = violations(response)
    assert (violation["field"], violation["violatedRule"]) == (field, rule)


def test_a_body_over_the_size_limit_is_refused_with_413(client):
    response = client.post(ITEMS, content=b" " * (4 * 1024 * 1024 + 1))

    assert application_error(response, 413)["code"] == "PAYLOAD_TOO_LARGE"


def test_get_of_an_unknown_item_is_404_and_of_a_malformed_id_is_400(client):
    assert application_error(client.get(f"{ITEMS}/{guid()}"), 404)["code"] == "NOT_FOUND"
    assert violations(client.get(f"{ITEMS}/12345"))[0]["field"] == "inventoryItemId"


def test_unknown_paths_and_methods_answer_in_the_error_format(client):
    assert application_error(client.get("/stores/v3/nothing-here"), 404)["code"] == "NOT_FOUND"
    assert application_error(client.put(ITEMS), 405)["code"] == "METHOD_NOT_ALLOWED"


def test_a_malformed_store_header_is_a_400(live_server):
    response = httpx.get(f"{live_server.url}{ITEMS}/{guid()}", headers={"wix-site-id": "x" * 65})

    assert violations(response)[0]["field"] == "wix-site-id"


def test_bulk_create_reports_each_element_and_keeps_the_good_ones(client):
    taken = create(client)
    fresh = guid()
    body = {
        "inventoryItems": [
            {"productId": "p", "variantId": fresh, "quantity": 5},
            {"productId": "p", "variantId": taken["variantId"], "quantity": 5},
            {"productId": "p", "variantId": guid(), "quantity": -2},
            {"productId": "p", "variantId": fresh, "inStock": True},
            {"productId": "p", "variantId": guid(), "inStock": True, "preorderInfo": {"limit": 1}},
        ],
        "returnEntity": True,
    }

    response = client.post(f"{BULK}/create", json=body)

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["itemMetadata"]["originalIndex"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["itemMetadata"]["success"] for r in results] == [True, False, False, False, False]
    assert [r["itemMetadata"].get("error", {}).get("code") for r in results] == [
        None,
        "ITEM_ALREADY_EXISTS",
        "REQUESTED_QUANTITY_MUST_BE_NON_NEGATIVE",
        "ITEM_ALREADY_EXISTS",
        "PREORDER_LIMIT_NOT_SUPPORTED_FOR_UNTRACKED_INVENTORY",
    ]
    assert results[0]["item"]["id"] == results[0]["itemMetadata"]["id"]
    assert "item" not in results[1]
    assert response.json()["bulkActionMetadata"] == {
        "totalSuccesses": 1,
        "totalFailures": 4,
        "undetailedFailures": 0,
    }
    assert get(client, results[0]["itemMetadata"]["id"])["quantity"] == 5


def test_bulk_create_without_return_entity_returns_ids_only(client):
    response = client.post(
        f"{BULK}/create",
        json={"inventoryItems": [{"productId": "p", "variantId": guid(), "quantity": 1}]},
    )

    (result,) = response.json()["results"]
    assert "item" not in result
    assert get(client, result["itemMetadata"]["id"])["quantity"] == 1


@pytest.mark.parametrize(("size", "rule"), [(0, "MIN_SIZE"), (1001, "MAX_SIZE")])
def test_bulk_create_outside_1_to_1000_elements_is_refused_whole(client, size, rule):
    elements = [{"productId": "p", "variantId": guid(), "quantity": 1} for _ in range(size)]

    (violation,) = violations(client.post(f"{BULK}/create", json={"inventoryItems": elements}))

    assert (violation["field"], violation["violatedRule"]) == ("inventoryItems", rule)
    assert violation["data"]["threshold"] == (1 if size == 0 else 1000)


def test_bulk_create_of_1000_items_succeeds(client):
    elements = [{"productId": "p", "variantId": guid(), "quantity": i % 50} for i in range(1000)]

    response = client.post(f"{BULK}/create", json={"inventoryItems": elements})

    assert response.json()["bulkActionMetadata"]["totalSuccesses"] == 1000


def test_extended_fields_nested_too_deeply_are_a_400(client):
    deep: dict[str, object] = {"leaf": 1}
    for _ in range(40):
        deep = {"x": deep}

    response = client.post(
        ITEMS,
        json={"inventoryItem": {"productId": "p", "variantId": guid(), "quantity": 1,
                                "extendedFields": {"namespaces": {"ns": deep}}}},
    )  # fmt: skip

    (violation,) = violations(response)
    assert (violation["field"], violation["violatedRule"]) == (
        "inventoryItem.extendedFields.namespaces",
        "MAX",
    )


def test_json_nested_past_the_parser_limit_is_a_400(client):
    body = (
        b'{"inventoryItem": {"extendedFields": {"namespaces": {"ns": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}}}"
    )

    response = client.post(ITEMS, content=body, headers={"content-type": "application/json"})

    assert response.status_code == 400
