"""Search aggregations (spec 4.5): VALUE, RANGE, SCALAR, DATE_HISTOGRAM and NESTED.

Each aggregation becomes one grouped SQL statement over the matching items (``Grouping``):
the database counts, and returns one row per group. Shaping those rows into the contract's
result (ordering and limiting values, naming the missing-value bucket, placing dates in
the requested time zone, flattening nested groups) happens here in Python, on at most a
few thousand rows. ``group_in_memory`` produces the same rows from items, for tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, func, literal

from stockroom.domain.errors import ValidationFailed
from stockroom.domain.item import InventoryItem

from .compile import column_of
from .evaluate import value_of
from .fields import Field, Kind, field_named

__all__ = ["Aggregation", "Grouping", "group_in_memory", "parse_aggregations", "shape"]

MAX_AGGREGATIONS: Final = 10
MAX_BUCKETS: Final = 50
MAX_VALUES: Final = 250
MAX_HISTOGRAM: Final = 200
_QUARTER_HOUR_MS: Final = 15 * 60 * 1000
_INTERVAL_SQL_MS: Final = {"SECOND": 1000, "MINUTE": 60_000}
_MISSING_DEFAULT: Final = {Kind.NUMBER: "0", Kind.BOOL: "false"}


@dataclass(frozen=True, slots=True)
class Aggregation:
    """One validated aggregation, or one level of a NESTED one."""

    name: str
    type: str
    field: Field
    field_path: str
    options: dict[str, Any]
    nested: tuple[Aggregation, ...] = ()

    @property
    def buckets(self) -> bool:
        return self.type in ("VALUE", "RANGE", "DATE_HISTOGRAM")


def parse_aggregations(raw: Any, *, where: str) -> tuple[Aggregation, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_AGGREGATIONS:
        raise _invalid(where, f"aggregations is an array of at most {MAX_AGGREGATIONS}")
    parsed = tuple(_aggregation(a, f"{where}[{i}]", nested=False) for i, a in enumerate(raw))
    names = [a.name for a in parsed]
    if len(set(names)) != len(names):
        raise _invalid(where, "aggregation names must be unique")
    return parsed


def _aggregation(raw: Any, at: str, *, nested: bool) -> Aggregation:
    if not isinstance(raw, dict):
        raise _invalid(at, "an aggregation is an object")
    kind = raw.get("type")
    allowed = ("VALUE", "RANGE", "SCALAR", "DATE_HISTOGRAM") + (() if nested else ("NESTED",))
    if kind not in allowed:
        raise _invalid(f"{at}.type", f"type is one of {', '.join(allowed)}")
    name = raw.get("name") or ""
    if not isinstance(name, str) or len(name) > 100:
        raise _invalid(f"{at}.name", "name is a string of at most 100 characters")
    if kind == "NESTED":
        return _nested(raw, at, name)
    path = raw.get("fieldPath")
    field = field_named(path) if isinstance(path, str) and len(path) <= 200 else None
    if field is None:
        raise _invalid(f"{at}.fieldPath", f"{path!r} cannot be aggregated")
    if field.kind is Kind.ARRAY and kind != "SCALAR":
        raise _invalid(f"{at}.fieldPath", f"{kind} aggregations on {field.path} are not supported")
    assert isinstance(path, str)
    key = {
        "VALUE": "value",
        "RANGE": "range",
        "SCALAR": "scalar",
        "DATE_HISTOGRAM": "dateHistogram",
    }[kind]
    options = raw.get(key) or {}
    if not isinstance(options, dict):
        raise _invalid(f"{at}.{key}", f"{key} is an object")
    _check_options(kind, field, options, f"{at}.{key}")
    return Aggregation(name or path, str(kind), field, path, options)


def _nested(raw: dict[str, Any], at: str, name: str) -> Aggregation:
    options = raw.get("nested") or {}
    levels = options.get("nestedAggregations") if isinstance(options, dict) else None
    if not isinstance(levels, list) or not 2 <= len(levels) <= 3:
        raise _invalid(f"{at}.nested.nestedAggregations", "NESTED takes 2 or 3 aggregations")
    parsed = tuple(
        _aggregation(level, f"{at}.nested.nestedAggregations[{i}]", nested=True)
        for i, level in enumerate(levels)
    )
    if any(not level.buckets for level in parsed[:-1]):
        raise _invalid(f"{at}.nested", "only the last nested aggregation may be SCALAR")
    return Aggregation(name or "nested", "NESTED", parsed[0].field, "", {}, parsed)


def _check_options(kind: str, field: Field, options: dict[str, Any], at: str) -> None:
    {
        "VALUE": _check_value,
        "RANGE": _check_range,
        "SCALAR": _check_scalar,
        "DATE_HISTOGRAM": _check_histogram,
    }[kind](field, options, at)


def _check_value(_: Field, options: dict[str, Any], at: str) -> None:
    limit = options.get("limit", 10)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_VALUES:
        raise _invalid(f"{at}.limit", f"limit is between 1 and {MAX_VALUES}")
    for name, allowed in (
        ("sortType", ("COUNT", "VALUE")),
        ("sortDirection", ("DESC", "ASC")),
        ("missingValues", ("EXCLUDE", "INCLUDE")),
    ):
        if options.get(name, allowed[0]) not in allowed:
            raise _invalid(f"{at}.{name}", f"{name} is {' or '.join(allowed)}")


def _check_range(field: Field, options: dict[str, Any], at: str) -> None:
    if field.kind is not Kind.NUMBER:
        raise _invalid(at, f"RANGE aggregations need a number field, not {field.path}")
    buckets = options.get("buckets")
    if not isinstance(buckets, list) or not 1 <= len(buckets) <= MAX_BUCKETS:
        raise _invalid(f"{at}.buckets", f"buckets is an array of 1 to {MAX_BUCKETS}")
    for i, bucket in enumerate(buckets):
        bounds = [bucket.get(k) for k in ("from", "to")] if isinstance(bucket, dict) else [""]
        if not all(b is None or _is_number(b) for b in bounds):
            raise _invalid(f"{at}.buckets[{i}]", "from and to are numbers")


def _check_scalar(field: Field, options: dict[str, Any], at: str) -> None:
    scalar = options.get("type")
    if scalar not in ("COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"):
        raise _invalid(f"{at}.type", "type is COUNT_DISTINCT, MIN, MAX, SUM or AVG")
    if scalar != "COUNT_DISTINCT" and field.kind is not Kind.NUMBER:
        raise _invalid(at, f"{scalar} needs a number field, not {field.path}")
    if field.kind is Kind.ARRAY:
        raise _invalid(at, f"{scalar} on {field.path} is not supported")


def _check_histogram(field: Field, options: dict[str, Any], at: str) -> None:
    if field.kind is not Kind.DATE:
        raise _invalid(at, f"DATE_HISTOGRAM needs a date field, not {field.path}")
    if options.get("interval") not in ("YEAR", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND"):
        raise _invalid(
            f"{at}.interval", "interval is YEAR, MONTH, WEEK, DAY, HOUR, MINUTE or SECOND"
        )


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


# ---- grouping: what the database computes ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Grouping:
    """The grouped statement of one aggregation: group keys, then a count and any scalar."""

    aggregation: Aggregation

    @property
    def levels(self) -> tuple[Aggregation, ...]:
        return self.aggregation.nested or (self.aggregation,)

    def columns(self) -> tuple[list[ColumnElement[Any]], list[ColumnElement[Any]]]:
        """(selected columns, group-by columns) for ``Transaction.select_rows``."""
        keys: list[ColumnElement[Any]] = [
            _bucket_sql(level).label(f"k{i}")
            for i, level in enumerate(self.levels)
            if level.buckets
        ]
        selected: list[ColumnElement[Any]] = [*keys, func.count().label("n")]
        last = self.levels[-1]
        if not last.buckets:
            selected.append(_scalar_sql(last).label("s"))
        return selected, keys


def _bucket_sql(level: Aggregation) -> ColumnElement[Any]:
    column = column_of(level.field)
    if level.type == "RANGE":
        whens = []
        for index, bucket in enumerate(level.options["buckets"]):
            bounds = [column.is_not(None)]
            if bucket.get("from") is not None:
                bounds.append(column >= bucket["from"])
            if bucket.get("to") is not None:
                bounds.append(column < bucket["to"])
            whens.append((and_(*bounds), literal(index)))
        return case(*whens, else_=literal(None))
    if level.type == "DATE_HISTOGRAM":
        size = _INTERVAL_SQL_MS.get(level.options["interval"], _QUARTER_HOUR_MS)
        return column - column % size
    return column


def _scalar_sql(level: Aggregation) -> ColumnElement[Any]:
    column = column_of(level.field)
    scalar = level.options["type"]
    if scalar == "COUNT_DISTINCT":
        return func.count(column.distinct())
    if scalar == "MIN":
        return func.min(column)
    if scalar == "MAX":
        return func.max(column)
    if scalar == "SUM":
        return func.sum(column)
    return func.avg(column)


Row = tuple[tuple[Any, ...], int, Any]
"""(group keys, count, scalar or None): one row of a grouping."""


def rows_from_sql(grouping: Grouping, found: Sequence[Any]) -> list[Row]:
    width = sum(1 for level in grouping.levels if level.buckets)
    has_scalar = not grouping.levels[-1].buckets
    return [
        (
            tuple(row[f"k{i}"] for i in range(width)),
            int(row["n"]),
            _number(row["s"]) if has_scalar else None,
        )
        for row in found
    ]


def _number(value: Any) -> Any:
    if value is None:
        return None
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else as_float


def group_in_memory(grouping: Grouping, items: Sequence[InventoryItem]) -> list[Row]:
    """The rows ``Grouping.columns`` would select, computed from items without SQL."""
    groups: dict[tuple[Any, ...], list[InventoryItem]] = defaultdict(list)
    buckets = [level for level in grouping.levels if level.buckets]
    if not buckets:
        groups[()] = []  # like SQL, a scalar over no rows still has one (empty) group
    for item in items:
        groups[tuple(_bucket_value(level, item) for level in buckets)].append(item)
    last = grouping.levels[-1]
    return [
        (key, len(members), None if last.buckets else _scalar_in_memory(last, members))
        for key, members in groups.items()
    ]


def _bucket_value(level: Aggregation, item: InventoryItem) -> Any:
    value = value_of(item, level.field)
    if level.type == "RANGE":
        if value is None:
            return None
        for index, bucket in enumerate(level.options["buckets"]):
            low, high = bucket.get("from"), bucket.get("to")
            if (low is None or value >= low) and (high is None or value < high):
                return index
        return None
    if level.type == "DATE_HISTOGRAM":
        size = _INTERVAL_SQL_MS.get(level.options["interval"], _QUARTER_HOUR_MS)
        return value - value % size
    return value


def _scalar_in_memory(level: Aggregation, members: list[InventoryItem]) -> Any:
    values = [v for item in members if (v := value_of(item, level.field)) is not None]
    scalar = level.options["type"]
    if scalar == "COUNT_DISTINCT":
        return len(set(values))
    if not values:
        return None
    if scalar == "MIN":
        return _number(min(values))
    if scalar == "MAX":
        return _number(max(values))
    if scalar == "SUM":
        return _number(sum(values))
    return _number(sum(values) / len(values))


# ---- shaping: from rows to the contract's result ---------------------------------------


def shape(aggregation: Aggregation, rows: list[Row], time_zone: tzinfo) -> dict[str, Any]:
    """The ``aggregationData.results[]`` entry of one aggregation."""
    head: dict[str, Any] = {"name": aggregation.name, "type": aggregation.type}
    if aggregation.type != "NESTED":
        head["fieldPath"] = aggregation.field_path
    if aggregation.type == "SCALAR":
        _, _, value = rows[0] if rows else ((), 0, None)
        scalar = {"type": aggregation.options["type"]}
        if value is not None:
            scalar["value"] = value
        return head | {"scalar": scalar}
    if aggregation.type == "NESTED":
        return head | {"nested": {"results": _nested_results(aggregation, rows, time_zone)}}
    buckets = _buckets(aggregation, [(key[0], count) for key, count, _ in rows], time_zone)
    if aggregation.type == "VALUE":
        return head | {"values": {"results": [b.result for b in buckets]}}
    if aggregation.type == "RANGE":
        return head | {"ranges": {"results": [b.result for b in buckets]}}
    return head | {"dateHistogram": {"results": [b.result for b in buckets]}}


@dataclass(frozen=True, slots=True)
class _Bucket:
    key: Any  # the group key rows carry: a value, a range's index, a local date
    result: dict[str, Any]  # the bucket as the contract shows it


def _buckets(
    level: Aggregation, counted: list[tuple[Any, int]], time_zone: tzinfo
) -> list[_Bucket]:
    """The buckets of one level, ordered and limited as its options ask."""
    if level.type == "DATE_HISTOGRAM":
        histogram: dict[datetime, int] = defaultdict(int)
        for key, count in counted:
            if key is not None:
                histogram[_truncate(key, level.options["interval"], time_zone)] += count
        ordered = sorted(histogram.items())[:MAX_HISTOGRAM]
        return [_Bucket(moment, {"value": _iso(moment), "count": n}) for moment, n in ordered]
    totals: dict[Any, int] = defaultdict(int)
    for key, count in counted:
        totals[key] += count
    if level.type == "RANGE":
        return [
            _Bucket(
                index,
                {k: bucket[k] for k in ("from", "to") if bucket.get(k) is not None}
                | {"count": totals.get(index, 0)},
            )
            for index, bucket in enumerate(level.options["buckets"])
        ]
    return _value_buckets(level, totals)


def _value_buckets(level: Aggregation, totals: dict[Any, int]) -> list[_Bucket]:
    options = level.options
    missing = totals.pop(None, 0)
    by_value = options.get("sortType", "COUNT") == "VALUE"
    descending = options.get("sortDirection", "DESC") == "DESC"

    def order(entry: tuple[Any, int]) -> Any:
        value, count = entry
        return (value,) if by_value else (-count if descending else count, _sortable(value))

    ordered = sorted(totals.items(), key=order, reverse=by_value and descending)
    buckets = [_Bucket(v, {"value": _shown(level.field, v), "count": n}) for v, n in ordered]
    if options.get("missingValues") == "INCLUDE" and missing:
        name = (options.get("includeOptions") or {}).get("addToBucket")
        shown = name or _MISSING_DEFAULT.get(level.field.kind, "N/A")
        buckets.append(_Bucket(None, {"value": shown, "count": missing}))
    return buckets[: options.get("limit", 10)]


def _sortable(value: Any) -> Any:
    return (str(type(value)), value)


def _shown(field: Field, value: Any) -> str:
    if field.kind is Kind.DATE:
        return _iso(datetime.fromtimestamp(value / 1000, UTC))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _truncate(bucket_ms: int, interval: str, time_zone: tzinfo) -> datetime:
    moment = datetime.fromtimestamp(bucket_ms / 1000, UTC).astimezone(time_zone)
    if interval == "SECOND":
        return moment.replace(microsecond=0)
    if interval == "MINUTE":
        return moment.replace(second=0, microsecond=0)
    moment = moment.replace(minute=0, second=0, microsecond=0)
    if interval == "HOUR":
        return moment
    day = moment.replace(hour=0)
    if interval == "DAY":
        return _localise(day, time_zone)
    if interval == "WEEK":
        return _localise(day - timedelta(days=day.weekday()), time_zone)
    if interval == "MONTH":
        return _localise(day.replace(day=1), time_zone)
    return _localise(day.replace(month=1, day=1), time_zone)


def _localise(moment: datetime, time_zone: tzinfo) -> datetime:
    """Re-attach the zone so the UTC offset is the one in force at that local time."""
    return moment.replace(tzinfo=None).replace(tzinfo=time_zone)


def _iso(moment: datetime) -> str:
    text = moment.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _nested_results(
    aggregation: Aggregation, rows: list[Row], time_zone: tzinfo
) -> list[dict[str, Any]]:
    levels = aggregation.nested
    bucket_levels = [level for level in levels if level.buckets]
    scalar = None if levels[-1].buckets else levels[-1]
    flattened: list[dict[str, Any]] = []

    def walk(depth: int, subset: list[Row], prefix: dict[str, Any]) -> None:
        if depth == len(bucket_levels):
            if scalar is not None:
                value = subset[0][2] if subset else None
                result = {"value": value} if value is not None else {}
                flattened.append(prefix | {scalar.name: {"scalar": result}})
            else:
                flattened.append(prefix)
            return
        level = bucket_levels[depth]
        counted = [(key[depth], count) for key, count, _ in subset]
        for bucket in _buckets(level, counted, time_zone):
            members = [
                row for row in subset if _key_of(level, row[0][depth], time_zone) == bucket.key
            ]
            if members:
                kind = {"RANGE": "range", "DATE_HISTOGRAM": "dateHistogram"}.get(
                    level.type, "value"
                )
                walk(depth + 1, members, prefix | {level.name: {kind: bucket.result}})

    walk(0, rows, {})
    return [{"results": row} for row in flattened]


def _key_of(level: Aggregation, key: Any, time_zone: tzinfo) -> Any:
    if level.type == "DATE_HISTOGRAM" and key is not None:
        return _truncate(key, level.options["interval"], time_zone)
    return key


def _invalid(at: str, description: str) -> ValidationFailed:
    return ValidationFailed.of(at, description)
