"""Queries and searches compiled by the server's own compiler, for the raw baseline.

A ``ReadRequest`` is one body the API receives. ``statements`` builds what the service
runs for it (``service/queries.py``): the page SELECT (``limit + 1`` rows, after the
cursor's key when there is one) and one grouped SELECT per aggregation, from the same
``stockroom.query`` functions, so both sides run the same SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, and_, select
from sqlalchemy.dialects import postgresql, sqlite

from stockroom.query import aggregate
from stockroom.query.compile import after_key, column_of, order_by
from stockroom.query.plan import plan_request
from stockroom.service.queries import matching
from stockroom.storage.schema import inventory_items as items

__all__ = ["ReadRequest", "postgres_form", "sort_key_of", "sqlite_form", "statements", "to_pgbench"]

_ITEM_COLUMNS = [c for c in items.c if c.name != "availability_status"]
# A named paramstyle, so that inlined LIKE patterns keep single '%' signs.
_PG_LITERAL = postgresql.dialect(paramstyle="named")  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One query or search request: its name in the report and its body's inner object."""

    name: str
    kind: Literal["query", "search"]
    body: dict[str, Any]

    @property
    def path(self) -> str:
        return f"/stores/v3/inventory-items/{self.kind}"

    def http_body(self, cursor: str | None = None, *, limit: int | None = None) -> dict[str, Any]:
        """The request's first page, or the page at ``cursor``; ``limit`` overrides the
        page size (a cursor may be sent with a new limit)."""
        paging: dict[str, Any] = {"cursor": cursor} if cursor is not None else {}
        if limit is not None:
            paging["limit"] = limit
        if cursor is not None:
            return {self.kind: {"cursorPaging": paging}}
        cursor_paging = {**(self.body.get("cursorPaging") or {}), **paging}
        return {self.kind: {**self.body, "cursorPaging": cursor_paging}}


def _plan(request: ReadRequest) -> Any:
    body = request.body
    return plan_request(
        request.kind,
        where=request.kind,
        raw_filter=body.get("filter"),
        raw_sort=body.get("sort"),
        raw_search=body.get("search"),
        limit=(body.get("cursorPaging") or {}).get("limit"),
        time_zone=body.get("timeZone"),
    )


def statements(
    request: ReadRequest, *, store_id: str, dialect: str, after: Sequence[Any] | None = None
) -> list[Select[Any]]:
    """The SELECTs the service runs for ``request`` (continuing after ``after``)."""
    plan = _plan(request)
    condition = matching(plan.filter, plan.search, dialect)
    page_condition = and_(condition, after_key(plan.order, after)) if after else condition
    page = (
        select(*_ITEM_COLUMNS)
        .where(items.c.store_id == store_id, page_condition)
        .order_by(*order_by(plan.order))
        .limit(plan.limit + 1)
    )
    found = [page]
    for aggregation in aggregate.parse_aggregations(
        request.body.get("aggregations"), where="search.aggregations"
    ):
        columns, group_by = aggregate.Grouping(aggregation).columns()
        found.append(
            select(*columns)
            .select_from(items)
            .where(items.c.store_id == store_id, condition)
            .group_by(*group_by)
        )
    return found


def sort_key_of(request: ReadRequest, *, store_id: str, item_id: str) -> Select[Any]:
    """A SELECT of the sort-key values of one item: the bound a cursor after it carries."""
    plan = _plan(request)
    keys = [column_of(key.field) for key in plan.order.total]
    return select(*keys).where(items.c.store_id == store_id, items.c.id == item_id)


def sqlite_form(statement: Select[Any]) -> tuple[str, list[Any]]:
    """SQL with ``?`` parameters and their values, as the server's driver receives them."""
    compiled = statement.compile(dialect=sqlite.dialect())
    params = compiled.params
    return compiled.string, [params[name] for name in compiled.positiontup or ()]


def postgres_form(statement: Select[Any]) -> str:
    """SQL with the values inlined (pgbench prepares it once per connection)."""
    return str(statement.compile(dialect=_PG_LITERAL, compile_kwargs={"literal_binds": True}))


def to_pgbench(selects: Sequence[Select[Any]]) -> str:
    """One read transaction as a pgbench script, begun as the PostgreSQL backend begins its
    reads (one snapshot for the page and its aggregations)."""
    body = [postgres_form(s).replace("\n", " ") + ";" for s in selects]
    return "\n".join(["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;", *body, "COMMIT;"]) + "\n"
