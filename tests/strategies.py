"""Hypothesis strategies for inventory items and stock changes."""

from __future__ import annotations

from hypothesis import strategies as st

from stockroom.domain.item import (
    PREORDER_COUNTER_MAX,
    PREORDER_LIMIT_MAX,
    QUANTITY_MAX,
    QUANTITY_MIN,
    InventoryItem,
    Preorder,
)

from .factories import guid

quantities = st.one_of(
    st.integers(min_value=-5, max_value=5),
    st.integers(min_value=QUANTITY_MIN, max_value=QUANTITY_MAX),
    st.sampled_from([QUANTITY_MIN, QUANTITY_MAX, 0]),
)
stored_characters = st.characters(codec="utf-8", exclude_characters="\x00")
"""Any character text may hold: the API refuses U+0000, which PostgreSQL cannot store."""
amounts = st.one_of(st.integers(min_value=1, max_value=8), st.integers(1, QUANTITY_MAX))


@st.composite
def preorders(draw: st.DrawFn) -> Preorder:
    limit = draw(st.one_of(st.none(), st.integers(0, 10), st.integers(0, PREORDER_LIMIT_MAX)))
    counter = draw(st.one_of(st.integers(0, 12), st.integers(0, PREORDER_COUNTER_MAX)))
    return Preorder(
        enabled=draw(st.booleans()),
        message=draw(st.one_of(st.none(), st.text(stored_characters, min_size=1, max_size=20))),
        limit=limit,
        counter=counter,
    )


@st.composite
def items(draw: st.DrawFn) -> InventoryItem:
    tracked = draw(st.booleans())
    return InventoryItem(
        id=guid(),
        variant_id=guid(),
        location_id=guid(),
        product_id=guid(),
        quantity=draw(quantities) if tracked else None,
        in_stock=None if tracked else draw(st.booleans()),
        preorder=draw(preorders()),
        revision=draw(st.integers(1, 1000)),
        created_ms=1_700_000_000_000,
        updated_ms=1_700_000_000_000,
    )
