"""How big and how long: the full profile, and the QUICK one for development."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

__all__ = ["FULL", "QUICK", "Profile"]


@dataclass(frozen=True, slots=True)
class Profile:
    """Sizes and durations of one run. Every load loop is bounded by ``duration`` (and
    most by a count too), so no run can go on unattended."""

    name: str
    clients: tuple[int, ...]
    duration_s: float
    """Length of each timed measurement."""
    catalog_items: int
    """Items in the query store (the issue asks for 1,000,000)."""
    checkout_items: int
    """Items the checkout wave and the restock spread over."""
    flash_sale_stock: int
    """Units of the one flash-sale item; sold out by each run."""
    bulk_create_items: int
    """Items created through the API at each concurrency (and by the raw baseline)."""
    cursor_pages: tuple[int, ...]
    """Which pages of a cursor walk are timed (page size ``page_size``)."""
    page_size: int = 100
    cart_lines: int = 10
    restock_lines: int = 100
    bulk_batch: int = 1000
    latency_duration_s: float = 0.0
    """Length of each single-client latency measurement of one query (0: ``duration_s``)."""

    @property
    def latency_s(self) -> float:
        return self.latency_duration_s or self.duration_s

    def with_bulk_items(self, count: int | None) -> Profile:
        return self if count is None else replace(self, bulk_create_items=count)


FULL: Final = Profile(
    name="full",
    clients=(1, 16, 64),
    duration_s=8.0,
    latency_duration_s=4.0,
    catalog_items=1_000_000,
    checkout_items=100_000,
    # A sell-out should take a few seconds on each side to be trusted: at several thousand
    # sales a second 5,000 was over in about a second, and at thirteen thousand (SQLite, 64
    # clients) 20,000 was over in 1.5 s, its rate 12,900 against 13,400 for 60,000 (4.5 s)
    # in back-to-back runs.
    flash_sale_stock=60_000,
    # The API creates a few hundred items a second today (PostgreSQL) to a thousand (SQLite),
    # so a million per concurrency would take hours: ask for it with --bulk-items 1000000
    # (make bench BULK_ITEMS=1000000).
    bulk_create_items=64_000,  # 64 requests: one at least for each of 64 clients
    cursor_pages=(1, 100, 1000),
)

QUICK: Final = Profile(
    name="quick",
    clients=(1, 16, 64),
    duration_s=3.0,
    latency_duration_s=2.0,
    catalog_items=120_000,
    checkout_items=20_000,
    flash_sale_stock=2_000,
    bulk_create_items=6_400,
    bulk_batch=100,
    cursor_pages=(1, 100, 1000),
)
