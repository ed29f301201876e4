import httpx
import pytest

from tests.factories import guid

from .helpers import BULK, ITEMS, application_error, create, get, violations


def patch(client, item, **fields):
    body = {"inventoryItem": {"revision": item["revision"]} | fields}
    return client.patch(f"{ITEMS}/{item['id']}", json=body)


def test_update_changes_what_was_sent_and_advances_revision_and_updated_date(client):
    item = create(client, quantity=5, preorderInfo={"enabled": True, "message": "soon"})

    response = patch(client, item, quantity=0, preorderInfo={"limit": 50})

    assert response.status_code == 200, response.text
    updated = response.json()["inventoryItem"]
    assert updated["revision"] == "2"
    assert updated["quantity"] == 0
    assert updated["availabilityStatus"] == "PREORDER"
    assert updated["preorderInfo"] == {
        "enabled": True,
        "message": "soon",
        "limit": 50,
        "counter": 0,
        "quantity": 50,
    }
    assert updated["updatedDate"] >= item["updatedDate"]
    assert updated["createdDate"] == item["createdDate"]
    assert get(client, item["id"]) == updated


def test_update_accepts_the_revision_as_an_integer(client):
    item = create(client)

    response = client.patch(
        f"{ITEMS}/{item['id']}", json={"inventoryItem": {"revision": 1, "quantity": 3}}
    )

    assert response.json()["inventoryItem"]["revision"] == "2"


def test_update_without_revision_is_a_400_and_changes_nothing(client):
    item = create(client)

    response = client.patch(f"{ITEMS}/{item['id']}", json={"inventoryItem": {"quantity": 3}})

    (violation,) = violations(response)
    assert (violation["field"], violation["violatedRule"]) == (
        "inventoryItem.revision",
        "REQUIRED_FIELD",
    )
    assert violation["description"] == "revision must not be empty"
    assert get(client, item["id"]) == item


@pytest.mark.parametrize("revision", ["two", "-1", 1.5, True])
def test_update_with_a_malformed_revision_is_a_400(client, revision):
    item = create(client)

    response = client.patch(
        f"{ITEMS}/{item['id']}", json={"inventoryItem": {"revision": revision, "quantity": 3}}
    )

    assert violations(response)[0]["field"] == "inventoryItem.revision"
    assert get(client, item["id"]) == item


def test_update_with_a_stale_revision_is_a_409_and_changes_nothing(client):
    item = create(client)
    current = patch(client, item, quantity=4).json()["inventoryItem"]

    response = patch(client, item, quantity=99)

    error = application_error(response, 409)
    assert error["code"] == "REVISION_MISMATCH"
    assert error["data"]["revision"] == "2"
    assert get(client, item["id"]) == current


def test_update_of_an_unknown_item_is_a_404(client):
    response = client.patch(
        f"{ITEMS}/{guid()}", json={"inventoryItem": {"revision": "1", "quantity": 1}}
    )

    assert application_error(response, 404)["code"] == "NOT_FOUND"


def test_update_whose_body_id_differs_from_the_path_is_a_400(client):
    item = create(client)

    response = patch(client, item, id=guid(), quantity=1)

    assert violations(response)[0]["field"] == "inventoryItem.id"
    assert get(client, item["id"]) == item


@pytest.mark.parametrize("name", ["variantId", "locationId"])
def test_changing_an_immutable_field_is_a_400_and_resending_it_is_fine(client, name):
    item = create(client)

    refused = patch(client, item, **{name: guid()})
    accepted = patch(client, item, **{name: item[name]})

    (violation,) = violations(refused)
    assert (violation["field"], violation["violatedRule"]) == (f"inventoryItem.{name}", "IMMUTABLE")
    assert accepted.status_code == 200


def test_lowering_the_quantity_below_zero_is_a_428_and_changes_nothing(client):
    item = create(client, quantity=2)

    response = patch(client, item, quantity=-1)

    assert (
        application_error(response, 428)["code"]
        == "REQUESTED_QUANTITY_MUST_BE_NON_NEGATIVE_DECREASING"
    )
    assert get(client, item["id"]) == item


def test_a_preorder_limit_on_a_flag_item_is_a_428(client):
    item = create(client, quantity=None, inStock=True)

    response = patch(client, item, preorderInfo={"enabled": True, "limit": 5})

    assert application_error(response, 428)["code"] == "PRE_ORDER_VALIDATION"
    assert get(client, item["id"]) == item


def test_sending_both_tracking_fields_is_a_one_of_violation(client):
    item = create(client)

    (violation,) = violations(patch(client, item, quantity=1, inStock=True))

    assert violation["violatedRule"] == "ONE_OF"


def test_switching_tracking_methods_back_and_forth(client):
    item = create(client, quantity=None, inStock=True)

    counted = patch(client, item, quantity=12).json()["inventoryItem"]
    flagged = patch(client, counted, inStock=False).json()["inventoryItem"]

    assert (counted["trackQuantity"], counted["quantity"], "inStock" in counted) == (
        True,
        12,
        False,
    )
    assert (flagged["trackQuantity"], flagged["inStock"], "quantity" in flagged) == (
        False,
        False,
        False,
    )
    assert flagged["availabilityStatus"] == "OUT_OF_STOCK"
    assert flagged["revision"] == "3"


