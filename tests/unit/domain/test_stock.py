import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockroom.domain import stock
from stockroom.domain.errors import (
    InsufficientInventory,
    MaxQuantityLimitReached,
    MinQuantityLimitReached,
    QuantityNotTracked,
    StockroomError,
)
from stockroom.domain.item import Preorder
from tests.factories import a_flag_item, an_item
from tests.strategies import amounts, items

NOW = 1_800_000_000_000


def test_increment_adds_units_and_advances_revision_and_time():
    item = an_item(quantity=3, revision=4)

    changed = stock.increment(item, 5, now_ms=NOW)

    assert (changed.quantity, changed.revision, changed.updated_ms) == (8, 5, NOW)


def test_increment_past_99999_fails_with_max_quantity_limit_reached():
    with pytest.raises(MaxQuantityLimitReached):
        stock.increment(an_item(quantity=99_990), 10, now_ms=NOW)


def test_increment_of_a_flag_item_fails_with_quantity_not_tracked():
    with pytest.raises(QuantityNotTracked):
        stock.increment(a_flag_item(), 1, now_ms=NOW)


def test_restricted_decrement_beyond_stock_fails_with_insufficient_inventory():
    with pytest.raises(InsufficientInventory) as raised:
        stock.decrement(an_item(quantity=2), 3, preorder_request=False, restrict=True, now_ms=NOW)

    assert raised.value.data["quantity"] == 2


def test_restricted_decrement_to_exactly_zero_succeeds():
    changed = stock.decrement(
        an_item(quantity=2), 2, preorder_request=False, restrict=True, now_ms=NOW
    )

    assert changed.quantity == 0


def test_unrestricted_decrement_may_go_negative_down_to_the_minimum():
    changed = stock.decrement(
        an_item(quantity=2), 7, preorder_request=False, restrict=False, now_ms=NOW
    )
    assert changed.quantity == -5

    with pytest.raises(MinQuantityLimitReached):
        stock.decrement(
            an_item(quantity=-99_990), 10, preorder_request=False, restrict=False, now_ms=NOW
        )


def test_preorder_request_at_zero_stock_books_the_counter_and_keeps_quantity():
    item = an_item(quantity=0, preorder=Preorder(enabled=True, limit=5))

    changed = stock.decrement(item, 2, preorder_request=True, restrict=True, now_ms=NOW)

    assert (changed.quantity, changed.preorder.counter) == (0, 2)


def test_preorder_request_short_of_stock_takes_stock_first_then_books_the_rest():
    item = an_item(quantity=3, preorder=Preorder(enabled=True, limit=5, counter=1))

    changed = stock.decrement(item, 7, preorder_request=True, restrict=True, now_ms=NOW)

    assert (changed.quantity, changed.preorder.counter) == (0, 5)


def test_preorder_request_beyond_capacity_fails_with_insufficient_inventory():
    item = an_item(quantity=1, preorder=Preorder(enabled=True, limit=5, counter=3))

    with pytest.raises(InsufficientInventory):
        stock.decrement(item, 4, preorder_request=True, restrict=True, now_ms=NOW)


def test_preorder_request_with_negative_stock_keeps_the_negative_quantity():
    item = an_item(quantity=-2, preorder=Preorder(enabled=True))

    changed = stock.decrement(item, 3, preorder_request=True, restrict=True, now_ms=NOW)

    assert (changed.quantity, changed.preorder.counter) == (-2, 3)


def test_preorder_request_with_enough_stock_is_a_plain_decrement():
    item = an_item(quantity=9, preorder=Preorder(enabled=True, limit=5))

    changed = stock.decrement(item, 4, preorder_request=True, restrict=True, now_ms=NOW)

    assert (changed.quantity, changed.preorder.counter) == (5, 0)


def test_preorder_request_on_an_item_without_preorder_is_a_plain_decrement():
    item = an_item(quantity=1)

    with pytest.raises(InsufficientInventory):
        stock.decrement(item, 2, preorder_request=True, restrict=True, now_ms=NOW)


@given(items(), amounts, st.booleans(), st.booleans())
def test_a_decrement_never_breaks_the_bounds_and_always_advances_revision_once(
    item, by, preorder_request, restrict
):
    try:
        changed = stock.decrement(
            item, by, preorder_request=preorder_request, restrict=restrict, now_ms=NOW
        )
    except StockroomError:
        return

    assert changed.quantity is not None
    assert -99_999 <= changed.quantity <= 99_999
    assert 0 <= changed.preorder.counter <= 99_999
    assert changed.revision == item.revision + 1
    if restrict:
        assert changed.quantity >= min(item.quantity or 0, 0)
    units_taken = (item.quantity or 0) - changed.quantity
    booked = changed.preorder.counter - item.preorder.counter
    assert units_taken + booked == by
