"""Webhooks over HTTP, end to end: a real server (its relay running inside) delivering to
real receivers on 127.0.0.1, and the pull feed beside them."""

import time
from collections import Counter, defaultdict

import httpx
import pytest

from stockroom.domain.events import EventType
from tests.conftest import BACKENDS, database_url
from tests.factories import guid
from tests.live import LiveServer
from tests.receiver import GARBAGE, HANG, Receiver, Redirect

from .helpers import BULK, ITEMS, create, decrement, increment, stock_line, wait_for

pytestmark = pytest.mark.slow

HOOKS = "/stockroom/v1/webhooks"
EVENTS = "/stockroom/v1/events"
FAST_RELAY = {
    "STOCKROOM_WEBHOOK_TIMEOUT_MS": "1000",
    "STOCKROOM_WEBHOOK_RETRY_BASE_MS": "100",
    "STOCKROOM_WEBHOOK_RETRY_MAX_MS": "400",
    "STOCKROOM_WEBHOOK_MAX_ATTEMPTS": "6",
    "STOCKROOM_RELAY_LEASE_MS": "10000",
}


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    """A server per backend whose relay retries within a second or two."""
    folder = tmp_path_factory.mktemp(f"webhooks-{request.param}")
    url = database_url(request, request.param, folder)
    live = LiveServer(url, folder / "server.log", env=FAST_RELAY)
    yield live
    live.stop()


@pytest.fixture
def http(server, store_id):
    with httpx.Client(base_url=server.url, headers={"wix-site-id": store_id}, timeout=30) as c:
        yield c


def subscribe(http, url, **fields):
    response = http.post(HOOKS, json={"webhook": {"url": url, **fields}})
    assert response.status_code == 200, response.text
    return response.json()["webhook"]


def latest(http):
    return http.get(EVENTS, params={"limit": 1}).json()["latestSequence"]


def all_delivered(receiver, http):
    """Wait until the receiver has acknowledged every event of the store so far."""
    expected = latest(http)
    receiver.wait_for(lambda got: len({r.sequence for r in got if r.acknowledged}) >= expected)
    return list(receiver.events())


def test_every_method_delivers_its_events_with_the_items_the_api_returned(http):
    with Receiver() as receiver:
        hook = subscribe(http, receiver.url)
        item = create(http, quantity=2)
        updated = http.patch(f"{ITEMS}/{item['id']}", json={
            "inventoryItem": {"revision": "1", "quantity": 5}, "reason": "MANUAL",
        }).json()["inventoryItem"]  # fmt: skip
        sold = decrement(http, [stock_line(item, 5)], reason="ORDER", returnEntity=True)
        back = increment(http, [{"inventoryItemId": item["id"], "incrementBy": 1}])
        bulk = http.post(f"{BULK}/create", json={"inventoryItems": [
            {"productId": "p", "variantId": guid(), "inStock": True} for _ in range(2)
        ], "returnEntity": True}).json()["results"]  # fmt: skip
        flagged = [result["item"] for result in bulk]
        by_variant = http.post(f"{BULK}/decrement-by-variant-and-location", json={
            "decrementData": [{"variantId": item["variantId"], "decrementBy": 1}],
        })  # fmt: skip
        flagged_ids = [f["id"] for f in flagged]
        job = http.post(f"{BULK}/update-by-filter", json={
            "filter": {"id": {"$in": flagged_ids}}, "inventoryItem": {"inStock": False},
        }).json()["jobId"]  # fmt: skip
        wait_for(http, job)
        http.delete(f"{ITEMS}/{item['id']}")
        http.post(f"{BULK}/delete", json={"inventoryItemIds": [f["id"] for f in flagged]})

        events = all_delivered(receiver, http)
        requests = receiver.snapshot()

    assert (back.status_code, by_variant.status_code) == (200, 200)
    by_item = defaultdict(list)
    for event in events:
        by_item[event["entityId"]].append(event)
    mine = by_item[item["id"]]
    assert [e["slug"] for e in mine] == [
        "created",
        "updated", "updated_with_reason",
        "updated", "updated_with_reason", "stock_status_updated",  # sold out
        "updated", "updated_with_reason", "stock_status_updated",  # back in stock
        "updated", "updated_with_reason", "stock_status_updated",  # sold out again
        "deleted",
    ]  # fmt: skip
    assert [e["entityEventSequence"] for e in mine] == ["1"] + ["2"] * 2 + ["3"] * 3 + ["4"] * 3 + [
        "5"
    ] * 3 + ["6"]
    assert mine[0]["createdEvent"]["entityAsJson"] == item
    assert mine[1]["updatedEvent"]["currentEntityAsJson"] == updated
    assert mine[3]["updatedEvent"]["currentEntityAsJson"] == sold.json()["results"][0]["item"]
    assert mine[4]["actionEvent"]["bodyAsJson"]["reason"] == "ORDER"
    assert mine[2]["actionEvent"]["bodyAsJson"]["reason"] == "MANUAL"
    for flag in flagged:
        assert [e["slug"] for e in by_item[flag["id"]]] == [
            "created", "updated", "updated_with_reason", "stock_status_updated", "deleted",
        ]  # fmt: skip
    assert all(r.verified(hook["secret"]) for r in requests)
    per_item_order = {
        entity: [e["entityEventSequence"] for e in found] for entity, found in by_item.items()
    }
    assert all(seqs == sorted(seqs, key=int) for seqs in per_item_order.values())