def test_a_null_preorder_limit_restores_the_default(client):
    item = create(client, preorderInfo={"enabled": True, "limit": 3})

    updated = patch(client, item, preorderInfo={"enabled": False, "limit": None}).json()[
        "inventoryItem"
    ]

    assert updated["preorderInfo"] == {
        "enabled": False,
        "limit": 100000,
        "counter": 0,
        "quantity": 100000,
    }


def test_bulk_update_reports_each_element(client):
    first, second, third = create(client), create(client), create(client, quantity=1)
    body = {
        "inventoryItems": [
            {"inventoryItem": {"id": first["id"], "revision": "1", "quantity": 40}},
            {"inventoryItem": {"id": second["id"], "revision": "9", "quantity": 40}},
            {"inventoryItem": {"id": guid(), "revision": "1", "quantity": 40}},
            {"inventoryItem": {"id": third["id"], "revision": "1", "quantity": -3}},
        ],
        "returnEntity": True,
        "reason": "MANUAL",
    }

    response = client.post(f"{BULK}/update", json=body)

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["itemMetadata"]["success"] for r in results] == [True, False, False, False]
    assert [r["itemMetadata"].get("error", {}).get("code") for r in results] == [
        None,
        "REVISION_MISMATCH",
        "NOT_FOUND",
        "REQUESTED_QUANTITY_MUST_BE_NON_NEGATIVE_DECREASING",
    ]
    assert results[0]["item"]["quantity"] == 40
    assert results[1]["itemMetadata"]["id"] == second["id"]
    assert get(client, second["id"]) == second
    assert get(client, third["id"]) == third


def test_bulk_update_with_a_field_mask_changes_only_the_masked_fields(client):
    item = create(client, quantity=5)
    element = {
        "inventoryItem": {
            "id": item["id"],
            "revision": "1",
            "quantity": 9,
            "preorderInfo": {"enabled": True},
        },
        "fieldMask": "preorderInfo.enabled",
    }

    response = client.post(
        f"{BULK}/update", json={"inventoryItems": [element], "returnEntity": True}
    )

    updated = response.json()["results"][0]["item"]
    assert (updated["quantity"], updated["preorderInfo"]["enabled"]) == (5, True)


@pytest.mark.parametrize(
    "element",
    [
        {"inventoryItem": {"revision": "1", "quantity": 1}},
        {"inventoryItem": {"id": "f27ee649-ba6b-493d-b758-75816208cf2e", "quantity": 1}},
        {},
    ],
)
def test_bulk_update_elements_missing_id_or_revision_refuse_the_whole_call(client, element):
    item = create(client)
    good = {"inventoryItem": {"id": item["id"], "revision": "1", "quantity": 2}}

    response = client.post(f"{BULK}/update", json={"inventoryItems": [good, element]})

    assert violations(response)[0]["field"].startswith("inventoryItems[1]")
    assert get(client, item["id"]) == item


def test_an_unknown_reason_is_a_400(client):
    item = create(client)

    response = client.patch(
        f"{ITEMS}/{item['id']}", json={"inventoryItem": {"revision": "1"}, "reason": "THEFT"}
    )

    assert violations(response)[0]["field"] == "reason"


def test_delete_removes_the_item_once(client):
    item = create(client)

    first = client.delete(f"{ITEMS}/{item['id']}")
    second = client.delete(f"{ITEMS}/{item['id']}")

    assert (first.status_code, first.json()) == (200, {})
    assert application_error(second, 404)["code"] == "NOT_FOUND"
    assert application_error(client.get(f"{ITEMS}/{item['id']}"), 404)["code"] == "NOT_FOUND"


def test_a_deleted_items_variant_and_location_can_be_stocked_again(client):
    item = create(client)
    client.delete(f"{ITEMS}/{item['id']}")

    again = create(client, variantId=item["variantId"])

    assert again["id"] != item["id"]


def test_bulk_delete_reports_unknown_ids_and_deletes_the_rest(client):
    item = create(client)
    unknown = guid()

    response = client.post(f"{BULK}/delete", json={"inventoryItemIds": [item["id"], unknown]})

    assert response.json() == {
        "results": [
            {"itemMetadata": {"originalIndex": 0, "success": True, "id": item["id"]}},
            {
                "itemMetadata": {
                    "originalIndex": 1,
                    "success": False,
                    "id": unknown,
                    "error": {
                        "code": "NOT_FOUND",
                        "description": f"inventory item {unknown} does not exist",
                        "data": {"inventoryItemId": unknown},
                    },
                }
            },
        ],
        "bulkActionMetadata": {"totalSuccesses": 1, "totalFailures": 1, "undetailedFailures": 0},
    }


def test_bulk_delete_of_malformed_ids_is_refused_whole(client):
    item = create(client)

    response = client.post(f"{BULK}/delete", json={"inventoryItemIds": [item["id"], "nope"]})

    assert violations(response)[0]["field"] == "inventoryItemIds[1]"
    assert get(client, item["id"]) == item


def test_items_of_one_store_are_invisible_to_another(client, live_server):
    item = create(client)
    stranger = httpx.Client(base_url=live_server.url, headers={"wix-site-id": guid()})

    assert stranger.get(f"{ITEMS}/{item['id']}").status_code == 404
    assert stranger.delete(f"{ITEMS}/{item['id']}").status_code == 404
    assert (
        stranger.patch(
            f"{ITEMS}/{item['id']}", json={"inventoryItem": {"revision": "1", "quantity": 0}}
        ).status_code
        == 404
    )
    assert get(client, item["id"]) == item
    stranger.close()
