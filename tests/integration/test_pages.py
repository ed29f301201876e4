"""``storage.pages`` on a real database: whichever way a page is read (the database's own
plan, a walk of the order that fills the page, a walk that does not), it holds the same
items, in the same order, page after page. Small stand-ins for "few" and the walk's length
put a store of forty items through every path."""

import uuid
from unittest import mock

import pytest

from stockroom.query.evaluate import matches, sort_items
from stockroom.query.plan import plan_from_cursor, plan_request
from stockroom.service.queries import CURSOR_KEY, find_page
from stockroom.storage import pages
from tests.factories import an_item

LOCATIONS = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")
START_MS = 1_704_067_200_000


def stock(storage, items):
    store_id = str(uuid.uuid4())
    with storage.writing(store_id) as tx:
        for item in items:
            assert tx.insert_item(item)
    return store_id


def every_page(inventory, store_id, plan):
    key = inventory.storage.secret(CURSOR_KEY)
    seen = []
    while True:
        page = find_page(inventory, store_id=store_id, plan=plan)
        seen += [item.id for item in page.items]
        if page.next_cursor is None:
            return seen
        plan = plan_from_cursor(
            page.next_cursor, kind="query", store_id=store_id, key=key, limit=None, where="q"
        )


def walks(inventory, store_id, plan):
    """Every page's items, and the outcomes of the walks taken: True filled its page, False
    fell back to the database's own plan."""
    outcomes = []
    walk = pages._walk

    def recorded(*args, **kwargs):
        rows = walk(*args, **kwargs)
        outcomes.append(rows is not None)
        return rows

    with (
        mock.patch.object(pages, "FEW", 2),
        mock.patch.object(pages, "WALK", 5),
        mock.patch.object(pages, "_walk", recorded),
    ):
        seen = every_page(inventory, store_id, plan)
    return seen, outcomes


@pytest.mark.parametrize(
    ("matching_ages", "outcomes"),
    [
        # every item matches: each walk fills its page
        (range(40), {True}),
        # only the oldest ten: walking the newest five finds none, and the first page falls
        # back; the later pages, from a cursor among the matches, fill
        (range(30, 40), {False, True}),
        # every fourth: a walk of five finds one or two matches of the four a page asks
        (range(0, 40, 4), {False}),
    ],
)
def test_a_page_holds_the_same_items_whichever_way_it_is_read(inventory, matching_ages, outcomes):
    items = [
        an_item(
            location_id=LOCATIONS[0],
            quantity=1 if age in matching_ages else 9,
            created_ms=START_MS - age * 1000,
        )
        for age in range(40)
    ]
    store_id = stock(inventory.storage, items)
    raw_filter = {"locationId": LOCATIONS[0], "quantity": {"$lt": 5}}
    plan = plan_request(
        "query", where="query", raw_filter=raw_filter, raw_sort=None, raw_search=None,
        limit=3, time_zone=None,
    )  # fmt: skip
    expected = [i.id for i in sort_items([i for i in items if matches(i, plan.filter)], plan.order)]

    seen, walked = walks(inventory, store_id, plan)

    assert seen == expected
    if inventory.storage.engine.dialect.name == "sqlite":
        assert set(walked) == outcomes
    else:
        assert walked == []  # PostgreSQL never walks


def test_a_walk_narrowed_to_one_location_fills_pages_a_walk_of_the_store_would_not(inventory):
    """Every other item is at the location asked for, and each of those matches: a walk of
    the store's five newest items finds two or three of the four a page asks, a walk of the
    location's five newest (its index holds the default order after it) finds five."""
    items = [
        an_item(location_id=LOCATIONS[age % 2], quantity=1, created_ms=START_MS - age * 1000)
        for age in range(40)
    ]
    store_id = stock(inventory.storage, items)
    plan = plan_request(
        "query", where="query", raw_filter={"locationId": LOCATIONS[0], "quantity": {"$lt": 5}},
        raw_sort=None, raw_search=None, limit=3, time_zone=None,
    )  # fmt: skip
    expected = [i.id for i in sort_items([i for i in items if matches(i, plan.filter)], plan.order)]

    seen, walked = walks(inventory, store_id, plan)

    assert seen == expected
    if inventory.storage.engine.dialect.name == "sqlite":
        assert len(walked) == len(expected) // 3 + 1
        assert set(walked) == {True}


@pytest.mark.parametrize("few", [-1, 10**9])  # never few enough; always
def test_on_postgresql_a_page_sorted_after_filtering_holds_the_same_items(inventory, few):
    """PostgreSQL sorts the matches after filtering when its planner expects few, and
    otherwise plans the page itself; either way the pages are the evaluator's."""
    items = [
        an_item(location_id=LOCATIONS[age % 2], quantity=age % 7, created_ms=START_MS - age * 1000)
        for age in range(40)
    ]
    store_id = stock(inventory.storage, items)
    plan = plan_request(
        "query", where="query", raw_filter={"quantity": {"$gte": 2, "$lt": 6}}, raw_sort=None,
        raw_search=None, limit=3, time_zone=None,
    )  # fmt: skip
    expected = [i.id for i in sort_items([i for i in items if matches(i, plan.filter)], plan.order)]

    with mock.patch.object(pages, "FEW_ESTIMATED", few):
        assert every_page(inventory, store_id, plan) == expected
