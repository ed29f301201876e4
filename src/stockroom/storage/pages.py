"""One page of filtered items in order: which way round to read it.

A filtered, sorted page can be read two ways: walk the sort order's index and keep the rows
that match until the page is full, or find every match through the filter's index and sort
them. The first costs rows walked per match found, the second costs every match. Each
database misjudges one side (measured at a million items):

- SQLite, built without STAT4 (as Debian's is), cannot tell a narrow range from a broad one
  and prefers the filter's index: ``quantity < 5`` at one location sorted 25,000 matches
  (83 ms) where walking the creation order finds a page in 4,000 rows (3 ms).
- PostgreSQL estimates the number of matches well, but assumes they are spread evenly
  through the sort order, which correlated dates are not (items updated on one day were
  created around the same time, far from the newest): it walked the creation order for
  ``updatedDate`` within one day (41 ms) where there were 2,700 matches to sort.

Both are handled only when the page's order is an index walk and the filter compares a
column that leads another index (the one the matches would be read through); any other
filter, free text for one, is left to the database.

- SQLite counts the matches up to ``FEW`` (through that index; usually well under a
  millisecond). Few are left to its own plan, which sorts them. For many, it walks the
  first ``WALK`` rows of the order with the filter out of the index's reach; a page not
  filled by then (matches that cluster far along the order) goes to its own plan after
  all, having paid for the walk. Over HTTP, p50/p99: ``quantity < 5`` at one location
  110/145 -> 13/17 ms, ``quantity`` in [10, 20) 17/20 -> 8/10 ms.
- SQLite, when the filter also holds an equality on a column that an index holds just
  before the order's first key (``locationId``: the (store, location, created, id)
  index), walks that index instead, with the equality in reach of it and the rest of the
  filter not: it visits only that location's rows, in order, and there is nothing to count
  first. A page not filled within ``WALK`` of them goes to its own plan. ``quantity < 5``
  at one location: 16/27 -> 6/10 ms p50/p99 over HTTP; a filter that matches none of the
  location's rows pays for the fruitless walk (9 ms) before its own plan.
- PostgreSQL is asked for its estimate (EXPLAIN, about half a millisecond); when it expects
  no more than ``FEW_ESTIMATED`` matches, the page is ordered by an expression no index
  holds, so the matches are found first and then sorted: ``updatedDate`` within one day
  41/83 -> 7/13 ms. Counting instead, as on SQLite, cost its common pages 2-6 ms.

Nothing here builds a derived table, or an expression with a literal, per page: SQLAlchemy
makes a subquery's or CTE's columns, and a literal's type comparator, in reference cycles
that only the garbage collector frees (about 500 objects a page with derived tables,
measured), and the collector's pauses showed in the latency of every query.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Final

from sqlalchemy import (
    BinaryExpression,
    BooleanClauseList,
    Column,
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    UnaryExpression,
    and_,
    false,
    func,
    literal,
    select,
)
from sqlalchemy.sql import operators

from .schema import inventory_items as items

__all__ = [
    "EXPLAIN",
    "FEW",
    "FEW_ESTIMATED",
    "WALK",
    "explaining",
    "seeks_another_index",
    "select_page",
    "walks_an_index",
]

FEW: Final = 3_000
"""SQLite: up to this many matches count as few. Counting costs a row read per candidate
the filter's index offers, which may be many more than match (``quantity < 5`` at one
location: four rows read a match, 14 ms to count 5,000). Measured at a million items, 3,000
rather than 1,000: that page 8 -> 13 ms p50, but ``updatedDate`` within one day (2,700
matches, far along the creation order) 16 -> 7 ms, no longer walking in vain."""
EXPLAIN: Final = "stockroom_explain"
"""The execution option that has ``explaining`` send a statement as EXPLAIN."""
FEW_ESTIMATED: Final = 5_000
"""PostgreSQL: up to this many matches expected by its planner are sorted after filtering."""
WALK: Final = 20_000
"""Rows of the order walked for a page before SQLite's own plan is left to answer."""

_MODIFIERS: Final = {
    operators.asc_op: "asc",
    operators.desc_op: "desc",
    operators.nulls_first_op: "nulls_first",
    operators.nulls_last_op: "nulls_last",
}


