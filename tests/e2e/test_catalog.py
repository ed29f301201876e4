"""Products, locations and the rules inventory takes from them, over HTTP."""

import httpx
import pytest

from tests.factories import guid

from .helpers import (
    BULK,
    ITEMS,
    application_error,
    create,
    decrement,
    get,
    stock_line,
    violations,
    wait_for,
)

PRODUCTS = "/stores/v3/products"
WITH_INVENTORY = "/stores/v3/products-with-inventory"
LOCATIONS = "/stores/v3/locations"


def color(name):
    return {"optionChoiceNames": {"optionName": "Color", "choiceName": name}}


def a_product(**fields):
    variants = [
        {"sku": "SCARF-RED", "barcode": "0001", "choices": [color("Red")]},
        {"sku": "SCARF-BLUE", "visible": False, "choices": [color("Blue")]},
    ]
    return {
        "name": "Wool Scarf",
        "brand": {"id": guid(), "name": "Acme"},
        "directCategoriesInfo": {"categories": [{"id": guid()}]},
        "media": {"main": {"url": "https://example.invalid/scarf.jpg"}},
        "variantsInfo": {"variants": variants},
    } | fields


def create_product(client, **fields):
    response = client.post(PRODUCTS, json={"product": a_product(**fields)})
    assert response.status_code == 200, response.text
    return response.json()["product"]


def variant_ids(product):
    return [v["id"] for v in product["variantsInfo"]["variants"]]


def stock(client, product, index=0, **fields):
    body = {"productId": product["id"], "variantId": variant_ids(product)[index], "quantity": 5}
    return create(client, **(body | fields))


def test_a_product_keeps_the_fields_stockroom_does_not_model(client):
    product = create_product(client)

    fetched = client.get(f"{PRODUCTS}/{product['id']}").json()["product"]

    assert fetched["media"] == {"main": {"url": "https://example.invalid/scarf.jpg"}}
    assert fetched["revision"] == "1"
    assert fetched["productType"] == "PHYSICAL"
    assert len(variant_ids(fetched)) == 2
    assert fetched["inventory"] == {
        "availabilityStatus": "OUT_OF_STOCK",
        "preorderStatus": "DISABLED",
        "preorderAvailability": "NO_VARIANTS",
    }


def test_items_carry_the_product_summary(client):
    product = create_product(client)

    item = stock(client, product)

    assert item["product"] == {
        "name": "Wool Scarf",
        "directCategoryIds": [c["id"] for c in product["directCategoriesInfo"]["categories"]],
        "variantName": "Red",
        "variantSku": "SCARF-RED",
        "variantBarcode": "0001",
        "variantVisible": True,
        "brand": product["brand"],
    }


def test_renaming_a_product_and_a_sku_reaches_get_query_and_search(client):
    product = create_product(client)
    item = stock(client, product)
    variants = product["variantsInfo"]["variants"]
    variants[0]["sku"] = "SHAWL-RED"

    change = {"revision": "1", "name": "Silk Shawl", "variantsInfo": {"variants": variants}}

    renamed = client.patch(f"{PRODUCTS}/{product['id']}", json={"product": change})

    assert renamed.status_code == 200, renamed.text
    assert get(client, item["id"])["product"]["name"] == "Silk Shawl"
    queried = client.post(
        f"{ITEMS}/query", json={"query": {"filter": {"product.variantSku": "SHAWL-RED"}}}
    ).json()
    assert [i["id"] for i in queried["inventoryItems"]] == [item["id"]]
    searched = client.post(
        f"{ITEMS}/search", json={"search": {"search": {"expression": "silk shawl", "mode": "AND"}}}
    ).json()
    assert [i["id"] for i in searched["inventoryItems"]] == [item["id"]]
    fuzzy = client.post(
        f"{ITEMS}/search", json={"search": {"search": {"expression": "shwal", "fuzzy": True}}}
    ).json()
    assert [i["id"] for i in fuzzy["inventoryItems"]] == [item["id"]]


def test_a_stale_product_revision_is_a_409(client):
    product = create_product(client)
    client.patch(f"{PRODUCTS}/{product['id']}", json={"product": {"revision": "1", "name": "New"}})

    response = client.patch(
        f"{PRODUCTS}/{product['id']}", json={"product": {"revision": "1", "name": "Newer"}}
    )

    assert application_error(response, 409)["code"] == "REVISION_MISMATCH"


