"""Flash sale: many clients buying one item, one unit each, until it is sold out; then
everyone still trying is refused."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Final

from bench.context import Context
from bench.results import Comparison
from bench.seed import item_id
from bench.server import post_json
from bench.statements import flash_sale

__all__ = ["ABOUT", "TITLE", "run"]

TITLE: Final = "Flash sale"
ABOUT: Final = """\
One item with S units; every request is `bulk/inventory-items/decrement` of 1 unit with
`restrictInventory: true`. **sell-out**: clients buy until the item is sold out (each wrk
thread stops at its first refusal, so the rate is sales per second, and the check is that
exactly S were sold). **refusals**: the item is sold out; every request is refused with
INSUFFICIENT_INVENTORY (428) for a fixed time. Raw: one transaction per sale,
`UPDATE ... SET quantity = quantity - 1 ... WHERE store_id=? AND id=? AND quantity - 1 >= 0
RETURNING ...` (PostgreSQL: after `SELECT ... FOR UPDATE`, as the backend locks rows first);
a refusal is that UPDATE changing nothing, then the item read, then ROLLBACK. The server
applies the sales that arrive while it is writing in one transaction, one statement for the
item and one commit (its group commit, `service/coalesce.py`), which the raw side, one sale
per transaction, does not."""

_PATH = "/stores/v3/inventory-items"
_SELL_OUT_LIMIT_S = 600  # the sell-out ends at the first refusals; this only bounds it


def _http_item(ctx: Context, store: str, stock: int) -> str:
    status, body = post_json(
        ctx.server.url + _PATH,
        {"inventoryItem": {"productId": "flash", "variantId": _variant(store), "quantity": stock}},
        store_id=store,
    )
    if status != 200:
        raise RuntimeError(f"could not create the flash-sale item: {status} {body}")
    return str(body["inventoryItem"]["id"])


def _variant(store: str) -> str:
    return f"30000000-0000-4000-8000-{zlib.crc32(store.encode()):012d}"


def _remaining(ctx: Context, store: str, item: str) -> int:
    status, body = post_json(
        ctx.server.url + f"{_PATH}/query",
        {"query": {"filter": {"id": item}}},
        store_id=store,
    )
    assert status == 200, body
    return int(body["inventoryItems"][0]["quantity"])


def _sell_out_note(answered: int, stock: int, left: int) -> str:
    """What to say about a sell-out: nothing when every unit was sold and answered. A wrk
    thread stops at its first refusal without reading its other connections' answers, so a
    few sales may go uncounted; more answered sales than stock would be overselling."""
    if left == 0 and answered == stock:
        return ""
    if answered > stock:
        return f"OVERSOLD: {answered:,} sales of {stock:,} units"
    if left == 0:
        return f"all {stock:,} sold; {answered:,} answered before the wrk threads stopped"
    return f"{left:,} units left unsold after {answered:,} sales"


def run(ctx: Context) -> Iterator[Comparison]:
    stock = ctx.profile.flash_sale_stock
    for clients in ctx.profile.clients:
        store = f"flash-http-c{clients}"
        item = _http_item(ctx, store, stock)
        env = {"STORE": store, "ITEM": item}
        sold = ctx.http("flash_sale.lua", clients=clients, duration_s=_SELL_OUT_LIMIT_S,
                        env=env | {"STOP_ON_REJECT": "1"})  # fmt: skip
        note = _sell_out_note(sold.ok(), stock, _remaining(ctx, store, item))
        sold = sold.with_units(sold.ok())
        refused = ctx.http("flash_sale.lua", clients=clients, duration_s=ctx.profile.duration_s,
                           env=env)  # fmt: skip
        if refused.ok():
            note += f" {refused.ok()} sales after the sell-out!"

        raw_store = f"flash-raw-c{clients}"
        catalog = ctx.catalog(raw_store, 1, quantity=stock)
        raw_item = item_id(0)
        variables = {"store": raw_store, "item": raw_item, "now": catalog.last_created_ms}
        raw_sold = ctx.raw(
            flash_sale(raw_store, raw_item, refused=False, locks_rows=ctx.locks_rows),
            clients=clients,
            per_client=None if ctx.backend == "sqlite" else stock // clients,
            variables=variables,
        )
        raw_refused = ctx.raw(
            flash_sale(raw_store, raw_item, refused=True, locks_rows=ctx.locks_rows),
            clients=clients,
            duration_s=ctx.profile.duration_s,
            variables=variables,
        )
        ctx.note(
            f"flash sale c={clients}: {sold.units_per_s:.0f} vs {raw_sold.units_per_s:.0f} sales/s"
        )
        yield Comparison(
            "flash_sale", ctx.backend, "sell-out", clients, sold, raw_sold, note.strip()
        )
        yield Comparison("flash_sale", ctx.backend, "refusals", clients, refused, raw_refused)
