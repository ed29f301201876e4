"""Parsing a WQL filter (spec 4.1) into a small, validated tree.

The tree is what both the SQL compiler and the pure evaluator consume, so a filter means the
same thing to both. Parsing refuses, with a ``ValidationFailed`` naming the field and the
operator, anything the field spec does not allow; values are normalised on the way in (dates
to epoch milliseconds, ``$le``/``$ge`` to ``$lte``/``$gte``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stockroom.domain.errors import ValidationFailed

from .fields import INVENTORY, OPERATOR_ALIASES, Field, Kind, Spec

__all__ = [
    "MAX_DEPTH",
    "MAX_LIST",
    "MAX_NODES",
    "All",
    "AnyOf",
    "Compare",
    "Node",
    "Not",
    "date_to_ms",
    "parse_filter",
    "parse_time_zone",
]

MAX_DEPTH: Final = 10
MAX_NODES: Final = 300
MAX_LIST: Final = 1000
MAX_STRING: Final = 1000


@dataclass(frozen=True, slots=True)
class Compare:
    """``field <op> value``; list operators carry a tuple of values."""

    field: Field
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class All:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Node


Node = Compare | All | AnyOf | Not

MATCH_ALL: Final[Node] = All(())

_LIST_OPERATORS = frozenset({"$in", "$nin", "$hasSome", "$hasAll"})
_FLAG_OPERATORS = frozenset({"$exists", "$isEmpty"})


def parse_filter(raw: Any, *, where: str, time_zone: tzinfo = UTC, spec: Spec = INVENTORY) -> Node:
    """Parse and validate a filter over ``spec``'s fields; ``None`` or ``{}`` matches all.

    ``where`` names the filter in error messages (``query.filter``). Raises ``ValidationFailed``.
    """
    if raw is None:
        return MATCH_ALL
    parser = _Parser(where, time_zone, spec)
    return parser.node(raw, where, depth=1)


class _Parser:
    def __init__(self, where: str, time_zone: tzinfo, spec: Spec) -> None:
        self.where = where
        self.time_zone = time_zone
        self.spec = spec
        self.nodes = 0

    def node(self, raw: Any, at: str, *, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise _invalid(at, f"the filter nests deeper than {MAX_DEPTH} levels", "MAX")
        if not isinstance(raw, dict):
            raise _invalid(at, "a filter must be an object")
        parts: list[Node] = []
        for key, value in raw.items():
            here = f"{at}.{key}"
            if key in ("$and", "$or"):
                children = self._list_of_filters(value, here, depth)
                parts.append(All(children) if key == "$and" else AnyOf(children))
            elif key == "$not":
                parts.append(Not(self.node(value, here, depth=depth + 1)))
            elif key.startswith("$"):
                raise _invalid(here, f"{key} is not a logical operator; use $and, $or or $not")
            else:
                parts.extend(self._conditions(key, value, here))
        self.nodes += len(parts)
        if self.nodes > MAX_NODES:
            raise _invalid(self.where, f"the filter has more than {MAX_NODES} conditions", "MAX")
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def _list_of_filters(self, value: Any, at: str, depth: int) -> tuple[Node, ...]:
        if not isinstance(value, list) or not value:
            raise _invalid(at, "expects a non-empty array of filters")
        return tuple(
            self.node(child, f"{at}[{i}]", depth=depth + 1) for i, child in enumerate(value)
        )

    def _conditions(self, path: str, value: Any, at: str) -> list[Node]:
        field = self.spec.named(path)
        if field is None:
            raise _invalid(at, f"{path} cannot be filtered on")
        if isinstance(value, dict) and value and all(k.startswith("$") for k in value):
            return [self._compare(field, op, operand, at) for op, operand in value.items()]
        if isinstance(value, dict):
            raise _invalid(at, "expects a value or an object of $operators")
        return [self._compare(field, "$eq", value, at)]

    def _compare(self, field: Field, op: str, operand: Any, at: str) -> Compare:
        op = OPERATOR_ALIASES.get(op, op)
        here = f"{at}.{op}"
        if op not in field.operators:
            allowed = " ".join(sorted(field.operators))
            raise _invalid(here, f"{op} is not supported for {field.path}; use one of {allowed}")
        if op in _FLAG_OPERATORS:
            if not isinstance(operand, bool):
                raise _invalid(here, f"{op} expects true or false")
            return Compare(field, op, operand)
        if op in _LIST_OPERATORS:
            if not isinstance(operand, list):
                raise _invalid(here, f"{op} expects an array")
            if len(operand) > MAX_LIST:
                raise _invalid(here, f"{op} takes at most {MAX_LIST} values", "MAX_SIZE")
            values = tuple(self._value(field, v, f"{here}[{i}]") for i, v in enumerate(operand))
            return Compare(field, op, values)
        if operand is None and op in ("$eq", "$ne"):
            return Compare(field, op, None)
        if op == "$startsWith" and not isinstance(operand, str):
            raise _invalid(here, "$startsWith expects a string")
        return Compare(field, op, self._value(field, operand, here))

    def _value(self, field: Field, value: Any, at: str) -> Any:
        kind = Kind.STRING if field.kind is Kind.ARRAY else field.kind
        if kind in (Kind.ID, Kind.STRING, Kind.ENUM):
            if not isinstance(value, str):
                raise _invalid(at, f"{field.path} compares with strings")
            if len(value) > MAX_STRING:
                raise _invalid(at, f"values are at most {MAX_STRING} characters", "MAX_LENGTH")
            if kind is Kind.ENUM and value not in field.values:
                raise _invalid(at, f"{value!r} is not one of {', '.join(sorted(field.values))}")
            return value
        if kind is Kind.BOOL:
            if not isinstance(value, bool):
                raise _invalid(at, f"{field.path} compares with true or false")
            return value
        if kind is Kind.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _invalid(at, f"{field.path} compares with numbers")
            if isinstance(value, float) and not math.isfinite(value):
                raise _invalid(at, f"{value} is not a number to compare with")
            return value
        return date_to_ms(value, self.time_zone, at=at)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})$")


def parse_time_zone(name: str | None, *, at: str = "timeZone") -> tzinfo:
    """An IANA zone (``Europe/Berlin``) or a fixed offset (``+02:00``, ``Z``, ``UTC``)."""
    if not name or name in ("Z", "UTC", "GMT"):
        return UTC
    if offset := _OFFSET.match(name):
        sign = -1 if offset[1] == "-" else 1
        delta = timedelta(hours=int(offset[2]), minutes=int(offset[3]))
        if delta > timedelta(hours=18):
            raise _invalid(at, f"{name} is not a time zone offset")
        return timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid(at, f"{name!r} is not a known time zone") from None


def date_to_ms(value: Any, time_zone: tzinfo = UTC, *, at: str = "") -> int:
    """An ISO-8601 date or date-time (or ``{"$date": ...}``) as epoch milliseconds.

    A value without an offset is read in ``time_zone``.
    """
    if isinstance(value, dict) and set(value) == {"$date"}:
        value = value["$date"]
    if not isinstance(value, str) or len(value) > 64:
        raise _invalid(at, "dates are ISO-8601 strings, e.g. 2024-06-27T09:33:47.432Z")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise _invalid(at, f"{value!r} is not an ISO-8601 date", "FORMAT") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=time_zone)
    return (parsed - _EPOCH) // timedelta(milliseconds=1)


def _invalid(at: str, description: str, rule: str = "OTHER") -> ValidationFailed:
    return ValidationFailed.of(at, description, rule)