def test_the_inventory_summary_follows_every_stock_change(client):
    product = create_product(client)
    red = stock(client, product, 0, quantity=1)
    stock(client, product, 1, quantity=2)

    def summary():
        return client.get(f"{PRODUCTS}/{product['id']}").json()["product"]["inventory"][
            "availabilityStatus"
        ]

    before = summary()
    decrement(client, [stock_line(red, 1)])
    after = summary()

    assert (before, after) == ("IN_STOCK", "PARTIALLY_OUT_OF_STOCK")


def test_variant_inventory_statuses_reflect_the_default_location_only(client):
    product = create_product(client)
    berlin = client.post(LOCATIONS, json={"storesLocation": {"name": "Berlin"}}).json()[
        "storesLocation"
    ]
    stock(client, product, 0, quantity=9, locationId=berlin["id"])

    fetched = client.get(f"{PRODUCTS}/{product['id']}").json()["product"]

    assert [v["inventoryStatus"] for v in fetched["variantsInfo"]["variants"]] == [
        {"inStock": False, "preorderEnabled": False},
        {"inStock": False, "preorderEnabled": False},
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"productType": "DIGITAL"},
        {"subscriptionDetails": {"subscriptions": [{"frequency": "MONTH"}]}},
    ],
)
def test_preorder_is_refused_for_digital_products_and_subscriptions(client, fields):
    product = create_product(client, **fields)
    body = {
        "productId": product["id"],
        "variantId": variant_ids(product)[0],
        "quantity": 0,
        "preorderInfo": {"enabled": True},
    }
    plain = stock(client, product, 1, quantity=0)

    created = client.post(ITEMS, json={"inventoryItem": body})
    updated = client.patch(
        f"{ITEMS}/{plain['id']}",
        json={"inventoryItem": {"revision": "1", "preorderInfo": {"enabled": True}}},
    )

    assert application_error(created, 428)["code"] == "PRE_ORDER_VALIDATION"
    assert application_error(updated, 428)["code"] == "PRE_ORDER_VALIDATION"
    assert get(client, plain["id"]) == plain


def test_once_a_store_keeps_products_items_must_name_their_variants(client):
    product = create_product(client)

    unknown_variant = client.post(
        ITEMS,
        json={"inventoryItem": {"productId": product["id"], "variantId": guid(), "quantity": 1}},
    )
    wrong_product = client.post(
        ITEMS,
        json={
            "inventoryItem": {
                "productId": "other",
                "variantId": variant_ids(product)[0],
                "quantity": 1,
            }
        },
    )

    assert application_error(unknown_variant, 404)["code"] == "NOT_FOUND"
    assert application_error(wrong_product, 404)["code"] == "NOT_FOUND"


def test_deleting_a_product_deletes_its_items(client):
    product = create_product(client)
    items = [stock(client, product, 0), stock(client, product, 1)]

    response = client.delete(f"{PRODUCTS}/{product['id']}")

    assert (response.status_code, response.json()) == (200, {})
    for item in items:
        assert application_error(client.get(f"{ITEMS}/{item['id']}"), 404)["code"] == "NOT_FOUND"
    assert application_error(client.get(f"{PRODUCTS}/{product['id']}"), 404)["code"] == "NOT_FOUND"


def test_dropping_a_variant_deletes_its_items(client):
    product = create_product(client)
    red, blue = stock(client, product, 0), stock(client, product, 1)
    keep = product["variantsInfo"]["variants"][:1]

    client.patch(
        f"{PRODUCTS}/{product['id']}",
        json={"product": {"revision": "1", "variantsInfo": {"variants": keep}}},
    )

    assert get(client, red["id"])["revision"] == "1"
    assert client.get(f"{ITEMS}/{blue['id']}").status_code == 404


def test_create_product_with_inventory_creates_items_at_the_default_location(client):
    default = client.get(f"{LOCATIONS}/default").json()["storesLocation"]
    body = a_product()
    body["variantsInfo"]["variants"][0]["inventoryItem"] = {"quantity": 7}
    body["variantsInfo"]["variants"][1]["inventoryItem"] = {"inStock": True}

    response = client.post(WITH_INVENTORY, json={"product": body, "returnEntity": True})

    created = response.json()
    results = created["inventoryResults"]["results"]
    assert [r["item"]["locationId"] for r in results] == [default["id"]] * 2
    assert [r["item"].get("quantity") for r in results] == [7, None]
    assert created["product"]["inventory"]["availabilityStatus"] == "IN_STOCK"
    assert created["inventoryResults"]["bulkActionMetadata"]["totalSuccesses"] == 2


