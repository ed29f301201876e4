"""A fleet on one database: stock stays exact with many processes and many clients at once.

Two hosts, each ``stockroom serve --workers 2`` on a port of its own (four server processes in
all), share one database. Sixty-four clients, spread over both hosts, change a handful of hot
items for a few seconds: restricted and unrestricted decrements, increments and bulk updates,
often several lines to a request and naming the same items in different orders (which would
deadlock without locks taken in key order).

Every acknowledged change comes back with the item's new revision and quantity, so the
changes to an item can be put in the order the database applied them and replayed: the
revisions must run 2, 3, 4, ... without a gap or a repeat (nothing lost, nothing applied
twice, nothing refused applied at all), each quantity must be the one before it plus the
change, and the item must end where the replay does.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import LiveServer

from .helpers import BULK, ITEMS, create, get

pytestmark = pytest.mark.slow

HOSTS = 2
WORKERS_PER_HOST = 2
CLIENTS = 64
HOT_ITEMS = 5
START_QUANTITY = 3  # low, so that restricted decrements run out even when few requests get through
SECONDS = float(os.environ.get("STOCKROOM_FLEET_SECONDS", "8"))


@dataclass(frozen=True, slots=True)
class Change:
    """One acknowledged line: what it did to an item, and the item just after it."""

    item_id: str
    delta: int
    revision: int
    quantity: int
    restricted: bool = False


@dataclass
class Tally:
    """What one client saw."""

    changes: list[Change]
    outcomes: Counter[str]
    problems: list[str]


@pytest.fixture
def fleet(empty_database: str, tmp_path: Path) -> Iterator[list[LiveServer]]:
    """The hosts, started at the same moment on an empty database (so they race to migrate it
    and to create the default store, as a fleet deployed at once does)."""

    def host(index: int) -> LiveServer:
        log = tmp_path / f"host-{index}.log"
        return LiveServer(empty_database, log, args=["--workers", str(WORKERS_PER_HOST)])

    with ThreadPoolExecutor(HOSTS) as pool:
        starting = [pool.submit(host, index) for index in range(HOSTS)]
    servers = [start.result() for start in starting if start.exception() is None]
    if len(servers) < HOSTS:
        for server in servers:
            server.stop()
        next(start for start in starting if start.exception() is not None).result()  # raises
    yield servers
    for server in servers:
        server.stop()


def test_a_fleet_under_mixed_load_loses_nothing_oversells_nothing_and_never_fails(fleet):
    store = str(uuid.uuid4())
    with httpx.Client(base_url=fleet[0].url, headers={"wix-site-id": store}, timeout=30) as http:
        items = [create(http, quantity=START_QUANTITY)["id"] for _ in range(HOT_ITEMS)]
    deadline: list[float] = []
    start = threading.Barrier(CLIENTS, action=lambda: deadline.append(time.monotonic() + SECONDS))

    def client(index: int) -> Tally:
        rng = random.Random(index)
        tally = Tally([], Counter(), [])
        server = fleet[index % HOSTS]
        with httpx.Client(base_url=server.url, headers={"wix-site-id": store}, timeout=60) as http:
            start.wait()
            while time.monotonic() < deadline[0]:
                act = rng.choices([_decrement, _increment, _bulk_update], weights=[45, 35, 20])[0]
                try:
                    act(http, rng, items, tally)
                except httpx.TransportError as error:  # unanswered: it may or may not have applied
                    tally.problems.append(f"no answer: {error!r}")
        return tally

    with ThreadPoolExecutor(CLIENTS) as pool:
        tallies = list(pool.map(client, range(CLIENTS)))

    problems = [problem for tally in tallies for problem in tally.problems]
    outcomes = sum((tally.outcomes for tally in tallies), Counter[str]())
    assert problems == [], outcomes
    assert outcomes["INSUFFICIENT_INVENTORY"] > 0, outcomes  # the hot items did run out
    assert outcomes["ok"] >= CLIENTS, outcomes
    by_item: defaultdict[str, list[Change]] = defaultdict(list)
    for tally in tallies:
        for change in tally.changes:
            by_item[change.item_id].append(change)
    with httpx.Client(base_url=fleet[1].url, headers={"wix-site-id": store}, timeout=30) as http:
        for item_id in items:
            replay(item_id, by_item[item_id], get(http, item_id))
    for server in fleet:
        assert "Traceback" not in server.log.read_text()


def replay(item_id: str, changes: list[Change], final: dict[str, Any]) -> None:
    """Check an item's acknowledged changes against each other and its final state."""
    ordered = sorted(changes, key=lambda change: change.revision)
    assert [c.revision for c in ordered] == list(range(2, len(ordered) + 2)), item_id
    quantity = START_QUANTITY
    for change in ordered:
        assert change.quantity == quantity + change.delta, (item_id, change)
        assert change.quantity >= 0 or not change.restricted, (item_id, change)  # no oversell
        quantity = change.quantity
    assert (final["quantity"], final["revision"]) == (quantity, str(len(ordered) + 1))
    assert quantity == START_QUANTITY + sum(change.delta for change in changes)


