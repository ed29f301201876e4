"""The SQL a query compiles to returns exactly what the in-memory evaluator says, page by
page through every cursor, on every backend."""

import gc
import uuid
from dataclasses import replace
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockroom.query import aggregate
from stockroom.query.evaluate import matches, sort_items
from stockroom.query.filter import parse_time_zone
from stockroom.query.plan import plan_from_cursor, plan_request
from stockroom.query.search import search_matches
from stockroom.service.queries import CURSOR_KEY, find_page
from stockroom.storage import pages
from tests.factories import an_item
from tests.query_strategies import filters, searches, sorts, stored_items

examples = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def stock(storage, items):
    """A fresh store holding ``items``; returns its id and the items as stored."""
    store_id = str(uuid.uuid4())
    with storage.writing(store_id) as tx:
        location = tx.default_location_id()
        stored = [replace(item, location_id=location) for item in items]
        for item in stored:
            assert tx.insert_item(item)
    return store_id, stored


def walk_forward(inventory, store_id, plan):
    key = inventory.storage.secret(CURSOR_KEY)
    pages = []
    while True:
        page = find_page(inventory, store_id=store_id, plan=plan)
        pages.append(page)
        assert len(page.items) <= plan.limit
        if page.next_cursor is None:
            return pages
        plan = plan_from_cursor(
            page.next_cursor, kind=plan.kind, store_id=store_id, key=key, limit=None, where="q"
        )


@examples
@given(
    items=st.lists(stored_items(), max_size=25),
    raw_filter=filters,
    raw_sort=sorts,
    raw_search=searches,
    limit=st.integers(1, 7),
)
def test_every_page_of_a_query_is_what_the_evaluator_expects(
    inventory, *, items, raw_filter, raw_sort, raw_search, limit
):
    store_id, stored = stock(inventory.storage, items)
    plan = plan_request(
        "search",
        where="search",
        raw_filter=raw_filter,
        raw_sort=raw_sort,
        raw_search=raw_search,
        limit=limit,
        time_zone=None,
    )
    expected = sort_items(
        [
            item
            for item in stored
            if matches(item, plan.filter)
            and (plan.search is None or search_matches(item, plan.search))
        ],
        plan.order,
    )

    pages = walk_forward(inventory, store_id, plan)

    seen = [item.id for page in pages for item in page.items]
    assert seen == [item.id for item in expected]
    assert all(page.items for page in pages[:-1])


@examples
@given(
    items=st.lists(stored_items(), max_size=25),
    raw_filter=filters,
    raw_sort=sorts,
    limit=st.integers(1, 7),
)
def test_pages_read_by_walking_the_order_are_what_the_evaluator_expects(
    inventory, *, items, raw_filter, raw_sort, limit
):
    """With "few" at two matches and walks of five rows, SQLite's pages take every path of
    ``storage.pages``: its own plan, a walk that fills the page, a walk that does not."""
    store_id, stored = stock(inventory.storage, items)
    plan = plan_request(
        "query", where="query", raw_filter=raw_filter, raw_sort=raw_sort, raw_search=None,
        limit=limit, time_zone=None,
    )  # fmt: skip
    expected = sorted_matches(stored, plan)

    with mock.patch.object(pages, "FEW", 2), mock.patch.object(pages, "WALK", 5):
        found = walk_forward(inventory, store_id, plan)

    assert [item.id for page in found for item in page.items] == [item.id for item in expected]


def sorted_matches(stored, plan):
    return sort_items([item for item in stored if matches(item, plan.filter)], plan.order)


def test_a_page_leaves_no_garbage_for_the_collector(inventory):
    """Reference cycles are freed only by the garbage collector, whose pauses show in every
    request's latency; a page of a filtered query (each of ``storage.pages``' paths) makes
    none."""
    items = [an_item(quantity=index % 7) for index in range(40)]
    store_id, _ = stock(inventory.storage, items)
    plan = plan_request(
        "query", where="query", raw_filter={"quantity": {"$gte": 2}}, raw_sort=None,
        raw_search=None, limit=3, time_zone=None,
    )  # fmt: skip
    for few, walk in ((1_000, 20_000), (2, 30), (2, 5)):  # its own plan; walk fills; does not
        with mock.patch.object(pages, "FEW", few), mock.patch.object(pages, "WALK", walk):
            find_page(inventory, store_id=store_id, plan=plan)  # statements compiled, cached
            gc.collect()
            find_page(inventory, store_id=store_id, plan=plan)
            assert gc.collect() == 0


@examples
@given(
    items=st.lists(stored_items(), min_size=1, max_size=20), raw_sort=sorts, limit=st.integers(1, 4)
)
def test_previous_cursors_lead_back_over_the_same_pages(inventory, items, raw_sort, limit):
    store_id, _ = stock(inventory.storage, items)
    plan = plan_request(
        "query", where="query", raw_filter=None, raw_sort=raw_sort, raw_search=None,
        limit=limit, time_zone=None,
    )  # fmt: skip
    forward = walk_forward(inventory, store_id, plan)
    key = inventory.storage.secret(CURSOR_KEY)

    backward = [forward[-1]]
    while backward[-1].prev_cursor is not None:
        previous = plan_from_cursor(
            backward[-1].prev_cursor,
            kind="query",
            store_id=store_id,
            key=key,
            limit=None,
            where="q",
        )
        backward.append(find_page(inventory, store_id=store_id, plan=previous))

    assert [[i.id for i in p.items] for p in reversed(backward)] == [
        [i.id for i in p.items] for p in forward
    ]