def _walkable_orders() -> frozenset[tuple[str, ...]]:
    """The column sequences some index of ``inventory_items`` holds in order after the
    store: an ORDER BY on one of them is an index walk."""
    found = set()
    for index in items.indexes:
        names = tuple(column.name for column in index.columns)
        if names[:1] == ("store_id",):
            found.add(names[1:])
    return frozenset(found)


_WALKABLE: Final = _walkable_orders()
_FOLLOWING: Final = {
    columns[0]: frozenset(later[1] for later in _WALKABLE if later[:1] == columns[:1] and later[1:])
    for columns in _WALKABLE
    if columns
}
"""Each column that leads an index after the store: the columns that follow it in one."""
_SEEKING: Final = frozenset(
    {operators.eq, operators.lt, operators.le, operators.gt, operators.ge, operators.in_op}
)


def _parts(clause: Any) -> tuple[Any, list[str]]:
    """An ORDER BY clause as its column and the modifiers applied to it, innermost first."""
    applied: list[str] = []
    while isinstance(clause, UnaryExpression) and clause.modifier in _MODIFIERS:
        applied.insert(0, _MODIFIERS[clause.modifier])
        clause = clause.element
    return clause, applied


def seeks_another_index(condition: Any, order_by: Sequence[Any]) -> bool:
    """Whether one of the AND-ed terms of ``condition`` compares a column that leads an
    index after the store, other than the order's first: an index the database may read
    the matches through, to sort them afterwards. Not when it is an equality and the index
    holds the order's first column next: that index serves the filter and the order."""
    if isinstance(condition, BooleanClauseList) and condition.operator is operators.and_:
        return any(seeks_another_index(term, order_by) for term in condition.clauses)
    if not isinstance(condition, BinaryExpression) or condition.operator not in _SEEKING:
        return False
    column = condition.left
    if not isinstance(column, Column) or column.name not in _FOLLOWING:
        return False
    first = _parts(order_by[0])[0]
    return column is not first and not _narrows(condition, first)


def _narrows(term: Any, first: Any) -> bool:
    """Whether ``term`` is an equality on a column that some index holds just before the
    order's first column ``first``: that index serves the term and the order together, and
    a walk of it visits the term's rows alone, in order."""
    return (
        isinstance(term, BinaryExpression)
        and term.operator is operators.eq
        and isinstance(term.left, Column)
        and first.name in _FOLLOWING.get(term.left.name, ())
    )


def _narrowing(
    condition: ColumnElement[bool], order_by: Sequence[Any]
) -> tuple[list[ColumnElement[bool]], ColumnElement[bool] | None]:
    """``condition`` split in two: its AND-ed terms that narrow a walk of the order
    (``_narrows``), and the other terms (None if there are none)."""
    first = _parts(order_by[0])[0]
    narrowing: list[ColumnElement[bool]] = []
    rest: list[ColumnElement[bool]] = []
    for term in _and_terms(condition):
        (narrowing if _narrows(term, first) else rest).append(term)
    if not rest:
        return narrowing, None
    return narrowing, rest[0] if len(rest) == 1 else and_(*rest)