def test_update_product_with_inventory_updates_and_creates_items(client):
    body = a_product()
    body["variantsInfo"]["variants"][0]["inventoryItem"] = {"quantity": 1}
    created = client.post(WITH_INVENTORY, json={"product": body, "returnEntity": True}).json()
    item_id = created["inventoryResults"]["results"][0]["item"]["id"]
    variants = created["product"]["variantsInfo"]["variants"]
    variants[0]["inventoryItem"] = {"id": item_id, "quantity": 30}
    variants[1]["inventoryItem"] = {"quantity": 4}

    response = client.patch(f"{WITH_INVENTORY}/{created['product']['id']}", json={
        "product": {"revision": "1", "variantsInfo": {"variants": variants}}, "returnEntity": True,
    })  # fmt: skip

    results = response.json()["inventoryResults"]["results"]
    assert [r["item"]["quantity"] for r in results] == [30, 4]
    assert results[0]["item"]["id"] == item_id


def test_bulk_create_products_with_inventory(client):
    first, second = a_product(), a_product(name="Hat")
    second["variantsInfo"]["variants"][0]["inventoryItem"] = {"quantity": 2}

    response = client.post(
        "/stores/v3/bulk/products-with-inventory/create",
        json={"products": [first, second], "returnEntity": True},
    )

    body = response.json()
    assert body["bulkActionMetadata"]["totalSuccesses"] == 2
    assert body["results"][1]["item"]["name"] == "Hat"


@pytest.mark.parametrize(
    ("product", "field"),
    [
        ({"name": "x" * 81}, "product.name"),
        ({"productType": "SERVICE"}, "product.productType"),
        (
            {"variantsInfo": {"variants": [{"id": "not-a-guid"}]}},
            "product.variantsInfo.variants[0].id",
        ),
        (
            {"variantsInfo": {"variants": [{"sku": "s" * 41}]}},
            "product.variantsInfo.variants[0].sku",
        ),
        ({"variantsInfo": {"variants": []}}, "product.variantsInfo.variants"),
        ({"brand": {"name": "b" * 51}}, "product.brand.name"),
        (
            {"variantsInfo": {"variants": [{"inventoryItem": {"quantity": "ten"}}]}},
            "product.variantsInfo.variants[0].inventoryItem.quantity",
        ),
    ],
)
def test_invalid_products_are_400s_naming_the_field(client, product, field):
    response = client.post(WITH_INVENTORY, json={"product": a_product() | product})

    assert violations(response)[0]["field"] == field


def test_products_query_pages_with_cursors(client):
    for name in ("A", "B", "C"):
        create_product(client, name=name)

    first = client.post(
        f"{PRODUCTS}/query",
        json={"query": {"sort": [{"fieldName": "name"}], "cursorPaging": {"limit": 2}}},
    ).json()
    second = client.post(
        f"{PRODUCTS}/query",
        json={"query": {"cursorPaging": {"cursor": first["pagingMetadata"]["cursors"]["next"]}}},
    ).json()

    assert [p["name"] for p in first["products"] + second["products"]] == ["A", "B", "C"]


def test_locations_default_get_query_create_rename_archive(client):
    default = client.get(f"{LOCATIONS}/default").json()["storesLocation"]
    created = client.post(
        LOCATIONS, json={"storesLocation": {"name": "Berlin", "locationType": "PHYSICAL"}}
    ).json()["storesLocation"]
    renamed = client.patch(
        f"{LOCATIONS}/{created['id']}",
        json={"storesLocation": {"name": "Berlin Mitte", "revision": "1"}},
    ).json()["storesLocation"]
    archived = client.post(f"{LOCATIONS}/{created['id']}/archive").json()["storesLocation"]
    listed = client.post(
        f"{LOCATIONS}/query", json={"query": {"filter": {"defaultLocation": False}}}
    ).json()

    assert default["defaultLocation"] is True
    assert (renamed["name"], renamed["revision"]) == ("Berlin Mitte", "2")
    assert archived["archived"] is True
    assert [loc["id"] for loc in listed["storesLocations"]] == [created["id"]]
    assert (
        client.get(f"{LOCATIONS}/{created['id']}").json()["storesLocation"]["name"]
        == "Berlin Mitte"
    )
    refused = client.post(
        ITEMS,
        json={
            "inventoryItem": {
                "productId": "p",
                "variantId": guid(),
                "locationId": created["id"],
                "quantity": 1,
            }
        },
    )
    assert application_error(refused, 404)["code"] == "NOT_FOUND"


