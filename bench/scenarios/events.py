"""Events: what writing the outbox adds to a stock change, and how fast the relay delivers.

    python -m bench.scenarios.events [--backends sqlite,postgresql] [--quick]

Writes its section of ``bench/results.md`` (between the ``events`` markers, leaving the rest
of the file alone) and prints the figures.

1. **Added latency per stock change.** One client decrements one item by one unit, one
   request after another, through the service layer (one transaction per request, as an API
   call makes): with the outbox switched off (the baseline, possible only here: its record
   and flush are replaced by no-ops), on with no webhook, and on with one active webhook
   (a webhook costs the writer nothing since the sequencer makes deliveries after the
   commit; the row is kept to show it). The difference of the medians is the outbox's
   cost. Then 16 clients at once, each on its own item of the same store, for throughput:
   writers of one store no longer share a counter row, so their commits can overlap.
2. **Delivery rate.** A burst of events waits for one webhook; ``stockroom relay`` (a process
   of its own, default settings) sends them to a minimal HTTP receiver on 127.0.0.1. Events
   per second from the first delivery to the last, with one relay process and with two.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import msgspec

from stockroom.domain.changes import ItemDraft
from stockroom.domain.events import WIX_STORES_APP_ID, events_for
from stockroom.domain.item import InventoryItem, Preorder
from stockroom.service import items, stock, webhooks
from stockroom.service.context import Inventory, now_ms
from stockroom.storage import SqlStorage, open_storage
from stockroom.storage.outbox import Outbox

from ..machine import describe
from ..report import EVENTS_END, EVENTS_START
from ..results import percentile
from ..targets import PostgresTarget, SqliteTarget, Target

__all__ = ["main"]

RESULTS = Path(__file__).parents[1] / "results.md"


@dataclass(frozen=True, slots=True)
class Sizes:
    latency_requests: int
    concurrent_seconds: float
    burst_events: int


FULL = Sizes(latency_requests=2000, concurrent_seconds=8, burst_events=20_000)
QUICK = Sizes(latency_requests=300, concurrent_seconds=3, burst_events=4_000)


# ---- a receiver that costs as little as possible --------------------------------------------


class CountingReceiver:
    """HTTP/1.1 keep-alive on 127.0.0.1, answering 204 to every POST, counting sequences."""

    def __init__(self) -> None:
        self.sequences: set[int] = set()
        self.first = self.last = 0.0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    def __enter__(self) -> CountingReceiver:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=512)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, sequence = 0, 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                    elif name.lower() == b"stockroom-sequence":
                        sequence = int(value)
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                now = time.monotonic()
                self.first = self.first or now
                self.last = now
                self.sequences.add(sequence)
        writer.close()


# ---- 1. the outbox's cost -------------------------------------------------------------------


@contextlib.contextmanager
def outbox_switched_off() -> Iterator[None]:
    """The baseline: changes write no events (never done outside this benchmark)."""
    record, flush = Outbox.record, Outbox.flush
    Outbox.record = lambda *_, **__: None  # type: ignore[method-assign]
    Outbox.flush = lambda *_: 0  # type: ignore[method-assign]
    try:
        yield
    finally:
        Outbox.record, Outbox.flush = record, flush  # type: ignore[method-assign]


def _store(inventory: Inventory, items_wanted: int, *, webhook: bool) -> tuple[str, list[str]]:
    store = f"bench-{uuid.uuid4().hex[:8]}"
    if webhook:  # never delivered (no relay runs): only the rows it costs to write
        webhooks.create_webhook(inventory, store_id=store, url="http://127.0.0.1:9/")
    drafts = [ItemDraft("p", str(uuid.uuid4()), quantity=99_999) for _ in range(items_wanted)]
    made = items.bulk_create_items(inventory, store_id=store, drafts=drafts)
    return store, [str(result.item_id) for result in made]


def _sell(inventory: Inventory, store: str, item_id: str) -> None:
    stock.decrement_items(inventory, store_id=store, lines=[stock.StockLine(item_id, 1)])


VARIANTS = (
    ("outbox off (baseline)", True, False),
    ("outbox on, no webhook", False, False),
    ("outbox on, 1 webhook", False, True),
)
"""(label, outbox switched off, an active webhook)."""

ROUND = 50
"""Requests per variant per round; the rounds rotate, so load that comes and goes on a
shared machine falls on every variant alike."""


def latencies(storage: SqlStorage, requests: int) -> list[list[float]]:
    """Milliseconds per single-line decrement, one after another, for each variant."""
    inventory = Inventory(storage=storage)
    stores = [_store(inventory, 1, webhook=webhook) for _, _, webhook in VARIANTS]
    taken: list[list[float]] = [[] for _ in VARIANTS]
    for round_ in range(requests // ROUND + 1):
        for (_, off, _), (store, (item_id,)), samples in zip(VARIANTS, stores, taken, strict=True):
            with outbox_switched_off() if off else contextlib.nullcontext():
                for _ in range(ROUND):
                    started = time.perf_counter()
                    _sell(inventory, store, item_id)
                    if round_:  # the first round warms connections and caches
                        samples.append((time.perf_counter() - started) * 1000)
    return [sorted(samples) for samples in taken]


def building_events_us() -> float:
    """Microseconds of Python to build and encode one decrement's events (no database)."""
    before = InventoryItem(
        id=str(uuid.uuid4()),
        variant_id=str(uuid.uuid4()),
        location_id=str(uuid.uuid4()),
        product_id="p",
        quantity=10,
        in_stock=None,
        preorder=Preorder(),
        revision=3,
        created_ms=1,
        updated_ms=2,
    )
    after = replace(before, quantity=9, revision=4, updated_ms=3)
    encode = msgspec.json.Encoder().encode

    def once() -> None:
        for event in events_for(
            before, after, reason=None, app_id=WIX_STORES_APP_ID, time_ms=3, new_id=_new_id
        ):
            encode(event.body)

    runs = 5000
    return timeit.timeit(once, number=runs) / runs * 1e6