def test_the_feed_replays_the_same_bytes_the_webhooks_delivered(http):
    with Receiver() as receiver:
        subscribe(http, receiver.url)
        for _ in range(3):
            create(http)
        all_delivered(receiver, http)
        delivered = {r.sequence: r.body for r in receiver.acknowledged()}

    first = http.get(EVENTS, params={"since": 0, "limit": 2}).json()
    rest = http.get(EVENTS, params={"since": first["nextSince"], "limit": 10}).json()

    assert [e["sequence"] for e in first["events"]] == [1, 2]
    assert (first["hasMore"], rest["hasMore"], rest["nextSince"]) == (True, False, 3)
    for entry in first["events"] + rest["events"]:
        assert httpx.Response(200, content=delivered[entry["sequence"]]).json() == entry["event"]
        assert entry["eventType"] == EventType.CREATED.value


def test_a_receiver_that_fails_three_times_gets_the_event_once_it_recovers(http):
    tries: Counter[str] = Counter()

    def flaky(request):
        tries[request.event["id"]] += 1
        return 500 if tries[request.event["id"]] <= 3 else 200

    with Receiver(flaky) as receiver:
        hook = subscribe(http, receiver.url, eventTypes=[EventType.CREATED.value])
        create(http)
        receiver.wait_for(lambda got: any(r.acknowledged for r in got), timeout=20)
        time.sleep(0.5)  # a second acknowledgement, were there one, would arrive by now

        got = receiver.snapshot()
    log = http.get(f"{HOOKS}/{hook['id']}/deliveries").json()["deliveries"]
    assert [r.acknowledged for r in got] == [False, False, False, True]
    assert len({r.event["id"] for r in got}) == 1
    assert [(d["state"], d["attempts"], d["lastStatus"]) for d in log] == [("DELIVERED", 4, 200)]


def test_bad_receivers_hold_up_neither_stock_changes_nor_other_subscriptions(http):
    with (
        Receiver(lambda _: HANG, hang_s=8) as hanging,
        Receiver(lambda _: 500) as failing,
        Receiver(lambda _: GARBAGE) as garbled,
        Receiver(lambda _: Redirect("http://127.0.0.1:9/")) as redirecting,
        Receiver() as healthy,
    ):
        for receiver in (hanging, failing, garbled, redirecting, healthy):
            subscribe(http, receiver.url)
        items = [create(http, quantity=50) for _ in range(5)]
        hanging.wait_for(lambda got: len(got) >= 1)
        took = []
        for _ in range(4):
            for item in items:
                started = time.monotonic()
                assert decrement(http, [stock_line(item, 1)]).status_code == 200
                took.append(time.monotonic() - started)

        started = time.monotonic()
        all_delivered(healthy, http)
        caught_up = time.monotonic() - started

    assert max(took) < 1  # the relay's timeout is 1 s; the hanging receiver takes 8
    assert caught_up < 5  # before the hanging receiver would have answered once


