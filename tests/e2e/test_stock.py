import pytest

from tests.factories import guid

from .helpers import (
    BULK,
    application_error,
    create,
    decrement,
    get,
    increment,
    stock_line,
    violations,
)


def test_increment_adds_stock_and_returns_the_items_when_asked(client):
    item = create(client, quantity=0)

    response = increment(
        client,
        [{"inventoryItemId": item["id"], "incrementBy": 10}],
        returnEntity=True,
        reason="MANUAL",
    )

    (result,) = response.json()["results"]
    assert result["itemMetadata"] == {"originalIndex": 0, "success": True, "id": item["id"]}
    assert (result["item"]["quantity"], result["item"]["revision"]) == (10, "2")
    assert result["item"]["availabilityStatus"] == "IN_STOCK"


def test_an_increment_line_on_a_flag_item_refuses_the_whole_request(client):
    counted, flagged = create(client, quantity=1), create(client, quantity=None, inStock=True)
    lines = [
        {"inventoryItemId": counted["id"], "incrementBy": 5},
        {"inventoryItemId": flagged["id"], "incrementBy": 5},
    ]

    error = application_error(increment(client, lines), 428)

    assert error["code"] == "INVENTORY_QUANTITY_NOT_TRACKED"
    assert error["data"] == {"inventoryItemId": flagged["id"], "originalIndex": 1}
    assert get(client, counted["id"]) == counted


def test_an_increment_past_99999_is_a_428_and_changes_nothing(client):
    item = create(client, quantity=99_990)

    response = increment(client, [{"inventoryItemId": item["id"], "incrementBy": 10}])

    assert application_error(response, 428)["code"] == "MAX_QUANTITY_LIMIT_REACHED"
    assert get(client, item["id"]) == item


def test_unknown_ids_fail_on_their_own_and_the_rest_is_applied(client):
    item = create(client, quantity=1)
    unknown = guid()

    response = increment(
        client,
        [
            {"inventoryItemId": unknown, "incrementBy": 1},
            {"inventoryItemId": item["id"], "incrementBy": 2},
        ],
    )

    results = response.json()["results"]
    assert results[0]["itemMetadata"]["error"]["code"] == "NOT_FOUND"
    assert results[1]["itemMetadata"]["success"] is True
    assert get(client, item["id"])["quantity"] == 3


def test_a_restricted_decrement_beyond_stock_refuses_the_whole_request(client):
    plenty, scarce = create(client, quantity=10), create(client, quantity=1)

    response = decrement(client, [stock_line(plenty, 3), stock_line(scarce, 2)], reason="ORDER")

    error = application_error(response, 428)
    assert error["code"] == "INSUFFICIENT_INVENTORY"
    assert error["data"]["originalIndex"] == 1
    assert error["data"]["inventoryItemId"] == scarce["id"]
    assert get(client, plenty["id"]) == plenty
    assert get(client, scarce["id"]) == scarce


@pytest.mark.parametrize("restrict", [None, True])
def test_restriction_is_on_unless_switched_off(client, restrict):
    item = create(client, quantity=1)
    options = {} if restrict is None else {"restrictInventory": restrict}

    response = decrement(client, [stock_line(item, 2)], **options)

    assert application_error(response, 428)["code"] == "INSUFFICIENT_INVENTORY"


def test_an_unrestricted_decrement_may_go_negative_but_not_below_the_minimum(client):
    item = create(client, quantity=1)

    went_negative = decrement(
        client, [stock_line(item, 5)], restrictInventory=False, returnEntity=True
    )
    too_far = decrement(client, [stock_line(item, 99_999)], restrictInventory=False)

    negative = went_negative.json()["results"][0]["item"]
    assert (negative["quantity"], negative["availabilityStatus"]) == (-4, "OUT_OF_STOCK")
    assert application_error(too_far, 428)["code"] == "MIN_QUANTITY_LIMIT_REACHED"
    assert get(client, item["id"]) == negative