def _and_terms(condition: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    if isinstance(condition, BooleanClauseList) and condition.operator is operators.and_:
        return list(condition.clauses)
    return [condition]


def walks_an_index(order_by: Sequence[Any]) -> bool:
    """Whether the ORDER BY clauses read one index in order (after the store)."""
    columns = [_parts(clause)[0] for clause in order_by]
    if not all(isinstance(column, Column) for column in columns):
        return False
    return tuple(column.name for column in columns) in _WALKABLE


def select_page(
    conn: Connection,
    columns: Sequence[Column[Any]],
    *,
    store: ColumnElement[bool],
    matched: ColumnElement[bool] | None,
    after: ColumnElement[bool] | None,
    order_by: Sequence[Any],
    limit: int,
) -> list[RowMapping]:
    """Up to ``limit`` rows of ``columns``: the store's items meeting ``matched`` (None: no
    filter) strictly after the cursor's bound ``after`` (None: from the start), in order."""
    bound = [store] if after is None else [store, after]
    plain = select(*columns).where(*bound).order_by(*order_by).limit(limit)
    if matched is None:
        return _rows(conn, plain)
    plain = plain.where(matched)
    if not walks_an_index(order_by) or not seeks_another_index(matched, order_by):
        return _rows(conn, plain)
    candidates = select(literal(1)).where(*bound, matched)
    if conn.dialect.name == "postgresql":
        few = _estimated_rows(conn, candidates) <= FEW_ESTIMATED
        return _rows(conn, _sorted_after_filtering(plain, order_by) if few else plain)
    narrowing, rest = _narrowing(matched, order_by)
    if narrowing and rest is not None:
        walked = _walk(
            conn, columns, bound=[*bound, *narrowing], matched=rest, order_by=order_by, limit=limit
        )
        return walked if walked is not None else _rows(conn, plain)
    counted = candidates.limit(FEW + 1).subquery()
    if conn.execute(select(func.count()).select_from(counted)).scalar_one() > FEW:
        walked = _walk(conn, columns, bound=bound, matched=matched, order_by=order_by, limit=limit)
        if walked is not None:
            return walked
    return _rows(conn, plain)


def _estimated_rows(conn: Connection, statement: Select[Any]) -> float:
    """How many rows PostgreSQL's planner expects ``statement`` to return: it is planned,
    not run (``explaining`` turns it into EXPLAIN on its way to the driver)."""
    plan = conn.execute(statement, execution_options={EXPLAIN: True}).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])


def explaining(  # noqa: PLR0917 - the signature SQLAlchemy calls
    conn: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> tuple[str, Any]:
    """A ``before_cursor_execute`` hook (PostgreSQL's engine): a statement executed with
    the ``EXPLAIN`` option goes to the database as ``EXPLAIN (FORMAT JSON)`` of itself.
    The statement is compiled, and cached compiled, as usual: compiling one afresh builds
    objects in reference cycles, garbage that only the collector frees."""
    if context is not None and context.execution_options.get(EXPLAIN):
        statement = f"EXPLAIN (FORMAT JSON) {statement}"
    return statement, parameters


@cache
def _plus_nothing(column: str) -> ColumnElement[Any]:
    """A (number) column plus nothing: made once per column, since building an expression
    with a literal makes objects in reference cycles."""
    return items.c[column] + 0


def _sorted_after_filtering(statement: Select[Any], order_by: Sequence[Any]) -> Select[Any]:
    """``statement`` ordered by its first key plus nothing: the same order, which no index
    can give, so the matches are found first and then sorted. (The orders that walk an
    index begin with a number: a creation or update time, or the quantity's sort key.)"""
    first, applied = _parts(order_by[0])
    ordered: Any = _plus_nothing(first.name)
    for name in applied:
        ordered = getattr(ordered, name)()
    return statement.order_by(None).order_by(ordered, *order_by[1:])


def _rows(conn: Connection, statement: Select[Any]) -> list[RowMapping]:
    return list(conn.execute(statement).mappings())


def _walk(
    conn: Connection,
    columns: Sequence[Column[Any]],
    *,
    bound: list[ColumnElement[bool]],
    matched: ColumnElement[bool],
    order_by: Sequence[Any],
    limit: int,
) -> list[RowMapping] | None:
    """The page from the first ``WALK`` rows of the order (and any tied with the last of
    them on the first key), or None if they do not fill it.

    The filter goes in as ``coalesce(filter, false)``, the same condition to a WHERE clause,
    but a function call, whose terms no index can serve: the order's index is then the only
    one to read. The walk's end is a bound on the first key alone, which the index seeks
    as it does the cursor's (a row comparison would serve as well, but SQLAlchemy builds one
    in reference cycles)."""
    first, applied = _parts(order_by[0])
    edge = conn.execute(
        select(first).where(*bound).order_by(*order_by).offset(WALK - 1).limit(1)
    ).scalar()
    within: list[ColumnElement[bool]] = []
    if edge is not None:
        within.append(first >= edge if "desc" in applied else first <= edge)
    statement = (
        select(*columns)
        .where(*bound, *within, func.coalesce(matched, false()))
        .order_by(*order_by)
        .limit(limit)
    )
    rows = _rows(conn, statement)
    return rows if len(rows) == limit or edge is None else None
