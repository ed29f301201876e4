"""Overload is a 503 with ``Retry-After`` and nothing written, never a 500: a server whose
SQLite write lock another process holds past the busy timeout."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import guid
from tests.live import LiveServer

from .helpers import BULK, ITEMS, application_error

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("busy") / "stockroom.db"


@pytest.fixture(scope="module")
def impatient_server(database: Path) -> Iterator[LiveServer]:
    """A server that waits at most 200 ms for the write lock, with no background writers."""
    server = LiveServer(
        f"sqlite:///{database}",
        database.parent / "server.log",
        env={
            "STOCKROOM_DATABASE_BUSY_TIMEOUT_MS": "200",
            "STOCKROOM_RUN_JOBS": "false",
            "STOCKROOM_RUN_RELAY": "false",
        },
    )
    yield server
    server.stop()


@pytest.fixture
def busy_client(impatient_server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"wix-site-id": guid()}
    with httpx.Client(base_url=impatient_server.url, headers=headers, timeout=30) as http:
        yield http


def bulk_body(count: int = 20) -> dict[str, object]:
    return {
        "inventoryItems": [
            {"productId": "p", "variantId": guid(), "quantity": 1} for _ in range(count)
        ]
    }


def item_count(client: httpx.Client) -> int:
    response = client.post(f"{ITEMS}/query", json={"query": {}})
    assert response.status_code == 200, response.text
    return len(response.json()["inventoryItems"])


def test_a_bulk_create_while_the_database_stays_locked_is_503_with_retry_after(
    busy_client, database
):
    busy_client.post(f"{BULK}/create", json=bulk_body(1)).raise_for_status()  # the store exists
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = busy_client.post(f"{BULK}/create", json=bulk_body())
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    error = application_error(response, 503)
    assert error["code"] == "SERVICE_BUSY"
    assert int(response.headers["Retry-After"]) >= 1
    assert item_count(busy_client) == 1


def test_an_idempotent_request_answered_503_runs_when_retried(busy_client, database):
    key = {"Idempotency-Key": guid()}
    body = bulk_body()
    busy_client.post(f"{BULK}/create", json=bulk_body(1)).raise_for_status()  # the store exists
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        refused = busy_client.post(f"{BULK}/create", json=body, headers=key)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    retried = busy_client.post(f"{BULK}/create", json=body, headers=key)

    assert refused.status_code == 503
    assert retried.status_code == 200, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    assert retried.json()["bulkActionMetadata"]["totalSuccesses"] == 20