def test_a_parked_delivery_waits_for_an_operator_and_holds_back_only_its_item(http):
    down = {"on": True}
    stuck, fine = create(http), create(http)

    def picky(request):
        return 503 if down["on"] and request.event["entityId"] == stuck["id"] else 204

    with Receiver(picky) as receiver:
        hook = subscribe(http, receiver.url, eventTypes=[EventType.UPDATED.value])
        for item in (stuck, fine, stuck):
            decrement(http, [stock_line(item, 1)])
        deliveries = f"{HOOKS}/{hook['id']}/deliveries"

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            parked = http.get(deliveries, params={"state": "PARKED"}).json()["deliveries"]
            if parked:
                break
            time.sleep(0.1)
        waiting = http.get(deliveries, params={"state": "PENDING"}).json()["deliveries"]
        down["on"] = False
        redelivered = http.post(f"{HOOKS}/{hook['id']}/redeliver").json()
        receiver.wait_for(lambda got: len({r.sequence for r in got if r.acknowledged}) == 3)

        order = [
            e["entityEventSequence"] for e in receiver.events() if e["entityId"] == stuck["id"]
        ]
    assert [(d["attempts"], d["lastStatus"]) for d in parked] == [(6, 503)]
    assert [d["entityId"] for d in waiting] == [stuck["id"]]  # the later change of that item
    assert redelivered == {"redelivered": 1}
    assert order == ["2", "3"]
    assert {d["state"] for d in http.get(deliveries).json()["deliveries"]} == {"DELIVERED"}


def test_subscriptions_are_created_listed_changed_and_deleted(http):
    created = subscribe(http, "https://erp.example.com/stock", eventTypes=[EventType.DELETED.value])
    hook = f"{HOOKS}/{created['id']}"

    listed = http.get(HOOKS).json()["webhooks"]
    fetched = http.get(hook).json()["webhook"]
    rotated = http.patch(hook, json={"webhook": {"active": False}, "rotateSecret": True})
    stale = http.patch(hook, json={"webhook": {"revision": "1", "url": "https://x.example/"}})
    deleted = http.delete(hook)

    assert created["secret"].startswith("whsec_")
    assert created["eventTypes"] == [EventType.DELETED.value]
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    assert fetched == created
    assert rotated.json()["webhook"]["active"] is False
    assert rotated.json()["webhook"]["secret"] != created["secret"]
    assert stale.status_code == 409
    assert deleted.status_code == 200
    assert http.get(hook).status_code == 404
    assert http.get(f"{hook}/deliveries").status_code == 404


@pytest.mark.parametrize(
    ("webhook", "field"),
    [
        ({"url": "ftp://example.com/"}, "webhook.url"),
        ({"url": "https://x.example/", "eventTypes": ["created"]}, "webhook.eventTypes"),
    ],
)
def test_a_bad_subscription_is_refused_with_the_field_at_fault(http, webhook, field):
    response = http.post(HOOKS, json={"webhook": webhook})

    assert response.status_code == 400
    assert response.json()["details"]["validationError"]["fieldViolations"][0]["field"] == field


def test_redelivering_a_delivered_event_is_refused(http):
    with Receiver() as receiver:
        hook = subscribe(http, receiver.url)
        create(http)
        all_delivered(receiver, http)
    (delivery,) = http.get(f"{HOOKS}/{hook['id']}/deliveries").json()["deliveries"]

    again = http.post(f"{HOOKS}/{hook['id']}/deliveries/{delivery['sequence']}/redeliver")
    missing = http.post(f"{HOOKS}/{hook['id']}/deliveries/99999/redeliver")

    assert again.status_code == 409
    assert again.json()["details"]["applicationError"]["code"] == "DELIVERY_ALREADY_DELIVERED"
    assert missing.status_code == 404


def test_each_store_sees_only_its_own_subscriptions_and_events(server, http):
    other = {"wix-site-id": guid()}
    subscribe(http, "https://mine.example/")
    create(http)

    assert httpx.get(f"{server.url}{HOOKS}", headers=other).json() == {"webhooks": []}
    theirs = httpx.get(f"{server.url}{EVENTS}", headers=other).json()
    assert (theirs["events"], theirs["latestSequence"]) == ([], 0)