def _new_id() -> str:
    return str(uuid.uuid4())


def throughput(storage: SqlStorage, seconds: float, clients: int, *, webhook: bool) -> float:
    """Single-line decrements per second, ``clients`` at once on items of one store."""
    inventory = Inventory(storage=storage)
    store, item_ids = _store(inventory, clients, webhook=webhook)
    deadline = time.monotonic() + seconds

    def client(item_id: str) -> int:
        done = 0
        while time.monotonic() < deadline:
            _sell(inventory, store, item_id)
            done += 1
        return done

    with ThreadPoolExecutor(clients) as pool:
        total = sum(pool.map(client, item_ids))
    return total / seconds


@dataclass(frozen=True, slots=True)
class Cost:
    label: str
    p50: float
    p99: float
    per_second_1: float
    per_second_16: float


def outbox_cost(target: Target, sizes: Sizes) -> list[Cost]:
    storage = open_storage(target.url, now_ms=now_ms, pool_size=24)
    rows = []
    try:
        taken = latencies(storage, sizes.latency_requests)
        for (label, off, webhook), samples in zip(VARIANTS, taken, strict=True):
            with outbox_switched_off() if off else contextlib.nullcontext():
                many = throughput(storage, sizes.concurrent_seconds, 16, webhook=webhook)
            rows.append(
                Cost(
                    label,
                    statistics.median(samples),
                    percentile(samples, 99),
                    1000 / statistics.mean(samples),
                    many,
                )
            )
            print(f"  [{target.backend}] {rows[-1]}", flush=True)
    finally:
        storage.close()
    return rows


# ---- 2. the relay's rate --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    relays: int
    events: int
    seconds: float
    per_second: float


def burst(storage: SqlStorage, url: str, events: int) -> int:
    """Write at least ``events`` events for one webhook at ``url``; how many were written."""
    inventory = Inventory(storage=storage)
    store = f"burst-{uuid.uuid4().hex[:8]}"
    webhooks.create_webhook(inventory, store_id=store, url=url)
    drafts = [ItemDraft("p", str(uuid.uuid4()), quantity=0) for _ in range(100)]
    made = [
        str(r.item_id) for r in items.bulk_create_items(inventory, store_id=store, drafts=drafts)
    ]
    written = len(made)
    while written < events:
        lines = [stock.StockLine(item_id, 1) for item_id in made]
        stock.increment_items(inventory, store_id=store, lines=lines)
        written = webhooks.read_feed(inventory, store_id=store, limit=1).latest
    return written


def delivery_rate(target: Target, sizes: Sizes, relays: int, log: Path) -> Rate:
    storage = open_storage(target.url, now_ms=now_ms)
    try:
        with CountingReceiver() as receiver:
            events = burst(storage, receiver.url, sizes.burst_events)
            command = [sys.executable, "-m", "stockroom", "relay", "--database", target.url]
            env = os.environ | {"STOCKROOM_MIGRATE_ON_START": "false"}
            with log.open("ab") as out:
                processes = [
                    subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
                    for _ in range(relays)
                ]
            try:
                deadline = time.monotonic() + 600
                while len(receiver.sequences) < events and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.wait(30)
            seconds = receiver.last - receiver.first
            got = len(receiver.sequences)
    finally:
        storage.close()
    rate = Rate(relays, got, seconds, got / seconds if seconds else 0.0)
    print(f"  [{target.backend}] {rate}", flush=True)
    return rate


