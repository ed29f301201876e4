"""Many buyers at once: stock is never oversold and no acknowledged change is lost."""

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import database_url
from tests.factories import guid
from tests.live import LiveServer

from .helpers import create, decrement, get, increment, stock_line

pytestmark = pytest.mark.slow

THREADS = 50


def run_concurrently(live_server, store_id, jobs):
    """Run the jobs (functions of an HTTP client) on THREADS threads, all released at once;
    return their results in job order."""
    start = threading.Barrier(THREADS)
    results = [None] * len(jobs)

    def worker(offset):
        with httpx.Client(
            base_url=live_server.url, headers={"wix-site-id": store_id}, timeout=60
        ) as http:
            start.wait()
            for index in range(offset, len(jobs), THREADS):
                results[index] = jobs[index](http)

    with ThreadPoolExecutor(THREADS) as pool:
        for finished in [pool.submit(worker, offset) for offset in range(THREADS)]:
            finished.result()
    return results


def test_300_buyers_of_100_units_sell_exactly_100(client, live_server, store_id):
    item = create(client, quantity=100)

    def buy_one(http):
        response = decrement(http, [stock_line(item, 1)], restrictInventory=True, returnEntity=True)
        code = (
            response.json()["details"]["applicationError"]["code"]
            if response.status_code != 200
            else None
        )
        return response.status_code, code, response.json()

    outcomes = run_concurrently(live_server, store_id, [buy_one] * 300)

    assert Counter((status, code) for status, code, _ in outcomes) == {
        (200, None): 100,
        (428, "INSUFFICIENT_INVENTORY"): 200,
    }
    final = get(client, item["id"])
    assert (final["quantity"], final["revision"]) == (0, "101")
    sold = [body["results"][0]["item"] for status, _, body in outcomes if status == 200]
    # Each sale saw its own remaining stock and its own revision, as in a serial order.
    assert sorted(item["quantity"] for item in sold) == list(range(100))
    assert sorted(int(item["revision"]) for item in sold) == list(range(2, 102))


def test_mixed_concurrent_changes_lose_nothing(client, live_server, store_id):
    items = [create(client, quantity=50) for _ in range(3)]
    rng = random.Random(7)
    jobs = []
    for _ in range(400):
        target = rng.choice(items)
        amount = rng.randint(1, 5)
        kind = rng.choice(["restricted", "unrestricted", "increment"])
        jobs.append((kind, target["id"], amount))

    def apply(job):
        kind, item_id, amount = job

        def call(http):
            if kind == "increment":
                response = increment(http, [{"inventoryItemId": item_id, "incrementBy": amount}])
            else:
                line = {"inventoryItemId": item_id, "decrementBy": amount}
                response = decrement(http, [line], restrictInventory=kind == "restricted")
            assert response.status_code in {200, 428}, response.text
            return response.status_code == 200

        return call

    acknowledged = run_concurrently(live_server, store_id, [apply(job) for job in jobs])

    for item in items:
        delta = sum(
            (amount if kind == "increment" else -amount)
            for (kind, item_id, amount), ok in zip(jobs, acknowledged, strict=True)
            if ok and item_id == item["id"]
        )
        changes = sum(
            1
            for (_, item_id, _), ok in zip(jobs, acknowledged, strict=True)
            if ok and item_id == item["id"]
        )
        final = get(client, item["id"])
        assert final["quantity"] == 50 + delta
        assert final["revision"] == str(1 + changes)


@pytest.mark.parametrize("workers", [2])
def test_buyers_spread_over_worker_processes_sell_exactly_the_stock(request, tmp_path, workers):
    """Coalescing happens in each process; the database decides between them."""
    server = LiveServer(
        database_url(request, "sqlite", tmp_path), tmp_path / "server.log",
        args=["--workers", str(workers)],
    )  # fmt: skip
    store = guid()
    try:
        with httpx.Client(base_url=server.url, headers={"wix-site-id": store}) as http:
            item = create(http, quantity=150)

        def buy_one(http):
            response = decrement(http, [stock_line(item, 1)], returnEntity=True)
            return response.status_code, response.json()

        outcomes = run_concurrently(server, store, [buy_one] * 400)
        with httpx.Client(base_url=server.url, headers={"wix-site-id": store}) as http:
            final = get(http, item["id"])
    finally:
        server.stop()

    sold = [body["results"][0]["item"] for status, body in outcomes if status == 200]
    assert Counter(status for status, _ in outcomes) == {200: 150, 428: 250}
    assert sorted(item["quantity"] for item in sold) == list(range(150))
    assert sorted(int(item["revision"]) for item in sold) == list(range(2, 152))
    assert (final["quantity"], final["revision"]) == (0, "151")
