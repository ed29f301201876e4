"""Which pages ``storage.pages`` reads otherwise than by the database's own plan: those whose
order is a walk of one index and whose filter would be read through another index."""

import pytest

from stockroom.query.compile import order_by, where
from stockroom.query.filter import parse_filter
from stockroom.query.sorting import parse_sort
from stockroom.storage.pages import seeks_another_index, walks_an_index


@pytest.mark.parametrize(
    ("sort", "walks"),
    [
        (None, True),  # createdDate DESC, then id
        ([{"fieldName": "createdDate", "order": "ASC"}], True),
        ([{"fieldName": "updatedDate", "order": "DESC"}], True),
        ([{"fieldName": "quantity", "order": "ASC"}], True),
        ([{"fieldName": "quantity", "order": "DESC"}], True),
        ([{"fieldName": "productId", "order": "ASC"}], False),
        ([{"fieldName": "product.name", "order": "ASC"}], False),
        ([{"fieldName": "quantity"}, {"fieldName": "createdDate"}], False),
    ],
)
def test_an_order_walks_an_index_when_one_holds_its_columns_after_the_store(sort, walks):
    assert walks_an_index(order_by(parse_sort(sort, where="query.sort"))) is walks


LOCATION = "53ff76de-2701-439b-85d2-64f988088a8c"


@pytest.mark.parametrize(
    ("raw_filter", "sort", "seeks"),
    [
        ({"quantity": {"$gte": 10, "$lt": 20}}, None, True),
        ({"locationId": LOCATION, "quantity": {"$lt": 5}}, None, True),
        ({"updatedDate": {"$gte": "2026-01-01T00:00:00Z"}}, None, True),
        # an equality on an index that holds the order next: it serves both
        ({"locationId": LOCATION}, None, False),
        ({"availabilityStatus": "OUT_OF_STOCK"}, None, False),
        ({"productId": "p1"}, None, False),
        ({"productId": {"$in": ["p1", "p2"]}}, None, True),
        # a range on the order's own column: one index serves both
        ({"createdDate": {"$gte": "2026-01-01T00:00:00Z"}}, None, False),
        ({"quantity": {"$lt": 5}}, [{"fieldName": "quantity", "order": "ASC"}], False),
        # nothing an index can seek
        ({"preorderInfo.enabled": True}, None, False),
        ({"$or": [{"locationId": LOCATION}, {"quantity": 1}]}, None, False),
    ],
)
def test_a_filter_seeks_another_index_when_sqlite_would_sort_what_it_finds(raw_filter, sort, seeks):
    condition = where(parse_filter(raw_filter, where="query.filter"), "sqlite")
    order = order_by(parse_sort(sort, where="query.sort"))
    assert seeks_another_index(condition, order) is seeks
