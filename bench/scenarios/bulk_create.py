"""Bulk create: loading a catalogue through the API, 1,000 items per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from bench.context import Context
from bench.results import Comparison
from bench.server import post_json

__all__ = ["ABOUT", "TITLE", "run"]

TITLE: Final = "Bulk create through the API"
ABOUT: Final = """\
N new items (see the profile above; the issue's 1,000,000 with `BULK_ITEMS=1000000`)
created through `bulk/inventory-items/create`, 1,000 per request (100 in QUICK),
`returnEntity: false`, split over the clients (each client its own wrk thread and
connection), into a fresh store per concurrency. Throughput is in items per second; latency
is per request. Raw: the same rows, as many per transaction, `executemany` of an INSERT on
SQLite and `COPY ... FROM STDIN` on PostgreSQL, split over the same number of client
threads. The server, per item, reads the store's default location, looks the variant up in
the catalog, runs `INSERT ... ON CONFLICT DO NOTHING RETURNING id` and records an event."""

_COUNT_PATH = "/stores/v3/inventory-items/count"
_LOAD_LIMIT_S = 1800  # the load ends when every batch is answered; this only bounds it


def _count(ctx: Context, store: str) -> int:
    status, body = post_json(ctx.server.url + _COUNT_PATH, {}, store_id=store, timeout=600)
    assert status == 200, body
    return int(body["count"])


def run(ctx: Context) -> Iterator[Comparison]:
    profile = ctx.profile
    batches = profile.bulk_create_items // profile.bulk_batch
    for wanted in profile.clients:
        clients = min(wanted, batches)
        store = f"bulk-http-c{clients}"
        env = {"STORE": store, "BATCHES": batches, "BATCH": profile.bulk_batch}
        http = ctx.http("bulk_create.lua", clients=clients, threads=clients,
                        duration_s=_LOAD_LIMIT_S, env=env)  # fmt: skip
        created = _count(ctx, store)
        http = http.with_units(created)
        raw = ctx.raw_insert(
            store_id=f"bulk-raw-c{clients}", clients=clients, batches=batches,
            batch=profile.bulk_batch,
        )  # fmt: skip
        expected = batches * profile.bulk_batch
        failed = {k: v for k, v in http.statuses.items() if k != "200"}
        note = "" if created == expected else f"created {created:,} of {expected:,}"
        if failed:
            note += f"; answers other than 200: {failed}"
        ctx.note(
            f"bulk create c={clients}: {http.units_per_s:,.0f} vs {raw.units_per_s:,.0f} items/s"
        )
        label = f"{profile.bulk_batch} items/request"
        yield Comparison("bulk_create", ctx.backend, label, clients, http, raw, note)
