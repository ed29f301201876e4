"""The scenarios, by name. Each measures the API over HTTP beside the raw database doing
the same statements, at the same concurrency, in the same run."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from bench.context import Context
from bench.results import Comparison

from . import bulk_create, checkout, flash_sale, queries, restock, search

__all__ = ["DEFAULT", "SCENARIOS", "Scenario"]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    about: str
    """What the HTTP side and the raw side each do, for the report."""
    run: Callable[[Context], Iterable[Comparison]]
    """Yields each row as it is measured, so a failure part-way keeps the rows before it."""


SCENARIOS: Final = {
    s.name: s
    for s in (
        Scenario("flash_sale", flash_sale.TITLE, flash_sale.ABOUT, flash_sale.run),
        Scenario("checkout", checkout.TITLE, checkout.ABOUT, checkout.run),
        Scenario("restock", restock.TITLE, restock.ABOUT, restock.run),
        Scenario("queries", queries.TITLE, queries.ABOUT, queries.run),
        Scenario("search", search.TITLE, search.ABOUT, search.run),
        Scenario("bulk_create", bulk_create.TITLE, bulk_create.ABOUT, bulk_create.run),
    )
}

DEFAULT: Final = tuple(SCENARIOS)
"""Every scenario: the full profile runs them all in well under an hour on two cores."""
