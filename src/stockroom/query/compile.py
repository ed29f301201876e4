"""The query language compiled to SQLAlchemy Core expressions over ``inventory_items``.

Every value reaches the database as a bound parameter; no user text is ever part of the SQL.
Comparisons are two-valued: a missing value makes a comparison false (and ``$ne``/``$nin``
true), never NULL, so ``$not`` means the same here as in ``evaluate``.

The few constructs that differ between SQLite and PostgreSQL (JSON arrays, case folding)
are chosen by dialect name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB, array
from sqlalchemy.sql.elements import UnaryExpression

from stockroom.storage.schema import inventory_items as items
from stockroom.storage.schema import metadata

from .fields import Field, Kind
from .filter import All, AnyOf, Compare, Node, Not
from .sorting import Order

__all__ = [
    "after_key",
    "column_of",
    "like_prefix",
    "lowered",
    "order_by",
    "sort_key_of",
    "where",
]


def column_of(field: Field) -> ColumnElement[Any]:
    """The SQL expression holding a field's value."""
    if field.column == "track_quantity":
        return items.c.quantity.is_not(None)
    return metadata.tables[field.table].c[field.column]


def sort_key_of(field: Field) -> ColumnElement[Any]:
    """The column a field sorts by: its own, or its ``sort_key``'s."""
    if field.sort_key is None:
        return column_of(field)
    return metadata.tables[field.table].c[field.sort_key.column]


