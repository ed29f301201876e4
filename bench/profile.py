"""``python -m bench.profile LOAD``: where the server's time goes under one load.

Starts ``stockroom serve`` on a fresh database, puts one of the benchmark loads on it with
wrk, samples the server with py-spy (a bench extra) meanwhile, and prints the share of
samples by library and the stockroom functions that hold the most, inclusive. The
collapsed stacks stay in ``bench/out/profile-<load>-<backend>/stacks.txt`` for a flame
graph.

    python -m bench.profile cart --backend postgresql
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .config import QUICK
from .context import Context
from .scenarios.reads import CATALOG_STORE, catalog
from .scenarios.stock_wave import STOCK, STORE
from .server import Server, post_json
from .targets import PostgresTarget, SqliteTarget, Target, probe

__all__ = ["main"]

LOADS: Final = ("sale", "cart", "restock", "refusals", "bulk_create", "query")
_SAMPLE_RATE: Final = 200


@dataclass(frozen=True, slots=True)
class _Load:
    script: str
    env: dict[str, object]
    clients: int = 16
    threads: int | None = None


def _prepare(ctx: Context, load: str, lines: int | None) -> _Load:
    """Seed what the load needs; the wrk run that makes it (``lines`` per cart or restock,
    or the benchmark's)."""
    items = ctx.profile.checkout_items
    if load in ("cart", "restock"):
        ctx.catalog(STORE, items, quantity=STOCK)
        kind, default = ("decrement", 10) if load == "cart" else ("increment", 100)
        lines = lines or default
        return _Load("stock.lua", {"KIND": kind, "ITEMS": items, "LINES": lines, "STORE": STORE})
    if load in ("sale", "refusals"):
        quantity = 0 if load == "refusals" else 99_999  # the most an item holds: a long sale
        body = {"inventoryItem": {"productId": "p", "variantId": _VARIANT, "quantity": quantity}}
        _, created = post_json(ctx.server.url + "/stores/v3/inventory-items", body)
        clients = 16 if load == "refusals" else 64
        return _Load("flash_sale.lua", {"ITEM": created["inventoryItem"]["id"]}, clients=clients)
    if load == "bulk_create":
        env: dict[str, object] = {"STORE": "bulk", "BATCHES": 10_000, "BATCH": 1000}
        return _Load("bulk_create.lua", env, clients=4, threads=4)
    catalog(ctx)
    body = {"query": {"filter": {"availabilityStatus": "IN_STOCK"}}}
    path = ctx.bodies_file("profile", [("/stores/v3/inventory-items/query", body)])
    return _Load("replay.lua", {"BODIES": path, "STORE": CATALOG_STORE})


_VARIANT: Final = "30000000-0000-4000-8000-000000000001"


def _summary(stacks: Path) -> None:
    by_library: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames, n = stack.split(";"), int(count)
        total += n
        where = frames[-1].partition("(")[2].partition(":")[0]
        by_library[where.split("/")[0] if "/" in where else where] += n
        for frame in set(frames):
            if "(stockroom/" in frame:
                inclusive[frame] += n
    print(f"{total} samples; self time by library:")
    for name, n in by_library.most_common(8):
        print(f"  {n / total:6.1%}  {name}")
    print("stockroom functions, inclusive:")
    for name, n in inclusive.most_common(25):
        print(f"  {n / total:6.1%}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("load", choices=LOADS)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, help="concurrent clients (default: the load's)")
    parser.add_argument("--lines", type=int, help="lines per cart or restock (10 and 100)")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = Path(__file__).parent / "out" / f"profile-{args.load}-{args.backend}"
    out.mkdir(parents=True, exist_ok=True)
    target: Target
    if args.backend == "sqlite":
        target = SqliteTarget(out / "stockroom.db")
        target.drop()
    else:
        target = PostgresTarget.create()
    try:
        support = probe(target)
        if support.refused:
            raise SystemExit(f"{args.backend} is not served: {support.refused}")
        with Server(target.url, out / "server.log") as server:
            ctx = Context(QUICK, target, server, out, support.locks_rows)
            load = _prepare(ctx, args.load, args.lines)
            clients = args.clients or load.clients
            stacks = out / "stacks.txt"
            record = subprocess.Popen(
                [spy, "record", "--pid", str(server.pid), "--rate", str(_SAMPLE_RATE),
                 "--duration", str(int(args.seconds)), "--format", "raw",
                 "--output", str(stacks), "--nonblocking", "--gil"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(0.5)
            threads = None if load.threads is None else min(load.threads, clients)
            stats = ctx.http(load.script, clients=clients, threads=threads,
                             duration_s=args.seconds + 1, env=load.env)  # fmt: skip
            record.wait(timeout=60)
            print(f"{stats.ops_per_s:,.0f} requests/s, p99 {stats.p99_ms:,.1f} ms, "
                  f"the server's memory at most {stats.rss_mb:,.0f} MB")  # fmt: skip
    finally:
        target.drop()
    _summary(stacks)


if __name__ == "__main__":
    main()
