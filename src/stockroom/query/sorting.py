"""Sort orders (spec 4.1, 4.3): validation, and the key every page is cut by.

An order is the requested fields followed by ``id`` in the direction of the last field, so
that it is total and a cursor can resume exactly after the last row it returned. Missing
values sort first when ascending and last when descending, on every backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from stockroom.domain.errors import ValidationFailed

from .fields import INVENTORY, Field, Spec

__all__ = ["MAX_SORT", "Order", "SortKey", "default_order", "parse_sort"]

MAX_SORT: Final = 10

Direction = Literal["ASC", "DESC"]


@dataclass(frozen=True, slots=True)
class SortKey:
    field: Field
    direction: Direction


@dataclass(frozen=True, slots=True)
class Order:
    """A total order: the requested keys, then ``tie`` (the entity's id)."""

    keys: tuple[SortKey, ...]
    tie: Field = INVENTORY.id_field

    @property
    def total(self) -> tuple[SortKey, ...]:
        direction: Direction = self.keys[-1].direction if self.keys else "ASC"
        return (*self.keys, SortKey(self.tie, direction))

    def reversed(self) -> Order:
        return Order(tuple(SortKey(k.field, _flip(k.direction)) for k in self.keys), self.tie)

    def to_json(self) -> list[dict[str, str]]:
        return [{"fieldName": k.field.path, "order": k.direction} for k in self.keys]


def _flip(direction: Direction) -> Direction:
    return "DESC" if direction == "ASC" else "ASC"


def default_order(spec: Spec = INVENTORY) -> Order:
    """Newest first (``createdDate DESC``), as the contract's searches default to."""
    return Order((SortKey(spec.fields[spec.default_sort], "DESC"),), spec.id_field)


def parse_sort(raw: Any, *, where: str, spec: Spec = INVENTORY) -> Order:
    """Validate a ``sort`` array; an empty or absent one gives ``createdDate DESC``."""
    if raw is None or raw == []:
        return default_order(spec)
    if not isinstance(raw, list):
        raise ValidationFailed.of(where, "sort must be an array")
    if len(raw) > MAX_SORT:
        raise ValidationFailed.of(
            where, f"at most {MAX_SORT} sort fields", "MAX_SIZE", threshold=MAX_SORT
        )
    keys: list[SortKey] = []
    for index, entry in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("fieldName"), str):
            raise ValidationFailed.of(f"{at}.fieldName", "fieldName is required", "REQUIRED_FIELD")
        field = spec.named(entry["fieldName"])
        if field is None or not field.sortable:
            raise ValidationFailed.of(
                f"{at}.fieldName", f"{entry['fieldName']!r} cannot be sorted on"
            )
        requested = entry.get("order") or "ASC"
        if requested not in ("ASC", "DESC"):
            raise ValidationFailed.of(f"{at}.order", "order is ASC or DESC")
        direction: Direction = "ASC" if requested == "ASC" else "DESC"
        if any(k.field is field for k in keys):
            raise ValidationFailed.of(f"{at}.fieldName", f"{field.path} is sorted on twice")
        keys.append(SortKey(field, direction))
    return Order(tuple(keys), spec.id_field)