# ---- the report -----------------------------------------------------------------------------


def _section(
    results: dict[str, tuple[list[Cost], list[Rate]]], sizes: Sizes, command: str, load: str
) -> str:
    machine = describe()
    lines = [
        EVENTS_START,
        "## Events",
        "",
        f"`{command}`: {machine['CPU']}, {machine['Memory']}, Python {machine['Python']}, "
        f"SQLite {machine['SQLite']}, PostgreSQL {machine['PostgreSQL']}. "
        f"Load average before and after: {load} (other work shared the machine if high). "
        "`bench/scenarios/events.py` says what is measured.",
        "",
        "### What the outbox adds to a stock change",
        "",
        f"One client, {sizes.latency_requests} single-line decrements per variant through the "
        f"service layer (one transaction each), the variants taking turns {ROUND} at a time; "
        "then 16 clients at once on 16 items of one store, for throughput.",
        "",
        f"Building and encoding one decrement's two events (`updated`, `updated_with_reason`) "
        f"in Python takes "
        f"{building_events_us():.0f} µs; the rest of the outbox's cost is its one statement "
        "(insert the events into the outbox; the sequencer numbers them and makes their "
        "deliveries after the commit, off the writer's path).",
        "",
        "| backend | | p50 ms | p99 ms | added p50 ms | 1 client /s | 16 clients /s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for backend, (costs, _) in results.items():
        base = costs[0].p50
        for cost in costs:
            added = "" if cost is costs[0] else f"{cost.p50 - base:+.3f}"
            lines.append(
                f"| {backend} | {cost.label} | {cost.p50:.3f} | {cost.p99:.3f} | {added} "
                f"| {cost.per_second_1:,.0f} | {cost.per_second_16:,.0f} |"
            )
    lines += [
        "",
        "### Delivery rate",
        "",
        f"A burst of {sizes.burst_events:,}+ events for one webhook, sent by `stockroom relay` "
        "(defaults: 2 workers, batches of 200, 16 requests in flight each) to a minimal "
        "receiver on the same machine; from the first delivery to the last.",
        "",
        "| backend | relay processes | events | seconds | events/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for backend, (_, rates) in results.items():
        lines += [
            f"| {backend} | {r.relays} | {r.events:,} | {r.seconds:.1f} | {r.per_second:,.0f} |"
            for r in rates
        ]
    lines += ["", EVENTS_END]
    return "\n".join(lines)


def write_section(section: str, path: Path = RESULTS) -> None:
    """Put the section in the report, replacing an earlier one and keeping everything else."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if EVENTS_START in text and EVENTS_END in text:
        before, rest = text.split(EVENTS_START, 1)
        text = before + section + rest.split(EVENTS_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def _target(backend: str, folder: Path) -> Target:
    if backend == "sqlite":
        return SqliteTarget(folder / "events.db")
    return PostgresTarget.create()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scenarios.events")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--report", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    results: dict[str, tuple[list[Cost], list[Rate]]] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        for backend in (b.strip() for b in args.backends.split(",") if b.strip()):
            print(f"{backend}:", flush=True)
            costs: list[Cost] = []
            rates: list[Rate] = []
            for step in _steps(backend, Path(folder), sizes, costs, rates):
                step()
            results[backend] = (costs, rates)
    command = "python -m bench.scenarios.events" + (" --quick" if args.quick else "")
    load = f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"
    write_section(_section(results, sizes, command, load), args.report)
    print(f"wrote the Events section of {args.report}")


def _steps(
    backend: str, folder: Path, sizes: Sizes, costs: list[Cost], rates: list[Rate]
) -> list[Callable[[], Any]]:
    """Each measurement on a fresh database, so none sees another's rows."""

    def fresh(run: Callable[[Target], Any]) -> Callable[[], Any]:
        def step() -> Any:
            target = _target(backend, folder)
            try:
                open_storage(target.url, now_ms=now_ms).close()  # migrate
                return run(target)
            finally:
                target.drop()

        return step

    return [
        fresh(lambda t: costs.extend(outbox_cost(t, sizes))),
        fresh(lambda t: rates.append(delivery_rate(t, sizes, 1, folder / "relay.log"))),
        fresh(lambda t: rates.append(delivery_rate(t, sizes, 2, folder / "relay.log"))),
    ]


if __name__ == "__main__":
    main()
