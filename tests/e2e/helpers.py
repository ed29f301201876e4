"""Calls and checks the end-to-end tests share."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.factories import guid

ITEMS = "/stores/v3/inventory-items"
BULK = "/stores/v3/bulk/inventory-items"
JOBS = "/async-jobs/v1/async-jobs"


def create(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    """Create an item (10 units of a fresh variant unless told otherwise) and return it."""
    body = {"productId": "product-1", "variantId": guid(), "quantity": 10} | fields
    response = client.post(ITEMS, json={"inventoryItem": body})
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()["inventoryItem"]
    return item


def get(client: httpx.Client, item_id: str) -> dict[str, Any]:
    response = client.get(f"{ITEMS}/{item_id}")
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()["inventoryItem"]
    return item


def application_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The application error of a failed call, after checking its status."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["details"]["applicationError"]
    return error


def violations(response: httpx.Response) -> list[dict[str, Any]]:
    """The field violations of a 400, after checking the status."""
    assert response.status_code == 400, response.text
    found: list[dict[str, Any]] = response.json()["details"]["validationError"]["fieldViolations"]
    return found


def stock_line(item: dict[str, Any], by: int, **extra: Any) -> dict[str, Any]:
    return {"inventoryItemId": item["id"], "decrementBy": by} | extra


def decrement(client: httpx.Client, lines: list[dict[str, Any]], **options: Any) -> httpx.Response:
    return client.post(f"{BULK}/decrement", json={"decrementData": lines} | options)


def increment(client: httpx.Client, lines: list[dict[str, Any]], **options: Any) -> httpx.Response:
    return client.post(f"{BULK}/increment", json={"incrementData": lines} | options)


def wait_for(client, job_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"{JOBS}/{job_id}").json()["job"]
        if job["status"] in ("FINISHED", "FAILED"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")