def lowered(expression: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """Unicode lower-casing as Python does it: on PostgreSQL, ``lower`` under ICU's root
    locale (the text columns' own "C" collation would fold only ASCII); on SQLite, Python's,
    registered as ``py_lower`` by the backend (SQLite's own only folds ASCII)."""
    if dialect == "postgresql":
        return func.lower(expression.collate("und-x-icu"))
    return func.py_lower(expression)


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with ``prefix``, escaped with ``\\``."""
    return _escape_like(prefix) + "%"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def where(
    node: Node, dialect: str, *, present: frozenset[str] = frozenset()
) -> ColumnElement[bool]:
    """The WHERE condition of a filter tree. ``present``: the paths of fields a sibling
    condition already requires to have a value."""
    if isinstance(node, All):
        known = frozenset(
            p.field.path for p in node.parts if isinstance(p, Compare) and _leaves_out_missing(p)
        )
        return and_(true(), *(where(part, dialect, present=known) for part in node.parts))
    if isinstance(node, AnyOf):
        return or_(false(), *(where(part, dialect) for part in node.parts))
    if isinstance(node, Not):
        return not_(where(node.part, dialect))
    if node.field.kind is Kind.ARRAY:
        return _array_condition(node, dialect)
    return _scalar_condition(node, dialect, present_known=node.field.path in present)


def _leaves_out_missing(node: Compare) -> bool:
    """Whether ``node`` compares a field's sort key with values above its stand-in for a
    missing value, and so can hold only where the field has a value."""
    key = node.field.sort_key
    if key is None or node.op not in ("$eq", "$gt", "$gte", "$in", "$hasSome"):
        return False
    values = node.value if isinstance(node.value, list | tuple) else [node.value]
    return bool(values) and all(isinstance(v, int | float) and v > key.missing_as for v in values)


def _scalar_condition(node: Compare, dialect: str, *, present_known: bool) -> ColumnElement[bool]:
    field, op, value = node.field, node.op, node.value
    column = column_of(field)
    missing: ColumnElement[bool] = column.is_(None)
    if field.sort_key is not None:
        # Conditions on the sort key, which equals the column wherever the column has a
        # value: its index then answers them too. Missing is the stand-in; present, above it,
        # a lower bound of the index range. That bound is left out where the condition or a
        # sibling's leaves out the stand-in anyway: SQLite bounds a range by one lower bound
        # only, and could take it rather than the comparison's own.
        column = sort_key_of(field)
        stand_in = literal(field.sort_key.missing_as, Integer)
        missing = column == stand_in
        present = true() if present_known or _leaves_out_missing(node) else column > stand_in
    else:
        present = column.is_not(None) if field.nullable else true()
    if op == "$exists":
        return present if value else missing
    if op == "$isEmpty":
        empty = or_(missing, column == "")
        return empty if value else not_(empty)
    if op == "$eq":
        return missing if value is None else and_(present, column == value)
    if op == "$ne":
        return not_(missing) if value is None else or_(missing, column != value)
    if op in ("$in", "$hasSome"):
        return and_(present, column.in_(value)) if value else false()
    if op == "$nin":
        return or_(missing, column.not_in(value)) if value else true()
    if op == "$startsWith":
        pattern = like_prefix(value.lower())
        return and_(present, lowered(column, dialect).like(pattern, escape="\\"))
    comparison = {
        "$gt": column > value,
        "$gte": column >= value,
        "$lt": column < value,
        "$lte": column <= value,
    }[op]
    return and_(present, comparison)


def _array_condition(node: Compare, dialect: str) -> ColumnElement[bool]:
    column = column_of(node.field)
    op, value = node.op, node.value
    if op == "$exists":
        return column.is_not(None) if value else column.is_(None)
    if dialect == "postgresql":
        document = type_coerce(column, JSONB)
        if op == "$isEmpty":
            empty = or_(column.is_(None), func.jsonb_array_length(document) == 0)
            return empty if value else not_(empty)
        if not value:
            return false()
        candidates = array(list(value))
        if op == "$hasSome":
            return and_(column.is_not(None), document.has_any(candidates))
        return and_(column.is_not(None), document.has_all(candidates))
    elements = func.json_each(column).table_valued("value")
    if op == "$isEmpty":
        empty = or_(column.is_(None), func.json_array_length(column) == 0)
        return empty if value else not_(empty)
    if not value:
        return false()
    matching = select(literal(1)).select_from(elements).where(elements.c.value.in_(value))
    if op == "$hasSome":
        return and_(column.is_not(None), matching.exists())
    distinct = (
        select(func.count(elements.c.value.distinct()))
        .select_from(elements)
        .where(elements.c.value.in_(value))
        .scalar_subquery()
    )
    return and_(column.is_not(None), type_coerce(distinct, Integer) == len(set(value)))


def order_by(order: Order) -> list[UnaryExpression[Any]]:
    """ORDER BY clauses: missing values first ascending, last descending, then ``id``."""
    clauses = []
    for key in order.total:
        column = sort_key_of(key.field)
        if not _may_be_null(key.field):
            # No NULLS clause where there are no NULLs: PostgreSQL then walks the index.
            clauses.append(column.asc() if key.direction == "ASC" else column.desc())
        else:
            clauses.append(
                column.asc().nulls_first() if key.direction == "ASC" else column.desc().nulls_last()
            )
    return clauses


def after_key(order: Order, last: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after the row whose sort values were ``last`` (one per ``order.total``).

    For keys k1..kn: (k1 after) OR (k1 equal AND k2 after) OR ... in the order's own terms,
    where "after" respects each key's direction and where its missing values sort. When no
    key can be missing and all run one way, it is the row comparison ``(k1, k2) > (v1, v2)``,
    which both databases answer as an index range.
    """
    keys = order.total
    last = [_key_value(key.field, value) for key, value in zip(keys, last, strict=True)]
    if all(not _may_be_null(k.field) for k in keys) and len({k.direction for k in keys}) == 1:
        columns = tuple_(*(sort_key_of(k.field) for k in keys))
        values = tuple_(
            *(literal(v, column_of(k.field).type) for k, v in zip(keys, last, strict=True))
        )
        return columns > values if keys[0].direction == "ASC" else columns < values
    alternatives = []
    equal_so_far: list[ColumnElement[bool]] = []
    equal: ColumnElement[bool]
    for key, value in zip(keys, last, strict=True):
        column = sort_key_of(key.field)
        after: ColumnElement[bool]
        if value is None:
            after = column.is_not(None) if key.direction == "ASC" else false()
            equal = column.is_(None)
        else:
            # A bound parameter, not a constant: SQLAlchemy refuses ``column > True``.
            bound = literal(value, column.type)
            if key.direction == "ASC":
                after = column > bound
            elif _may_be_null(key.field):
                after = or_(column < bound, column.is_(None))
            else:
                after = column < bound
            equal = column == bound
        alternatives.append(and_(*equal_so_far, after))
        equal_so_far.append(equal)
    return or_(*alternatives)


def _may_be_null(field: Field) -> bool:
    """Whether the field's sort key can be NULL."""
    return field.nullable and field.sort_key is None


def _key_value(field: Field, value: Any) -> Any:
    """A field's value as its sort key holds it."""
    return field.sort_key.missing_as if value is None and field.sort_key is not None else value
