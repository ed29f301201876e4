"""What every use case needs: the storage, a clock and an id source."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stockroom.domain.errors import StockroomError
from stockroom.domain.item import InventoryItem
from stockroom.storage.base import Storage

if TYPE_CHECKING:
    from .coalesce import Coalescer

__all__ = ["Inventory", "ItemResult", "now_ms", "random_id"]


def now_ms() -> int:
    """Wall-clock time in integer milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


def random_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class Inventory:
    """The inventory service's dependencies, built once by the application."""

    storage: Storage
    clock: Callable[[], int] = now_ms
    new_id: Callable[[], str] = field(default=random_id)
    coalescer: Coalescer | None = None
    """Merges concurrent single-line stock changes to one item; ``None`` turns that off."""


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The outcome of one element of a bulk request."""

    item_id: str | None
    item: InventoryItem | None = None
    error: StockroomError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
