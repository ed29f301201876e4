"""Keys, scopes and stores on every route; rate limits; idempotent retries.

The table-driven tests walk the application's own route list, so a route added without a
scope check fails here.
"""

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.routing import Route

from stockroom.api.app import create_app
from stockroom.api.auth import ADMIN, Required
from stockroom.domain.access import SCOPE_GRANTS, Access
from stockroom.settings import Settings
from tests.conftest import database_url
from tests.factories import guid
from tests.live import LiveServer

from .helpers import BULK, ITEMS, application_error

ADMIN_KEY = "admin-" + uuid.uuid4().hex
PUBLIC = {"/health", "/openapi.json"}  # served to anyone, by design


def operations(tmp_path_factory):
    """(method, concrete path, required access) for every route the application serves."""
    folder = tmp_path_factory.mktemp("routes")
    app = create_app(Settings(database_url=f"sqlite:///{folder / 'routes.db'}", run_jobs=False))
    found = []
    for route in app.routes:
        assert isinstance(route, Route)
        operation = getattr(route.endpoint, "operation", None)
        if operation is None:
            assert route.path in PUBLIC, f"{route.path} is served without an operation"
            continue
        path = re.sub(r"\{[^}]+\}", guid(), route.path)
        found.append((operation.method, path, operation.access))
    return found


