import base64
import json
import threading

import anyio
import httpx
import pytest

from stockroom.api.app import create_app
from stockroom.settings import Settings
from tests.factories import guid

from .helpers import BULK, ITEMS, violations


def stock_some(client, count=12, **fields):
    elements = [
        {"productId": f"p{i % 3}", "variantId": guid(), "quantity": i} | fields
        for i in range(count)
    ]
    response = client.post(
        f"{BULK}/create", json={"inventoryItems": elements, "returnEntity": True}
    )
    return [r["item"] for r in response.json()["results"]]


def r_parameter(body):
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def test_query_defaults_to_newest_first_and_pages_by_cursor(client):
    items = stock_some(client, 5)

    first = client.post(f"{ITEMS}/query", json={"query": {"cursorPaging": {"limit": 3}}}).json()
    second = client.post(
        f"{ITEMS}/query",
        json={"query": {"cursorPaging": {"cursor": first["pagingMetadata"]["cursors"]["next"]}}},
    ).json()

    seen = [i["id"] for i in first["inventoryItems"] + second["inventoryItems"]]
    assert sorted(seen) == sorted(i["id"] for i in items)
    assert first["pagingMetadata"]["count"] == 3
    assert "prev" not in first["pagingMetadata"]["cursors"]
    assert "next" not in second["pagingMetadata"]["cursors"]
    assert "prev" in second["pagingMetadata"]["cursors"]


def test_query_filters_and_sorts(client):
    stock_some(client, 9)

    response = client.post(f"{ITEMS}/query", json={"query": {
        "filter": {"$and": [{"productId": {"$in": ["p1", "p2"]}}, {"quantity": {"$ge": 4}}]},
        "sort": [{"fieldName": "quantity", "order": "ASC"}],
    }})  # fmt: skip

    assert [i["quantity"] for i in response.json()["inventoryItems"]] == [4, 5, 7, 8]


def test_query_by_get_with_an_r_parameter_and_the_sdk_prefix(client):
    stock_some(client, 4)
    body = {"query": {"filter": {"quantity": {"$lt": 2}}, "sort": [{"fieldName": "quantity"}]}}

    response = client.get(
        "/_api/inventory/v3/inventory-items/query", params={".r": r_parameter(body)}
    )

    assert [i["quantity"] for i in response.json()["inventoryItems"]] == [0, 1]


def test_search_finds_by_text_and_aggregates(client):
    stock_some(client, 6)

    response = client.post(f"{ITEMS}/search", json={"search": {
        "filter": {"availabilityStatus": {"$in": ["IN_STOCK", "OUT_OF_STOCK"]}},
        "aggregations": [{"name": "byStatus", "type": "VALUE", "fieldPath": "availabilityStatus"}],
        "cursorPaging": {"limit": 2},
    }})  # fmt: skip

    body = response.json()
    assert body["pagingMetadata"]["hasNext"] is True
    counts = [{"value": "IN_STOCK", "count": 5}, {"value": "OUT_OF_STOCK", "count": 1}]
    assert body["aggregationData"]["results"] == [
        {
            "name": "byStatus",
            "type": "VALUE",
            "fieldPath": "availabilityStatus",
            "values": {"results": counts},
        },
    ]


def test_count_counts_matches_by_post_and_by_get(client):
    stock_some(client, 7)
    body = {"filter": {"quantity": {"$gt": 3}}}

    by_post = client.post(f"{ITEMS}/count", json=body).json()
    by_get = client.get(f"{ITEMS}/count", params={".r": r_parameter(body)}).json()
    everything = client.get(f"{ITEMS}/count").json()

    assert by_post == by_get == {"count": 3}
    assert everything == {"count": 7}


def test_a_cursor_from_another_store_is_refused(client, live_server):
    stock_some(client, 3)
    cursor = client.post(f"{ITEMS}/query", json={"query": {"cursorPaging": {"limit": 1}}}).json()[
        "pagingMetadata"
    ]["cursors"]["next"]

    stranger = httpx.post(
        f"{live_server.url}{ITEMS}/query",
        headers={"wix-site-id": guid()},
        json={"query": {"cursorPaging": {"cursor": cursor}}},
    )

    assert violations(stranger)[0]["field"] == "query.cursorPaging.cursor"


