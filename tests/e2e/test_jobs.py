import time

import httpx
import pytest

from tests.factories import guid
from tests.live import LiveServer

from .helpers import BULK, ITEMS, JOBS, application_error, create, get, violations, wait_for


def test_update_by_filter_updates_every_matching_item_once(client):
    matching = [create(client, productId="shirts") for _ in range(3)]
    other = create(client, productId="hats")

    response = client.post(f"{BULK}/update-by-filter", json={
        "filter": {"productId": "shirts"},
        "inventoryItem": {"preorderInfo": {"enabled": True, "message": "restocking"}},
    })  # fmt: skip
    job = wait_for(client, response.json()["jobId"])

    assert job["status"] == "FINISHED"
    assert job["counters"] == {"itemsToProcess": 3, "itemsSucceeded": 3, "itemsFailed": 0}
    for item in matching:
        updated = get(client, item["id"])
        assert (updated["revision"], updated["preorderInfo"]["message"]) == ("2", "restocking")
    assert get(client, other["id"]) == other


def test_update_by_filter_records_per_item_rule_failures(client):
    counted = create(client, productId="mixed", quantity=3)
    flagged = create(client, productId="mixed", quantity=None, inStock=True)

    response = client.post(f"{BULK}/update-by-filter", json={
        "filter": {"productId": "mixed"}, "inventoryItem": {"preorderInfo": {"limit": 10}},
    })  # fmt: skip
    job = wait_for(client, response.json()["jobId"])
    items = client.get(f"{JOBS}/{job['id']}/items").json()

    assert job["counters"]["itemsFailed"] == 1
    outcome = {i["id"]: i.get("error", {}).get("code") for i in items["items"]}
    assert outcome == {counted["id"]: None, flagged["id"]: "PRE_ORDER_VALIDATION"}
    assert get(client, flagged["id"]) == flagged


def test_delete_by_filter_deletes_the_matching_items(client):
    doomed = [create(client, quantity=0) for _ in range(2)]
    kept = create(client, quantity=4)

    response = client.post(f"{BULK}/delete-by-filter", json={"filter": {"quantity": 0}})
    wait_for(client, response.json()["jobId"])

    for item in doomed:
        assert client.get(f"{ITEMS}/{item['id']}").status_code == 404
    assert get(client, kept["id"]) == kept


def test_adjust_by_filter_increments_and_decrements_down_to_zero(client):
    small, large = create(client, quantity=2), create(client, quantity=9)
    untracked = create(client, quantity=None, inStock=True)

    down = client.post(
        f"{BULK}/adjust-by-filter", json={"filter": {}, "adjustment": {"decrementBy": 5}}
    )
    job = wait_for(client, down.json()["jobId"])
    up = client.post(
        f"{BULK}/adjust-by-filter",
        json={"filter": {}, "adjustment": {"incrementBy": 1}, "trackQuantity": True},
    )
    wait_for(client, up.json()["jobId"])

    assert job["counters"] == {"itemsToProcess": 3, "itemsSucceeded": 2, "itemsFailed": 1}
    assert [get(client, i["id"])["quantity"] for i in (small, large, untracked)] == [1, 5, 1]


def test_set_or_adjust_by_filter_converts_untracked_items(client):
    untracked = create(client, quantity=None, inStock=False)

    response = client.post(f"{BULK}/set-or-adjust-by-filter", json={
        "filter": {"id": untracked["id"]}, "adjustedInventoryAction": {"incrementBy": 7},
    })  # fmt: skip
    wait_for(client, response.json()["jobId"])

    converted = get(client, untracked["id"])
    assert (converted["trackQuantity"], converted["quantity"]) == (True, 7)