def test_archiving_a_location_with_stock_or_the_default_is_refused(client):
    berlin = client.post(LOCATIONS, json={"storesLocation": {"name": "Berlin"}}).json()[
        "storesLocation"
    ]
    create(client, locationId=berlin["id"], quantity=3)
    default = client.get(f"{LOCATIONS}/default").json()["storesLocation"]

    holding = client.post(f"{LOCATIONS}/{berlin['id']}/archive")
    the_default = client.post(f"{LOCATIONS}/{default['id']}/archive")

    assert application_error(holding, 428)["code"] == "LOCATION_HOLDS_STOCK"
    assert application_error(the_default, 428)["code"] == "DEFAULT_LOCATION_CANNOT_BE_ARCHIVED"
    assert client.get(f"{LOCATIONS}/{berlin['id']}").json()["storesLocation"]["archived"] is False


def test_create_by_variant_filter_stocks_matching_variants_at_a_location(client):
    product = create_product(client)
    berlin = client.post(LOCATIONS, json={"storesLocation": {"name": "Berlin"}}).json()[
        "storesLocation"
    ]

    response = client.post(f"{BULK}/create-by-variant-filter", json={
        "filter": {"productId": product["id"], "visible": True},
        "locationId": berlin["id"],
        "inventoryCreationData": {"quantity": 12},
    })  # fmt: skip
    job = wait_for(client, response.json()["jobId"])
    found = client.post(
        f"{ITEMS}/query", json={"query": {"filter": {"locationId": berlin["id"]}}}
    ).json()["inventoryItems"]

    assert job["counters"] == {"itemsToProcess": 1, "itemsSucceeded": 1, "itemsFailed": 0}
    assert [(i["variantId"], i["quantity"]) for i in found] == [(variant_ids(product)[0], 12)]


def test_two_stores_with_identical_variant_ids_never_meet(live_server):
    variant, product_id = guid(), guid()
    stores = [guid(), guid()]
    clients = [httpx.Client(base_url=live_server.url, headers={"wix-site-id": s}) for s in stores]
    product = a_product(
        id=product_id,
        variantsInfo={"variants": [{"id": variant, "inventoryItem": {"quantity": 10}}]},
    )
    created = [
        c.post(WITH_INVENTORY, json={"product": product, "returnEntity": True}).json()
        for c in clients
    ]
    first_item = created[0]["inventoryResults"]["results"][0]["item"]
    second_item = created[1]["inventoryResults"]["results"][0]["item"]

    clients[0].post(
        f"{BULK}/decrement-by-variant-and-location",
        json={"decrementData": [{"variantId": variant, "decrementBy": 4}]},
    )
    cursor = (
        clients[0]
        .post(f"{ITEMS}/query", json={"query": {"cursorPaging": {"limit": 1}}})
        .json()["pagingMetadata"]["cursors"]
    )
    job = (
        clients[1]
        .post(f"{BULK}/delete-by-filter", json={"filter": {"variantId": variant}})
        .json()["jobId"]
    )

    wait_for(clients[1], job)
    assert first_item["id"] != second_item["id"]
    assert first_item["locationId"] != second_item["locationId"]
    assert clients[0].get(f"{ITEMS}/{first_item['id']}").json()["inventoryItem"]["quantity"] == 6
    assert clients[1].get(f"{ITEMS}/{first_item['id']}").status_code == 404
    assert (
        clients[1].get(f"{ITEMS}/{second_item['id']}").status_code == 404
    )  # its own, deleted by its job
    assert (
        clients[1]
        .get(f"{PRODUCTS}/{product_id}")
        .json()["product"]["inventory"]["availabilityStatus"]
        == "OUT_OF_STOCK"
    )
    assert (
        clients[0]
        .get(f"{PRODUCTS}/{product_id}")
        .json()["product"]["inventory"]["availabilityStatus"]
        == "IN_STOCK"
    )
    assert clients[1].get(f"{LOCATIONS}/{first_item['locationId']}").status_code == 404
    assert "next" not in cursor
    for c in clients:
        c.close()
