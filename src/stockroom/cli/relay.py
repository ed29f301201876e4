"""``stockroom relay``: deliver webhook events, in a process of its own.

``stockroom serve`` runs one beside its workers by default (``cli.companion``;
``STOCKROOM_RUN_RELAY=false`` turns that off); this command runs one on its own, beside or
instead of that. Any number may run against one database: they share the work and never
send a delivery twice while its lease lasts.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["relay"]

err = Console(stderr=True)

DatabaseOption = Annotated[
    str | None, typer.Option(help="Database URL.", envvar="STOCKROOM_DATABASE_URL")
]


def relay(  # options are keyword-only: typer passes them by name
    *,
    database: DatabaseOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="Worker threads, each sending batches (default 2).", show_default=False
        ),
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option(min=1, help="Deliveries per claim (default 200).", show_default=False),
    ] = None,
    lease_ms: Annotated[
        int | None,
        typer.Option(
            min=1000,
            help="How long a claim is leased; a killed relay's deliveries go out again after "
            "it (default 60000).",
            show_default=False,
        ),
    ] = None,
    timeout_ms: Annotated[
        int | None,
        typer.Option(min=100, help="Per request to a receiver (default 5000).", show_default=False),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit.")] = False,
    exit_with: Annotated[
        int | None,
        typer.Option(
            help="Stop, as on SIGTERM, once the process with this id is no longer this "
            "relay's parent (how `serve` keeps its relay from outliving it).",
            hidden=True,
        ),
    ] = None,
) -> None:
    """Deliver webhook events until stopped (SIGTERM or Ctrl-C finish the batches in hand)."""
    from stockroom.service.context import now_ms
    from stockroom.service.relay import Relay, RelaySettings
    from stockroom.settings import Settings
    from stockroom.storage import open_storage

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per delivery
    settings = Settings.from_env(
        database_url=database,
        relay_workers=workers,
        relay_batch=batch,
        relay_lease_ms=lease_ms,
        webhook_timeout_ms=timeout_ms,
    )
    storage = open_storage(
        settings.database_url,
        now_ms=now_ms,
        migrate=settings.migrate_on_start,
        pool_size=settings.database_pool_size,
    )
    worker = Relay(storage, settings=RelaySettings.from_settings(settings))
    try:
        if once:
            sent = worker.drain(timeout_s=3600)
            worker.close()
            err.print(f"sent {sent} deliveries")
            return
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        if exit_with is not None:
            _stop_when_orphaned(exit_with, stopping)
        err.print(f"[bold]stockroom relay[/] {worker.owner}: {settings.relay_workers} workers")
        worker.start()
        stopping.wait()
        worker.stop()
    finally:
        storage.close()


def _stop_when_orphaned(parent_pid: int, stopping: threading.Event) -> None:
    """Set ``stopping`` once ``parent_pid`` is no longer this process's parent: it exited,
    and this process was handed to another (checked every half second)."""

    def watch() -> None:
        while not stopping.wait(0.5):
            if os.getppid() != parent_pid:
                stopping.set()

    threading.Thread(target=watch, name="stockroom-relay-parent", daemon=True).start()
