"""Shared by the checkout wave and the restock: random multi-line stock changes over a
seeded store, through the API and as raw UPDATEs, at each concurrency."""

from __future__ import annotations

from collections.abc import Iterator

from bench.context import Context
from bench.results import Comparison, Stats
from bench.statements import stock_change

__all__ = ["STOCK", "STORE", "wave"]

STORE = "wave"
STOCK = 10_000
"""Units per item at the start: enough that no cart in a run is refused."""


def wave(
    ctx: Context, *, scenario: str, kind: str, lines: int, amount: int
) -> Iterator[Comparison]:
    """Requests of ``lines`` random items each changed by ``amount`` (``kind``: decrement
    or increment), for ``duration_s`` at each concurrency."""
    items = ctx.profile.checkout_items
    catalog = ctx.catalog(STORE, items, quantity=STOCK)
    for clients in ctx.profile.clients:
        env = {"KIND": kind, "ITEMS": items, "LINES": lines, "AMOUNT": amount, "STORE": STORE}
        http = ctx.http("stock.lua", clients=clients, duration_s=ctx.profile.duration_s, env=env)
        http = http.with_units(http.ok() * lines)
        work = stock_change(
            kind, STORE, items=items, lines=lines, amount=amount, locks_rows=ctx.locks_rows
        )
        raw = ctx.raw(
            work,
            clients=clients,
            duration_s=ctx.profile.duration_s,
            variables={"store": STORE, "items": items, "now": catalog.last_created_ms},
        )
        if not raw.units:  # pgbench counts transactions; every line of one changes a row
            raw = raw.with_units(raw.ops * lines)
        label = f"{lines}-line {'cart' if kind == 'decrement' else 'restock'}"
        ctx.note(f"{scenario} {label} c={clients}: {_rate(http)} vs {_rate(raw)} lines/s")
        note = "" if http.ok() == http.ops else f"statuses {http.statuses}"
        yield Comparison(scenario, ctx.backend, label, clients, http, raw, note)


def _rate(stats: Stats) -> str:
    return f"{stats.units_per_s:,.0f}"