def test_a_tampered_cursor_is_refused(client):
    stock_some(client, 3)
    cursor = client.post(f"{ITEMS}/query", json={"query": {"cursorPaging": {"limit": 1}}}).json()[
        "pagingMetadata"
    ]["cursors"]["next"]
    body, _, signature = cursor.partition(".")
    tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + signature

    response = client.post(f"{ITEMS}/query", json={"query": {"cursorPaging": {"cursor": tampered}}})

    assert violations(response)[0]["violatedRule"] == "FORMAT"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"filter": {"color": "red"}}, "query.filter.color"),
        ({"filter": {"quantity": {"$startsWith": "1"}}}, "query.filter.quantity.$startsWith"),
        ({"filter": {"quantity": {"$gt": "many"}}}, "query.filter.quantity.$gt"),
        ({"filter": {"quantity": {"$in": 5}}}, "query.filter.quantity.$in"),
        ({"filter": {"availabilityStatus": "SOLD"}}, "query.filter.availabilityStatus.$eq"),
        ({"filter": {"createdDate": {"$gt": "yesterday"}}}, "query.filter.createdDate.$gt"),
        ({"filter": {"$or": []}}, "query.filter.$or"),
        ({"filter": {"$nor": [{}]}}, "query.filter.$nor"),
        ({"filter": {"inStock": {"$gt": True}}}, "query.filter.inStock.$gt"),
        ({"filter": {"preorderInfo.limit": 5}}, "query.filter.preorderInfo.limit"),
        ({"filter": {"quantity": {"nested": 1}}}, "query.filter.quantity"),
        ({"sort": [{"fieldName": "id"}]}, "query.sort[0].fieldName"),
        ({"sort": [{"fieldName": "quantity", "order": "UP"}]}, "query.sort[0].order"),
        (
            {"sort": [{"fieldName": "quantity"}, {"fieldName": "quantity"}]},
            "query.sort[1].fieldName",
        ),
        ({"sort": [{"fieldName": "quantity"}] * 11}, "query.sort"),
        ({"cursorPaging": {"limit": 1001}}, "query.cursorPaging.limit"),
        ({"cursorPaging": {"limit": 0}}, "query.cursorPaging.limit"),
        ({"cursorPaging": {"cursor": "not-a-cursor"}}, "query.cursorPaging.cursor"),
        ({"cursorPaging": {"cursor": "x" * 16001}}, "query.cursorPaging.cursor"),
        ({"paging": {"offset": 10}}, "query.paging"),
    ],
)
def test_invalid_queries_are_400s_naming_the_field(client, query, field):
    response = client.post(f"{ITEMS}/query", json={"query": query})

    assert violations(response)[0]["field"] == field


def test_filters_past_the_complexity_limits_are_400s(client):
    deep: dict[str, object] = {"quantity": 1}
    for _ in range(12):
        deep = {"$not": deep}
    wide = {"$or": [{"quantity": i} for i in range(301)]}

    assert (
        violations(client.post(f"{ITEMS}/query", json={"query": {"filter": deep}}))[0][
            "violatedRule"
        ]
        == "MAX"
    )
    assert (
        violations(client.post(f"{ITEMS}/query", json={"query": {"filter": wide}}))[0][
            "violatedRule"
        ]
        == "MAX"
    )


@pytest.mark.parametrize(
    ("search", "field"),
    [
        ({"search": {"expression": "x" * 101}}, "search.search.expression"),
        ({"search": {"expression": "x", "fields": ["productId"]}}, "search.search.fields[0]"),
        ({"search": {"expression": "x", "mode": "XOR"}}, "search.search.mode"),
        (
            {"aggregations": [{"type": "VALUE", "fieldPath": "nope"}]},
            "search.aggregations[0].fieldPath",
        ),
        (
            {
                "aggregations": [
                    {"type": "RANGE", "fieldPath": "productId", "range": {"buckets": [{"to": 1}]}}
                ]
            },
            "search.aggregations[0].range",
        ),
        (
            {
                "aggregations": [
                    {"type": "SCALAR", "fieldPath": "quantity", "scalar": {"type": "MEDIAN"}}
                ]
            },
            "search.aggregations[0].scalar.type",
        ),
        (
            {"aggregations": [{"type": "VALUE", "fieldPath": "quantity", "value": {"limit": 251}}]},
            "search.aggregations[0].value.limit",
        ),
        ({"timeZone": "Mars/Olympus"}, "search.timeZone"),
    ],
)
def test_invalid_searches_are_400s_naming_the_field(client, search, field):
    response = client.post(f"{ITEMS}/search", json={"search": search})

    assert violations(response)[0]["field"] == field


def test_a_malformed_r_parameter_is_a_400(client):
    response = client.get(f"{ITEMS}/query", params={".r": "%%%"})

    assert violations(response)[0]["field"] == ".r"


def test_each_search_hands_back_its_memory_once_it_has_answered_even_refused(tmp_path):
    released = []
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'search.db'}", run_jobs=False)
    app = create_app(settings, after_search=lambda: released.append(threading.get_ident()))

    async def requests():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                found = await client.post(f"{ITEMS}/search", json={"search": {}})
                refused = await client.post(
                    f"{ITEMS}/search", json={"search": {"filter": {"noSuchField": 1}}}
                )
                queried = await client.post(f"{ITEMS}/query", json={"query": {}})
        return found.status_code, refused.status_code, queried.status_code

    assert anyio.run(requests) == (200, 400, 200)
    assert len(released) == 2  # each search, on its own thread; never a query
    assert threading.get_ident() not in released


@pytest.mark.parametrize(("connected", "status"), [(True, 200), (False, 499)])
def test_a_search_whose_client_went_away_while_it_waited_is_not_run(tmp_path, connected, status):
    """ASGI straight: the client sends its search, then stays or hangs up. One that hung up
    gets no search run (nor the memory hand-back after it); 499 is what the log shows."""
    released = []
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'gone.db'}", run_jobs=False)
    app = create_app(settings, after_search=lambda: released.append(1))
    body = json.dumps({"search": {}}).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": f"{ITEMS}/search", "raw_path": f"{ITEMS}/search".encode(),
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1), "server": None,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    sent = []

    async def request():
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():  # as uvicorn's: a lost connection answers at once
            if not messages and connected:
                await anyio.sleep_forever()
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        async with app.router.lifespan_context(app):
            await app(scope, receive, send)

    anyio.run(request)
    assert sent[0]["status"] == status
    assert len(released) == (1 if connected else 0)