def test_rows_inserted_or_deleted_between_pages_are_neither_repeated_nor_skipped(inventory, clock):
    items = [an_item(created_ms=1_704_067_200_000 + index, quantity=index) for index in range(10)]
    store_id, stored = stock(inventory.storage, items)
    plan = plan_request(
        "query", where="query", raw_filter=None, raw_sort=None, raw_search=None,
        limit=4, time_zone=None,
    )  # fmt: skip
    first = find_page(inventory, store_id=store_id, plan=plan)
    newest_first = sorted(stored, key=lambda item: item.created_ms, reverse=True)
    with inventory.storage.writing(store_id) as tx:
        tx.delete_item(newest_first[5].id)  # not yet seen
        tx.delete_item(newest_first[0].id)  # already seen
        late = replace(
            newest_first[0], id=str(uuid.uuid4()), variant_id=str(uuid.uuid4()), created_ms=1
        )
        tx.insert_item(late)  # sorts after everything

    key = inventory.storage.secret(CURSOR_KEY)
    assert first.next_cursor is not None
    rest = walk_forward(
        inventory,
        store_id,
        plan_from_cursor(
            first.next_cursor, kind="query", store_id=store_id, key=key, limit=None, where="q"
        ),
    )

    seen = [i.id for i in first.items] + [i.id for page in rest for i in page.items]
    assert len(seen) == len(set(seen))
    assert newest_first[5].id not in seen
    assert seen[-1] == late.id
    assert set(seen) == {i.id for i in newest_first} - {newest_first[5].id} | {late.id}


aggregations = st.sampled_from(
    [
        {"name": "a", "type": "VALUE", "fieldPath": "availabilityStatus"},
        {
            "name": "a",
            "type": "VALUE",
            "fieldPath": "quantity",
            "value": {"sortType": "VALUE", "sortDirection": "ASC", "missingValues": "INCLUDE"},
        },
        {
            "name": "a",
            "type": "VALUE",
            "fieldPath": "product.name",
            "value": {
                "limit": 2,
                "missingValues": "INCLUDE",
                "includeOptions": {"addToBucket": "none"},
            },
        },
        {"name": "a", "type": "VALUE", "fieldPath": "inStock", "value": {"sortDirection": "ASC"}},
        {
            "name": "a",
            "type": "RANGE",
            "fieldPath": "quantity",
            "range": {"buckets": [{"to": 1}, {"from": 0, "to": 6}, {"from": 6}]},
        },
        {"name": "a", "type": "SCALAR", "fieldPath": "quantity", "scalar": {"type": "SUM"}},
        {"name": "a", "type": "SCALAR", "fieldPath": "quantity", "scalar": {"type": "AVG"}},
        {
            "name": "a",
            "type": "SCALAR",
            "fieldPath": "productId",
            "scalar": {"type": "COUNT_DISTINCT"},
        },
        {"name": "a", "type": "SCALAR", "fieldPath": "quantity", "scalar": {"type": "MIN"}},
        {
            "name": "a",
            "type": "DATE_HISTOGRAM",
            "fieldPath": "createdDate",
            "dateHistogram": {"interval": "MONTH"},
        },
        {
            "name": "a",
            "type": "DATE_HISTOGRAM",
            "fieldPath": "updatedDate",
            "dateHistogram": {"interval": "WEEK"},
        },
        {
            "name": "a",
            "type": "NESTED",
            "nested": {
                "nestedAggregations": [
                    {"name": "p", "type": "VALUE", "fieldPath": "productId"},
                    {"name": "s", "type": "VALUE", "fieldPath": "availabilityStatus"},
                    {
                        "name": "q",
                        "type": "SCALAR",
                        "fieldPath": "quantity",
                        "scalar": {"type": "MAX"},
                    },
                ]
            },
        },
        {
            "name": "a",
            "type": "NESTED",
            "nested": {
                "nestedAggregations": [
                    {
                        "name": "r",
                        "type": "RANGE",
                        "fieldPath": "quantity",
                        "range": {"buckets": [{"to": 2}, {"from": 2}]},
                    },
                    {
                        "name": "d",
                        "type": "DATE_HISTOGRAM",
                        "fieldPath": "createdDate",
                        "dateHistogram": {"interval": "DAY"},
                    },
                ]
            },
        },
    ]
)


@examples
@given(
    items=st.lists(stored_items(), max_size=25),
    raw_filter=filters,
    raw=aggregations,
    zone=st.sampled_from([None, "Asia/Kathmandu", "-05:00"]),
)
def test_aggregations_count_what_the_evaluator_counts(inventory, items, raw_filter, raw, zone):
    store_id, stored = stock(inventory.storage, items)
    (parsed,) = aggregate.parse_aggregations([raw], where="aggs")
    plan = plan_request(
        "search", where="search", raw_filter=raw_filter, raw_sort=None, raw_search=None,
        limit=1, time_zone=zone,
    )  # fmt: skip
    grouping = aggregate.Grouping(parsed)
    expected = aggregate.shape(
        parsed,
        aggregate.group_in_memory(grouping, [i for i in stored if matches(i, plan.filter)]),
        parse_time_zone(zone),
    )

    page = find_page(inventory, store_id=store_id, plan=plan, aggregations=[parsed])

    assert page.aggregations == [expected]
