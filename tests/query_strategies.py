"""Hypothesis strategies for stores of items and for valid filters, sorts and searches.

Values come from small pools so that random filters hit, miss and tie often.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from stockroom.domain.item import InventoryItem, Preorder, ProductSummary
from stockroom.query.fields import FIELDS, Field, Kind

from .factories import guid

BASE_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
TIMES = [BASE_MS + step * 3_600_000 for step in (0, 0, 1, 5, 30, 24 * 40, 24 * 400)]
WORDS = ["scarf", "Wool", "wool", "sCarf", "hat", "Été", "red_1", "100%", "blue", ""]
CATEGORIES = ["c1", "c2", "c3"]
SKUS = ["SKU-1", "SKU-2", "sku-10", "A%B", "x_y"]


def _texts(pool: list[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(pool))


@st.composite
def products(draw: st.DrawFn) -> ProductSummary | None:
    if draw(st.integers(0, 4)) == 0:
        return None
    name = draw(st.one_of(st.none(), st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join)))
    return ProductSummary(
        name=name or None,
        variant_name=draw(_texts(["Red / M", "blue / s", "Wool L"])),
        variant_sku=draw(_texts(SKUS)),
        variant_barcode=draw(_texts(["0001", "0002"])),
        brand_id=draw(_texts(["b1", "b2"])),
        direct_category_ids=tuple(
            draw(st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3))
        ),
    )


@st.composite
def stored_items(draw: st.DrawFn) -> InventoryItem:
    tracked = draw(st.booleans())
    return InventoryItem(
        id=guid(),
        variant_id=guid(),
        location_id="",  # replaced by the store's default location when stored
        product_id=draw(st.sampled_from(["p1", "p2", "P3", "p10"])),
        quantity=draw(st.sampled_from([-3, 0, 0, 1, 5, 5, 12, 99999])) if tracked else None,
        in_stock=None if tracked else draw(st.booleans()),
        preorder=Preorder(enabled=draw(st.booleans()), limit=draw(st.sampled_from([None, 0, 3]))),
        revision=1,
        created_ms=draw(st.sampled_from(TIMES)),
        updated_ms=draw(st.sampled_from(TIMES)),
        product=draw(products()),
    )


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _values(field: Field) -> st.SearchStrategy[Any]:
    pools: dict[Kind, st.SearchStrategy[Any]] = {
        Kind.NUMBER: st.sampled_from([-3, 0, 1, 4.5, 5, 12, 99999]),
        Kind.BOOL: st.booleans(),
        Kind.DATE: st.sampled_from(TIMES).map(_iso),
        Kind.ENUM: st.sampled_from(sorted(field.values)),
        Kind.ARRAY: st.sampled_from([*CATEGORIES, "c9"]),
    }
    if field.kind in pools:
        return pools[field.kind]
    if field.path == "productId":
        return st.sampled_from(["p1", "p2", "P3", "p10", "p"])
    return st.sampled_from([*WORDS, *SKUS, "Red / M", "b1", "0001", "s", "w"])


_LIST_OPS = {"$in", "$nin", "$hasSome", "$hasAll"}


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    every = sorted(FIELDS.values(), key=lambda f: f.path)
    nullable = [f for f in every if f.nullable]  # where NULL semantics can go wrong: drawn more
    field = draw(st.sampled_from(every) | st.sampled_from(nullable))
    if field.path in ("id", "variantId", "locationId"):
        field = FIELDS["productId"]  # random GUIDs never match; productId exercises the same ops
    op = draw(
        st.sampled_from(
            sorted(field.operators | ({"$le", "$ge"} if "$lte" in field.operators else set()))
        )
    )
    if op in ("$exists", "$isEmpty"):
        operand: Any = draw(st.booleans())
    elif op in _LIST_OPS:
        operand = draw(st.lists(_values(field), max_size=3))
    elif op == "$startsWith":
        operand = draw(st.sampled_from(["s", "W", "sku-", "", "é", "red_", "100%"]))
    elif op in ("$eq", "$ne"):
        operand = draw(st.one_of(st.none(), _values(field)))
    else:
        operand = draw(_values(field))
    if op == "$eq" and draw(st.booleans()):
        return {field.path: operand}
    return {field.path: {op: operand}}


filters = st.recursive(
    conditions() | st.just({}),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"$and": parts}),
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"$or": parts}),
        inner.map(lambda part: {"$not": part}),
        st.tuples(inner, inner).map(lambda pair: {**pair[0], **pair[1]}),
    ),
    max_leaves=6,
)

_SORTABLE = sorted(path for path, field in FIELDS.items() if field.sortable)

sorts = st.lists(
    st.builds(
        lambda path, order: {"fieldName": path, **({"order": order} if order else {})},
        st.sampled_from(_SORTABLE),
        st.sampled_from([None, "ASC", "DESC"]),
    ),
    max_size=3,
    unique_by=lambda entry: entry["fieldName"],
)

searches = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "expression": st.lists(
                st.sampled_from(
                    ["scarf", "wool", "sku", "scraf", "wol", "été", "red", "100%", "xyz"]
                ),
                min_size=1,
                max_size=2,
            ).map(" ".join)
        },
        optional={
            "mode": st.sampled_from(["AND", "OR"]),
            "fuzzy": st.booleans(),
            "fields": st.lists(
                st.sampled_from(["product.name", "product.variantSku", "product.variantName"]),
                min_size=1,
                max_size=2,
                unique=True,
            ),
        },
    ),
)
