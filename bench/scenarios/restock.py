"""Restock: bulk increments of many random items per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from bench.context import Context
from bench.results import Comparison

from .stock_wave import wave

__all__ = ["ABOUT", "TITLE", "run"]

TITLE: Final = "Restock (bulk increments)"
ABOUT: Final = """\
Each request is `bulk/inventory-items/increment` of 5 units to each of 100 random items of
the 100k-item store. Throughput is in lines (item increments) per second. Raw: the same 100
conditional `UPDATE ... SET quantity = quantity + 5 ... RETURNING` in one transaction
(PostgreSQL: rows locked first in key order, as the backend does). The server batches
restocks that arrive together into one transaction, as it does carts."""


def run(ctx: Context) -> Iterator[Comparison]:
    return wave(
        ctx, scenario="restock", kind="increment", lines=ctx.profile.restock_lines, amount=5
    )
