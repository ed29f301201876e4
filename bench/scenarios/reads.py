"""Shared by the query and search scenarios: the 1M-item store, the requests made of it,
and how one set of read requests is measured over HTTP and raw."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from bench.context import Context
from bench.results import Comparison
from bench.seed import Catalog
from bench.server import post_json
from bench.sql import (
    ReadRequest,
    postgres_form,
    sort_key_of,
    sqlite_form,
    statements,
    to_pgbench,
)
from bench.statements import RawWork, item_query
from bench.targets import SqliteTarget

__all__ = ["CATALOG_STORE", "Read", "alone", "catalog", "iso", "measure", "mixed", "sort_key"]

CATALOG_STORE: Final = "catalog"
_MIN_SAMPLES: Final = 3
_MAX_DURATION_S: Final = 60.0
_WARM_UP_S: Final = 0.5
_WARM_UP_REQUESTS: Final = 20

Read = tuple[ReadRequest, str | None, Sequence[Any] | None]
"""A request, the cursor it sends (None: its first page) and the raw side's page bound."""


def catalog(ctx: Context) -> Catalog:
    """The 1M-item store (``catalog_items``), seeded once per run and backend, with the
    database's upkeep done before the reads are timed (``Context.vacuum``)."""
    found = ctx.catalog(CATALOG_STORE, ctx.profile.catalog_items)
    ctx.vacuum()
    return found


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def sort_key(ctx: Context, request: ReadRequest, item_id: str) -> tuple[Any, ...]:
    """The sort-key values of one item, read directly: the bound of the page after it."""
    statement = sort_key_of(request, store_id=CATALOG_STORE, item_id=item_id)
    conn = ctx.target.connect()
    try:
        if isinstance(ctx.target, SqliteTarget):
            row = conn.execute(*sqlite_form(statement)).fetchone()
        else:
            row = conn.execute(postgres_form(statement)).fetchone()
    finally:
        conn.close()
    assert row is not None, f"no item {item_id}"
    return tuple(row)


def _page_limit(request: ReadRequest, cursor: str | None) -> int | None:
    """The page size to send beside a cursor: the request's own (the walk that made the
    cursor may have used another)."""
    return (request.body.get("cursorPaging") or {}).get("limit") if cursor else None


def raw_work(ctx: Context, reads: Sequence[Read]) -> RawWork:
    """The SELECTs the service runs for each read, one read per transaction."""
    compiled = [
        statements(r, store_id=CATALOG_STORE, dialect=ctx.backend, after=bound)
        for r, _, bound in reads
    ]
    return item_query(
        [[sqlite_form(s) for s in selects] for selects in compiled],
        [to_pgbench(selects) for selects in compiled],
    )


def measure(
    ctx: Context,
    *,
    scenario: str,
    label: str,
    reads: Sequence[Read],
    clients: int,
    duration_s: float,
) -> Comparison:
    """``reads`` (one picked at random per request) over HTTP and raw, side by side."""
    requests = [(r.path, r.http_body(c, limit=_page_limit(r, c))) for r, c, _ in reads]
    bodies = ctx.bodies_file(scenario, requests)
    env = {"BODIES": bodies, "STORE": CATALOG_STORE}
    _warm_up(ctx, requests)
    http = ctx.http("replay.lua", clients=clients, duration_s=duration_s, env=env)
    if http.ops < _MIN_SAMPLES:  # slow requests: wrk drops the ones still open at the end
        duration_s = min(_MAX_DURATION_S, duration_s * 6)
        http = ctx.http("replay.lua", clients=clients, duration_s=duration_s, env=env)
    raw = ctx.raw(raw_work(ctx, reads), clients=clients, duration_s=duration_s)
    note = "" if http.ok() == http.ops else f"statuses {http.statuses}"
    ctx.note(
        f"{scenario} {label} c={clients}: p50 {http.p50_ms:.1f} vs {raw.p50_ms:.1f} ms,"
        f" {http.ops_per_s:.0f} vs {raw.ops_per_s:.0f}/s"
    )
    return Comparison(scenario, ctx.backend, label, clients, http, raw, note)


def _warm_up(ctx: Context, requests: Sequence[tuple[str, Any]]) -> None:
    """Send the requests in turn, one at a time, unmeasured, for about half a second (at
    least one, at most twenty). The raw side runs right after the HTTP one, on pages and
    statements the HTTP run has just read; without this, only the HTTP side would pay for
    the first reads of an index (SQLite's page cache, the server's statement caches).
    One at a time, they leave the server nothing to finish when the measurement begins,
    where a timed wrk run would (the searches it gave up on)."""
    deadline = time.monotonic() + _WARM_UP_S
    for sent in range(_WARM_UP_REQUESTS):
        if sent and time.monotonic() > deadline:
            break
        path, body = requests[sent % len(requests)]
        status, answer = post_json(ctx.server.url + path, body, store_id=CATALOG_STORE)
        if status != 200:
            raise RuntimeError(f"warm-up {path} answered {status}: {answer}")


def alone(ctx: Context, scenario: str, reads: Sequence[tuple[str, Read]]) -> Iterator[Comparison]:
    """Each (label, read) timed on its own from one client."""
    for label, read in reads:
        yield measure(ctx, scenario=scenario, label=label, reads=[read], clients=1,
                      duration_s=ctx.profile.latency_s)  # fmt: skip


def mixed(ctx: Context, scenario: str, reads: Sequence[Read]) -> Iterator[Comparison]:
    """All ``reads``, one at random per request, at each concurrency."""
    for clients in ctx.profile.clients:
        yield measure(ctx, scenario=scenario, label="mix", reads=reads, clients=clients,
                      duration_s=ctx.profile.duration_s)  # fmt: skip
