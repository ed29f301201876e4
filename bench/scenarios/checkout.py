"""Checkout wave: carts decrementing random items of a 100k-item store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from bench.context import Context
from bench.results import Comparison

from .stock_wave import wave

__all__ = ["ABOUT", "TITLE", "run"]

TITLE: Final = "Checkout wave (single-item and 10-line decrements)"
ABOUT: Final = """\
Each request is `bulk/inventory-items/decrement` of 1 unit from each of L random items
(L = 1 and L = 10) out of the 100k-item store, `restrictInventory: true`; stock is ample,
so none is refused. Throughput is in **lines** (item decrements) per second. Raw: the same
L conditional `UPDATE ... RETURNING` in one transaction (`BEGIN IMMEDIATE` on SQLite; on
PostgreSQL after locking the L rows with `SELECT ... ORDER BY id FOR UPDATE`), one cart per
transaction. The server applies the carts that arrive while it is writing in one
transaction and one commit (its group commit); each cart still succeeds or fails whole."""


def run(ctx: Context) -> Iterator[Comparison]:
    yield from wave(ctx, scenario="checkout", kind="decrement", lines=1, amount=1)
    yield from wave(
        ctx, scenario="checkout", kind="decrement", lines=ctx.profile.cart_lines, amount=1
    )
