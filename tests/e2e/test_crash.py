"""Acknowledged changes survive SIGKILL; retried ones apply once.

A client sends thousands of increments and decrements, each with its own idempotency key,
while the server is killed at random moments and restarted on the same port. The client
retries each request, with the same key, until it gets an answer. Afterwards every item's
quantity equals its start plus exactly the changes the client was told were applied.
"""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import BACKENDS, database_url
from tests.factories import guid
from tests.live import LiveServer

from .helpers import BULK, ITEMS

pytestmark = pytest.mark.slow

OPERATIONS = 5000
CLIENTS = 4
START = 20_000


def new_item():
    return {"productId": "p", "variantId": guid(), "quantity": START}


@pytest.mark.parametrize("backend", BACKENDS)
def test_acknowledged_changes_survive_sigkill_and_retries_apply_once(request, tmp_path, backend):
    database = database_url(request, backend, tmp_path)
    server = LiveServer(database, tmp_path / "server-0.log")
    port, store = server.port, {"wix-site-id": guid()}
    with httpx.Client(base_url=server.url, headers=store) as http:
        items = [
            http.post(ITEMS, json={"inventoryItem": new_item()}).json()["inventoryItem"]["id"]
            for _ in range(5)
        ]
    rng = random.Random(11)
    directions = ["increment", "decrement"]
    plan = [
        (guid(), rng.choice(items), rng.choice(directions), rng.randint(1, 9), rng.random() < 0.5)
        for _ in range(OPERATIONS)
    ]
    acknowledged = dict.fromkeys(items, 0)
    answered = 0
    lock = threading.Lock()
    done = threading.Event()

    def send(step):
        key, item, direction, amount, restricted = step
        if direction == "increment":
            body = {"incrementData": [{"inventoryItemId": item, "incrementBy": amount}]}
        else:
            line = {"inventoryItemId": item, "decrementBy": amount}
            body = {"decrementData": [line], "restrictInventory": restricted}
        headers = store | {"idempotency-key": key}
        while True:
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}{BULK}/{direction}",
                    json=body,
                    headers=headers,
                    timeout=10,
                )
            except httpx.TransportError:
                time.sleep(0.05)  # the server is down: retry the same request, same key
                continue
            assert response.status_code in (200, 428), response.text
            with lock:
                if response.status_code == 200:
                    acknowledged[item] += amount if direction == "increment" else -amount
                nonlocal answered
                answered += 1
            return

    kills = 0

    def killer():
        """Kill the server every few hundred answers, at a random moment in between."""
        nonlocal server, kills
        chaos = random.Random(5)
        next_kill = chaos.randint(200, 700)
        while not done.wait(0.01):
            if answered < next_kill:
                continue
            time.sleep(chaos.uniform(0, 0.05))
            server.kill()
            kills += 1
            server = LiveServer(database, tmp_path / f"server-{kills}.log", port=port)
            next_kill = answered + chaos.randint(200, 700)

    chaos_thread = threading.Thread(target=killer)
    chaos_thread.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(send, plan))
    finally:
        done.set()
        chaos_thread.join()

    with httpx.Client(base_url=server.url, headers=store) as http:
        final = {
            item: http.get(f"{ITEMS}/{item}").json()["inventoryItem"]["quantity"] for item in items
        }
    server.stop()
    assert kills >= 3
    assert final == {item: START + acknowledged[item] for item in items}