def test_the_same_item_twice_in_one_request_is_taken_twice(client):
    item = create(client, quantity=5)

    response = decrement(client, [stock_line(item, 2), stock_line(item, 3)], returnEntity=True)

    results = response.json()["results"]
    assert [r["item"]["quantity"] for r in results] == [3, 0]
    assert [r["item"]["revision"] for r in results] == ["2", "3"]


def test_a_decrement_of_a_flag_item_is_a_428(client):
    item = create(client, quantity=None, inStock=True)

    assert (
        application_error(decrement(client, [stock_line(item, 1)]), 428)["code"]
        == "INVENTORY_QUANTITY_NOT_TRACKED"
    )


def test_a_preorder_request_books_the_counter_until_the_limit(client):
    item = create(client, quantity=1, preorderInfo={"enabled": True, "limit": 3})

    first = decrement(client, [stock_line(item, 2, preorderRequest=True)], returnEntity=True)
    second = decrement(client, [stock_line(item, 2, preorderRequest=True)])
    third = decrement(client, [stock_line(item, 2, preorderRequest=True)], returnEntity=True)

    booked = first.json()["results"][0]["item"]
    assert (
        booked["quantity"],
        booked["preorderInfo"]["counter"],
        booked["availabilityStatus"],
    ) == (0, 1, "PREORDER")
    assert second.status_code == 200
    full = get(client, item["id"])
    assert (full["preorderInfo"]["counter"], full["preorderInfo"]["quantity"]) == (3, 0)
    assert full["availabilityStatus"] == "OUT_OF_STOCK"
    assert application_error(third, 428)["code"] == "INSUFFICIENT_INVENTORY"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"decrementBy": 0}, "decrementData[0].decrementBy"),
        ({"decrementBy": 100000}, "decrementData[0].decrementBy"),
        ({"inventoryItemId": "x"}, "decrementData[0].inventoryItemId"),
        ({"preorderRequest": "yes"}, "decrementData[0].preorderRequest"),
    ],
)
def test_malformed_stock_lines_are_refused_whole(client, line, field):
    item = create(client)

    response = decrement(client, [stock_line(item, 1) | line])

    assert violations(response)[0]["field"] == field
    assert get(client, item["id"]) == item


@pytest.mark.parametrize(("size", "rule"), [(0, "MIN_SIZE"), (301, "MAX_SIZE")])
def test_stock_requests_outside_1_to_300_lines_are_refused(client, size, rule):
    item = create(client)

    response = increment(client, [{"inventoryItemId": item["id"], "incrementBy": 1}] * size)

    assert violations(response)[0]["violatedRule"] == rule
    assert get(client, item["id"]) == item


def test_300_lines_in_one_request_are_applied(client):
    item = create(client, quantity=0)

    response = increment(client, [{"inventoryItemId": item["id"], "incrementBy": 2}] * 300)

    assert response.json()["bulkActionMetadata"]["totalSuccesses"] == 300
    assert get(client, item["id"])["quantity"] == 600


def by_variant(client, direction, lines, **options):
    key = "incrementData" if direction == "increment" else "decrementData"
    return client.post(f"{BULK}/{direction}-by-variant-and-location", json={key: lines} | options)


def test_by_variant_without_location_uses_the_default_location(client):
    item = create(client, quantity=4)

    up = by_variant(
        client, "increment", [{"variantId": item["variantId"], "incrementBy": 6}], returnEntity=True
    )
    down = by_variant(
        client, "decrement", [{"variantId": item["variantId"], "decrementBy": 3}], returnEntity=True
    )

    assert up.json()["results"][0]["item"]["quantity"] == 10
    assert down.json()["results"][0]["itemMetadata"]["id"] == item["id"]
    assert down.json()["results"][0]["item"]["quantity"] == 7


