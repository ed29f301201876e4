"""Searches run a few at a time, on threads of their own (memory); other reads do not wait."""

import asyncio
import threading
import time
from typing import Any

from anyio import CapacityLimiter
from starlette.requests import Request

from stockroom.api.auth import Guard
from stockroom.api.routing import Call, Operation, Served, _endpoint
from stockroom.domain.access import Access
from stockroom.service.access import Gatekeeper
from stockroom.service.context import Inventory


class Open(Gatekeeper):
    """No key exists: every request is let through without the database."""

    def __init__(self) -> None:
        super().__init__(storage=None, now_ms=lambda: 0)  # type: ignore[arg-type]

    def known_keys_exist(self) -> bool | None:
        return False


class Running:
    """A handler that takes a while and records how many of it ran at once."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self._lock = threading.Lock()

    def __call__(self, call: Call) -> dict[str, Any]:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.02)
        with self._lock:
            self.now -= 1
        return {}


def get(path: str) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "path_params": {}}
    return Request(scope, receive)


def run(served: Served, operations: list[tuple[Operation, int]]) -> None:
    async def all_of_them() -> None:
        requests = [
            _endpoint(op, served)(get(op.path)) for op, count in operations for _ in range(count)
        ]
        responses = await asyncio.gather(*requests)
        assert {response.status_code for response in responses} == {200}

    asyncio.run(all_of_them())


def operation(name: str, handle: Running, *, search: bool) -> Operation:
    read = Access.INVENTORY_READ
    return Operation(name, "GET", f"/{name}", handle, None, None, read, search=search)


def served() -> Served:
    guard = Guard(Open(), default_store_id="s1")
    inventory = Inventory(storage=None)  # type: ignore[arg-type]
    return Served(inventory, guard, CapacityLimiter(32), searches=CapacityLimiter(2))


def test_no_more_searches_run_at_once_than_the_limit() -> None:
    searches = Running()
    run(served(), [(operation("search", searches, search=True), 12)])
    assert searches.most == 2


def test_other_reads_run_beside_the_searches_on_threads_of_their_own() -> None:
    searches, queries = Running(), Running()
    run(
        served(),
        [
            (operation("search", searches, search=True), 8),
            (operation("query", queries, search=False), 8),
        ],
    )
    assert searches.most == 2
    assert queries.most > 2