@pytest.fixture(scope="module")
def guarded(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("guarded")
    server = LiveServer(
        database_url(request, "sqlite", folder), folder / "server.log",
        env={"STOCKROOM_ADMIN_KEY": ADMIN_KEY},
    )  # fmt: skip
    yield server
    server.stop()


@pytest.fixture(scope="module")
def routes(tmp_path_factory):
    return operations(tmp_path_factory)


def issue(server, store, scopes, rate=None):
    response = httpx.post(
        f"{server.url}/stockroom/v1/keys",
        headers={"authorization": ADMIN_KEY},
        json={"storeId": store, "name": "test", "scopes": scopes, "ratePerSecond": rate},
    )
    assert response.status_code == 200, response.text
    return response.json()["secret"]


def granting(access):
    return next(scope for scope, allowed in SCOPE_GRANTS.items() if access in allowed)


def not_granting(access):
    return next(scope for scope, allowed in SCOPE_GRANTS.items() if access not in allowed)


def call(server, method, path, key=None, store=None):
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = key
    if store is not None:
        headers["wix-site-id"] = store
    return httpx.request(method, f"{server.url}{path}", headers=headers, content=b"{}", timeout=30)


def test_every_route_refuses_a_request_without_a_key(guarded, routes):
    for method, path, _ in routes:
        response = call(guarded, method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["details"]["applicationError"]["code"] == "UNAUTHENTICATED"


def test_every_route_refuses_a_key_without_its_scope(guarded, routes):
    store = guid()
    keys = {access: issue(guarded, store, [not_granting(access)]) for access in Access}
    for method, path, required in routes:
        if required == ADMIN:
            continue
        response = call(guarded, method, path, keys[required], store)
        assert response.status_code == 403, (method, path, required, response.text)
        assert response.json()["details"]["applicationError"]["code"] == "PERMISSION_DENIED"


def test_every_route_refuses_a_key_of_another_store(guarded, routes):
    mine, theirs = guid(), guid()
    keys = {access: issue(guarded, theirs, [granting(access)]) for access in Access}
    for method, path, required in routes:
        if required == ADMIN:
            continue
        response = call(guarded, method, path, keys[required], mine)
        assert response.status_code == 403, (method, path, response.text)


def test_every_route_admits_a_key_with_its_scope(guarded, routes):
    store = guid()
    keys: dict[Required, str] = {
        access: issue(guarded, store, [granting(access)]) for access in Access
    }
    keys[ADMIN] = ADMIN_KEY
    for method, path, required in routes:
        response = call(guarded, method, path, keys[required], store)
        assert response.status_code not in (401, 403), (method, path, response.text)
        assert response.status_code < 500, (method, path, response.text)


def test_admin_routes_need_the_admin_key_not_a_store_key(guarded, routes):
    store_key = issue(guarded, guid(), list(SCOPE_GRANTS))
    for method, path, required in routes:
        if required != ADMIN:
            continue
        assert call(guarded, method, path, store_key).status_code == 401, path


def test_a_key_acts_on_its_own_store_whatever_the_header_omits(guarded):
    store = guid()
    key = issue(
        guarded, store, ["SCOPE.STORES.INVENTORY_ITEM_WRITE", "SCOPE.STORES.INVENTORY_ITEM_READ"]
    )
    body = {"inventoryItem": {"productId": "p", "variantId": guid(), "quantity": 1}}

    created = httpx.post(
        f"{guarded.url}{ITEMS}", json=body, headers={"authorization": f"Bearer {key}"}
    )
    item_id = created.json()["inventoryItem"]["id"]
    fetched = httpx.get(
        f"{guarded.url}{ITEMS}/{item_id}", headers={"authorization": key, "wix-site-id": store}
    )

    assert fetched.json()["inventoryItem"]["id"] == item_id


def test_a_revoked_key_stops_working_within_seconds(guarded):
    store = guid()
    key = issue(guarded, store, ["SCOPE.STORES.INVENTORY_ITEM_READ"])
    listed = httpx.get(
        f"{guarded.url}/stockroom/v1/keys",
        params={"storeId": store},
        headers={"authorization": ADMIN_KEY},
    )
    (key_id,) = [k["id"] for k in listed.json()["keys"]]
    assert call(guarded, "GET", f"{ITEMS}/count", key).status_code == 200

    httpx.post(
        f"{guarded.url}/stockroom/v1/keys/{key_id}/revoke",
        json={"storeId": store},
        headers={"authorization": ADMIN_KEY},
    )

    deadline = time.monotonic() + 5
    while call(guarded, "GET", f"{ITEMS}/count", key).status_code == 200:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.2)
    assert call(guarded, "GET", f"{ITEMS}/count", key).status_code == 401


def test_a_key_over_its_rate_gets_429_with_retry_after(guarded):
    key = issue(guarded, guid(), ["SCOPE.STORES.INVENTORY_ITEM_READ"], rate=1)
    started = time.monotonic()

    statuses = [call(guarded, "GET", f"{ITEMS}/count", key) for _ in range(30)]

    # 30 requests within fewer than 29 seconds must put two in one one-second window.
    assert time.monotonic() - started < 29
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert application_error(limited[0], 429)["code"] == "RESOURCE_EXHAUSTED"
    assert int(limited[0].headers["retry-after"]) >= 1


def test_admin_key_management_validates_scopes(guarded):
    response = httpx.post(
        f"{guarded.url}/stockroom/v1/keys",
        headers={"authorization": ADMIN_KEY},
        json={"storeId": "s", "name": "x", "scopes": ["SCOPE.NOPE"]},
    )

    assert response.status_code == 400


def test_a_retried_write_with_its_idempotency_key_applies_once(client):
    created = client.post(
        ITEMS, json={"inventoryItem": {"productId": "p", "variantId": guid(), "quantity": 5}}
    )
    item = created.json()["inventoryItem"]
    body = {
        "decrementData": [{"inventoryItemId": item["id"], "decrementBy": 2}],
        "returnEntity": True,
    }
    key = {"idempotency-key": guid()}

    first = client.post(f"{BULK}/decrement", json=body, headers=key)
    retry = client.post(f"{BULK}/decrement", json=body, headers=key)
    other = client.post(f"{BULK}/decrement", json=body | {"reason": "ORDER"}, headers=key)

    assert first.json() == retry.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert application_error(other, 409)["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert client.get(f"{ITEMS}/{item['id']}").json()["inventoryItem"]["quantity"] == 3


def test_a_refused_write_is_replayed_as_refused(client):
    created = client.post(
        ITEMS, json={"inventoryItem": {"productId": "p", "variantId": guid(), "quantity": 1}}
    )
    item = created.json()["inventoryItem"]
    body = {"decrementData": [{"inventoryItemId": item["id"], "decrementBy": 2}]}
    key = {"idempotency-key": guid()}

    first = client.post(f"{BULK}/decrement", json=body, headers=key)
    client.post(
        f"{BULK}/increment",
        json={"incrementData": [{"inventoryItemId": item["id"], "incrementBy": 5}]},
    )
    retry = client.post(f"{BULK}/decrement", json=body, headers=key)

    assert (first.status_code, retry.status_code) == (428, 428)
    assert client.get(f"{ITEMS}/{item['id']}").json()["inventoryItem"]["quantity"] == 6


def test_concurrent_retries_of_one_key_apply_once(client, live_server, store_id):
    created = client.post(
        ITEMS, json={"inventoryItem": {"productId": "p", "variantId": guid(), "quantity": 50}}
    )
    item = created.json()["inventoryItem"]
    body = {"incrementData": [{"inventoryItemId": item["id"], "incrementBy": 1}]}
    key = guid()

    def send(_):
        with httpx.Client(
            base_url=live_server.url, headers={"wix-site-id": store_id, "idempotency-key": key}
        ) as http:
            return http.post(f"{BULK}/increment", json=body).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(send, range(32)))

    assert set(statuses) == {200}
    assert client.get(f"{ITEMS}/{item['id']}").json()["inventoryItem"]["quantity"] == 51


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\x7fkey"])
def test_malformed_idempotency_keys_are_400s(client, key):
    response = client.post(
        f"{BULK}/increment",
        json={"incrementData": [{"inventoryItemId": guid(), "incrementBy": 1}]},
        headers={"idempotency-key": key},
    )

    assert response.status_code == 400