def test_by_variant_with_an_explicit_location(client):
    item = create(client, quantity=4)
    line = {"variantId": item["variantId"], "locationId": item["locationId"], "decrementBy": 4}

    response = by_variant(client, "decrement", [line], returnEntity=True)

    assert response.json()["results"][0]["item"]["availabilityStatus"] == "OUT_OF_STOCK"


def test_by_variant_naming_no_item_refuses_the_whole_request_with_428_not_found(client):
    item = create(client, quantity=4)
    lines = [
        {"variantId": item["variantId"], "incrementBy": 1},
        {"variantId": item["variantId"], "locationId": guid(), "incrementBy": 1},
    ]

    error = application_error(by_variant(client, "increment", lines), 428)

    assert error["code"] == "NOT_FOUND"
    assert error["data"]["originalIndex"] == 1
    assert get(client, item["id"]) == item


def test_by_variant_decrement_honours_restrict_inventory(client):
    item = create(client, quantity=1)
    line = {"variantId": item["variantId"], "decrementBy": 3}

    refused = by_variant(client, "decrement", [line])
    allowed = by_variant(client, "decrement", [line], restrictInventory=False, returnEntity=True)

    assert application_error(refused, 428)["code"] == "INSUFFICIENT_INVENTORY"
    assert allowed.json()["results"][0]["item"]["quantity"] == -2


def upsert(client, elements, **options):
    return client.post(f"{BULK}/upsert", json={"inventoryItems": elements} | options)


def test_upsert_creates_missing_items_and_updates_existing_ones(client):
    existing = create(client, productId="p", quantity=5)
    fresh = guid()

    response = upsert(
        client,
        [
            {
                "inventoryItem": {
                    "productId": "p",
                    "variantId": existing["variantId"],
                    "quantity": 9,
                }
            },
            {"inventoryItem": {"productId": "p", "variantId": fresh, "inStock": True}},
        ],
        returnEntity=True,
    )

    updated, created = (r["item"] for r in response.json()["results"])
    assert (updated["id"], updated["quantity"], updated["revision"]) == (existing["id"], 9, "2")
    assert (created["variantId"], created["inStock"], created["revision"]) == (fresh, True, "1")
    assert created["locationId"] == existing["locationId"]


def test_upsert_with_a_field_mask_changes_only_masked_fields_of_existing_items(client):
    existing = create(client, productId="p", quantity=5)
    element = {
        "inventoryItem": {
            "productId": "p",
            "variantId": existing["variantId"],
            "quantity": 9,
            "preorderInfo": {"enabled": True},
        },
        "fieldMask": "quantity",
    }

    response = upsert(client, [element], returnEntity=True)

    item = response.json()["results"][0]["item"]
    assert (item["quantity"], item["preorderInfo"]["enabled"]) == (9, False)


def test_upsert_refuses_a_repeated_key_whole(client):
    variant = guid()
    element = {"inventoryItem": {"productId": "p", "variantId": variant, "quantity": 1}}

    (violation,) = violations(upsert(client, [element, element]))

    assert violation["ruleName"] == "DUPLICATE_BULK_UPSERT_KEY"
    assert violation["field"] == "inventoryItems[1]"
    assert create(client, variantId=variant)["revision"] == "1"  # nothing was stored


def test_upsert_reports_a_negative_target_quantity_per_element(client):
    response = upsert(
        client, [{"inventoryItem": {"productId": "p", "variantId": guid(), "quantity": -1}}]
    )

    assert (
        response.json()["results"][0]["itemMetadata"]["error"]["code"] == "INVALID_TARGET_QUANTITY"
    )


def test_upsert_of_a_variant_stocked_under_another_product_fails_per_element(client):
    existing = create(client, productId="p")

    response = upsert(
        client,
        [{"inventoryItem": {"productId": "q", "variantId": existing["variantId"], "quantity": 1}}],
    )

    assert response.json()["results"][0]["itemMetadata"]["error"]["code"] == "ITEM_ALREADY_EXISTS"
    assert get(client, existing["id"]) == existing