def _lines(rng: random.Random, items: list[str]) -> list[tuple[str, int]]:
    """One to three lines in any order, sometimes naming one item twice."""
    return [(rng.choice(items), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]


def _decrement(http: httpx.Client, rng: random.Random, items: list[str], tally: Tally) -> None:
    restricted = rng.random() < 0.75
    lines = _lines(rng, items)
    body = {
        "decrementData": [{"inventoryItemId": i, "decrementBy": by} for i, by in lines],
        "restrictInventory": restricted,
        "returnEntity": True,
    }
    response = http.post(f"{BULK}/decrement", json=body)
    if response.status_code == 428 and restricted:
        _refused(response, tally, "INSUFFICIENT_INVENTORY")
        return
    _applied(response, [(i, -by) for i, by in lines], tally, restricted=restricted)


def _increment(http: httpx.Client, rng: random.Random, items: list[str], tally: Tally) -> None:
    lines = _lines(rng, items)
    body = {
        "incrementData": [{"inventoryItemId": i, "incrementBy": by} for i, by in lines],
        "returnEntity": True,
    }
    response = http.post(f"{BULK}/increment", json=body)
    _applied(response, lines, tally)


def _bulk_update(http: httpx.Client, rng: random.Random, items: list[str], tally: Tally) -> None:
    """Update the preorder message of a few items at the revisions just read; an item changed
    in between is refused (409 per element) and changes nothing."""
    chosen = rng.sample(items, rng.randint(1, 3))
    revisions = {}
    for item_id in chosen:
        read = http.get(f"{ITEMS}/{item_id}")
        if not _expected(read, {200}, tally):
            return
        revisions[item_id] = read.json()["inventoryItem"]["revision"]
    message = f"back soon {rng.random()}"
    body = {
        "inventoryItems": [
            {
                "inventoryItem": {
                    "id": i,
                    "revision": revisions[i],
                    "preorderInfo": {"message": message},
                }
            }
            for i in chosen
        ],
        "returnEntity": True,
    }
    response = http.post(f"{BULK}/update", json=body)
    if not _expected(response, {200}, tally):
        return
    for item_id, result in zip(chosen, response.json()["results"], strict=True):
        metadata = result["itemMetadata"]
        if metadata["success"]:
            item = result["item"]
            tally.outcomes["ok"] += 1
            tally.changes.append(Change(item_id, 0, int(item["revision"]), item["quantity"]))
        elif metadata["error"]["code"] == "REVISION_MISMATCH":
            tally.outcomes["REVISION_MISMATCH"] += 1
        else:
            tally.problems.append(f"bulk update element failed: {metadata}")


def _applied(
    response: httpx.Response,
    lines: list[tuple[str, int]],
    tally: Tally,
    *,
    restricted: bool = False,
) -> None:
    if not _expected(response, {200}, tally):
        return
    tally.outcomes["ok"] += 1
    results = response.json()["results"]
    for (item_id, delta), result in zip(lines, results, strict=True):
        item = result["item"]
        tally.changes.append(
            Change(item_id, delta, int(item["revision"]), item["quantity"], restricted)
        )


def _refused(response: httpx.Response, tally: Tally, code: str) -> None:
    found = response.json()["details"]["applicationError"]["code"]
    tally.outcomes[found] += 1
    if found != code:
        tally.problems.append(f"{response.status_code} {found}: {response.text[:300]}")


def _expected(response: httpx.Response, statuses: set[int], tally: Tally) -> bool:
    if response.status_code in statuses:
        return True
    tally.problems.append(
        f"{response.request.url.path} {response.status_code}: {response.text[:300]}"
    )
    return False
