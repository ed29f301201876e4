"""Bulk writes naming the same items in different orders queue behind each other; none
deadlocks (on PostgreSQL a deadlock would abort one of them with a 500)."""

import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .helpers import BULK, create

pytestmark = pytest.mark.slow

CLIENTS = 16
ROUNDS = 12
ITEMS = 4


def hammer(live_server, store_id, calls):
    """Run every call (a function of an HTTP client and a random source) on its own thread;
    return the status codes."""

    def run(index):
        with httpx.Client(
            base_url=live_server.url, headers={"wix-site-id": store_id}, timeout=60
        ) as http:
            return calls[index](http, random.Random(index))

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(run, range(len(calls))))


def test_upserts_racing_stock_changes_on_the_same_items_in_other_orders_all_succeed(
    client, live_server, store_id
):
    items = [create(client, productId="p", quantity=50) for _ in range(ITEMS)]

    def upsert(http, rng):
        statuses = []
        for _ in range(ROUNDS):
            elements = [
                {"inventoryItem": {"productId": "p", "variantId": i["variantId"], "quantity": 9}}
                for i in rng.sample(items, len(items))
            ]
            response = http.post(f"{BULK}/upsert", json={"inventoryItems": elements})
            statuses.append(response.status_code)
            if response.status_code == 200:
                metadata = [r["itemMetadata"] for r in response.json()["results"]]
                statuses += [m.get("error", {}).get("code", "ok") for m in metadata]
        return statuses

    def decrement(http, rng):
        statuses = []
        for _ in range(ROUNDS):
            lines = [
                {"inventoryItemId": i["id"], "decrementBy": 1} for i in rng.sample(items, ITEMS)
            ]
            response = http.post(
                f"{BULK}/decrement", json={"decrementData": lines, "restrictInventory": False}
            )
            statuses.append(response.status_code)
        return statuses

    outcomes = hammer(live_server, store_id, [upsert, decrement] * (CLIENTS // 2))

    assert {status for statuses in outcomes for status in statuses} == {200, "ok"}


def test_bulk_deletes_racing_bulk_stock_changes_in_other_orders_never_fail(
    client, live_server, store_id
):
    for _ in range(ROUNDS):
        ids = [create(client, quantity=50)["id"] for _ in range(ITEMS)]

        def delete(http, rng, ids=ids):
            order = rng.sample(ids, len(ids))
            return http.post(f"{BULK}/delete", json={"inventoryItemIds": order}).status_code

        def decrement(http, rng, ids=ids):
            lines = [{"inventoryItemId": i, "decrementBy": 1} for i in rng.sample(ids, len(ids))]
            return http.post(f"{BULK}/decrement", json={"decrementData": lines}).status_code

        statuses = hammer(live_server, store_id, [delete, decrement] * 4)

        assert set(statuses) == {200}
