"""Which page orders are walks of one index (``storage.pages``): only those are ever read by
walking the order instead of by the database's own plan."""

import pytest

from stockroom.query.compile import order_by
from stockroom.query.sorting import parse_sort
from stockroom.storage.pages import walks_an_index


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
