from dataclasses import replace

import pytest

from stockroom.domain.item import Availability, Preorder, preorder_capacity
from tests.factories import a_flag_item, an_item


@pytest.mark.parametrize(
    ("quantity", "preorder", "expected"),
    [
        (5, Preorder(), Availability.IN_STOCK),
        (0, Preorder(), Availability.OUT_OF_STOCK),
        (-3, Preorder(), Availability.OUT_OF_STOCK),
        (0, Preorder(enabled=True), Availability.PREORDER),
        (-3, Preorder(enabled=True, limit=10, counter=9), Availability.PREORDER),
        (0, Preorder(enabled=True, limit=10, counter=10), Availability.OUT_OF_STOCK),
        (0, Preorder(enabled=True, limit=0), Availability.OUT_OF_STOCK),
        (1, Preorder(enabled=True, limit=0), Availability.IN_STOCK),
        (0, Preorder(enabled=False, limit=50), Availability.OUT_OF_STOCK),
    ],
)
def test_quantity_tracked_availability_follows_stock_then_preorder_capacity(
    quantity, preorder, expected
):
    item = an_item(quantity=quantity, preorder=preorder)

    assert item.availability is expected


@pytest.mark.parametrize(
    ("in_stock", "enabled", "expected"),
    [
        (True, False, Availability.IN_STOCK),
        (True, True, Availability.IN_STOCK),
        (False, False, Availability.OUT_OF_STOCK),
        (False, True, Availability.PREORDER),
    ],
)
def test_flag_tracked_availability_has_unlimited_preorder(in_stock, enabled, expected):
    item = a_flag_item(in_stock=in_stock, preorder=Preorder(enabled=enabled))

    assert item.availability is expected


def test_track_quantity_is_derived_from_the_tracking_field():
    assert an_item().track_quantity is True
    assert a_flag_item().track_quantity is False


def test_preorder_capacity_defaults_to_the_documented_limit_and_never_goes_negative():
    assert preorder_capacity(an_item()) == 100_000
    assert preorder_capacity(an_item(preorder=Preorder(limit=50, counter=20))) == 30
    over = an_item(preorder=Preorder(limit=5, counter=9))
    assert preorder_capacity(over) == 0
    assert preorder_capacity(replace(over, preorder=Preorder(limit=None, counter=7))) == 99_993