def test_job_items_page_with_cursors(client):
    for _ in range(5):
        create(client, productId="paged")
    job_id = client.post(
        f"{BULK}/delete-by-filter", json={"filter": {"productId": "paged"}}
    ).json()["jobId"]
    wait_for(client, job_id)

    first = client.get(f"{JOBS}/{job_id}/items", params={"paging.limit": "3"}).json()
    second = client.get(
        f"{JOBS}/{job_id}/items",
        params={"paging.cursor": first["pagingMetadata"]["cursors"]["next"]},
    ).json()

    assert first["pagingMetadata"]["hasNext"] is True
    assert len(first["items"]) + len(second["items"]) == 5
    assert second["pagingMetadata"]["hasNext"] is False


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("update-by-filter", {"inventoryItem": {"quantity": 1}}, "filter"),
        ("update-by-filter", {"filter": {"size": "L"}, "inventoryItem": {}}, "filter.size"),
        ("update-by-filter", {"filter": {}}, "inventoryItem"),
        ("delete-by-filter", {"filter": {}, "search": {"mode": "NOR"}}, "search.mode"),
        ("adjust-by-filter", {"filter": {}, "adjustment": {}}, "adjustment"),
        (
            "adjust-by-filter",
            {"filter": {}, "adjustment": {"incrementBy": 1, "decrementBy": 1}},
            "adjustment",
        ),
        (
            "adjust-by-filter",
            {"filter": {}, "adjustment": {"incrementBy": 0}},
            "adjustment.incrementBy",
        ),
    ],
)
def test_invalid_by_filter_requests_are_400s(client, path, body, field):
    response = client.post(f"{BULK}/{path}", json=body)

    assert violations(response)[0]["field"] == field


def test_jobs_of_another_store_are_not_found(client, live_server):
    job_id = client.post(f"{BULK}/delete-by-filter", json={"filter": {"productId": "none"}}).json()[
        "jobId"
    ]

    stranger = httpx.get(f"{live_server.url}{JOBS}/{job_id}", headers={"wix-site-id": guid()})

    assert application_error(stranger, 404)["code"] == "NOT_FOUND"
    assert application_error(client.get(f"{JOBS}/{guid()}"), 404)["code"] == "NOT_FOUND"


@pytest.mark.slow
def test_a_job_interrupted_by_a_crash_resumes_after_restart_and_changes_each_item_once(tmp_path):
    database = f"sqlite:///{tmp_path / 'crash.db'}"
    env = {"STOCKROOM_JOB_BATCH": "25", "STOCKROOM_JOB_LEASE_MS": "1000"}
    server = LiveServer(database, tmp_path / "first.log", env=env)
    store = {"wix-site-id": guid()}
    with httpx.Client(base_url=server.url, headers=store, timeout=30) as http:
        for _ in range(4):
            elements = [
                {"productId": "crash", "variantId": guid(), "quantity": 1} for _ in range(1000)
            ]
            http.post(f"{BULK}/create", json={"inventoryItems": elements}).raise_for_status()
        job_id = http.post(
            f"{BULK}/adjust-by-filter", json={"filter": {}, "adjustment": {"incrementBy": 1}}
        ).json()["jobId"]
        while (before := http.get(f"{JOBS}/{job_id}").json()["job"])["counters"][
            "itemsSucceeded"
        ] == 0:
            time.sleep(0.005)
    server.kill()
    assert before["status"] == "PROCESSING"  # the crash came in the middle of the job

    restarted = LiveServer(database, tmp_path / "second.log", env=env)
    with httpx.Client(base_url=restarted.url, headers=store, timeout=30) as http:
        job = wait_for(http, job_id, timeout=120)
        items = http.post(
            f"{ITEMS}/query", json={"query": {"cursorPaging": {"limit": 1000}}}
        ).json()
        count = http.get(f"{ITEMS}/count").json()["count"]
    restarted.stop()

    assert job["status"] == "FINISHED"
    assert job["counters"] == {"itemsToProcess": 4000, "itemsSucceeded": 4000, "itemsFailed": 0}
    assert count == 4000
    assert {(i["quantity"], i["revision"]) for i in items["inventoryItems"]} == {(2, "2")}
