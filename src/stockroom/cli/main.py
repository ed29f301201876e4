"""The ``stockroom`` command."""

from __future__ import annotations

import os
import signal
from typing import Annotated

import typer
from rich.console import Console

from stockroom.settings import DEFAULT_DATABASE_URL, Settings

from . import keys, locations, relay, webhooks
from .companion import RelayProcess

__all__ = ["app"]

app = typer.Typer(help="Stockroom: a self-hostable inventory service.", no_args_is_help=True)
app.add_typer(locations.app, name="locations")
app.add_typer(keys.app, name="keys")
app.add_typer(webhooks.app, name="webhooks")
app.command()(relay.relay)
console = Console(stderr=True)

_WORKER_APP = "stockroom.cli.worker:application"
_HTTP_PROTOCOL = "stockroom.cli.http:HttpProtocol"
"""uvicorn's httptools protocol, each response sent in one write (see ``cli/http.py``)."""

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        help="Database URL: sqlite:///path/to.db or postgresql://user@host:5432/database "
        f"(default {DEFAULT_DATABASE_URL})",
        envvar="STOCKROOM_DATABASE_URL",
        show_default=False,
    ),
]


_LOOPBACK = ("127.", "::1", "localhost")


def _refuse_open_exposure(settings: Settings, host: str, *, allow_open: bool) -> None:
    """Without keys, anyone who can reach the port can change stock: say so loudly, and
    refuse anything but loopback unless told otherwise."""
    from stockroom.service.context import now_ms
    from stockroom.storage import open_storage

    storage = open_storage(settings.database_url, now_ms=now_ms, migrate=False)
    try:
        with storage.access() as access:
            keys_exist = access.any_active_key()
    finally:
        storage.close()
    if keys_exist or settings.admin_key:
        console.print("API keys are required on every request.")
        return
    if not host.startswith(_LOOPBACK) and not allow_open:
        console.print(
            f"[bold red]refusing to serve {host} without API keys[/]: issue one with "
            "`stockroom keys create`, set STOCKROOM_ADMIN_KEY, or pass --allow-open"
        )
        raise typer.Exit(2)
    console.print(
        "[bold yellow]WARNING: no API keys are configured; every request is accepted "
        f"without authentication on {host}.[/] Fine for local development only."
    )


@app.command()
def serve(  # options are keyword-only: typer passes them by name
    *,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: DatabaseOption = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Worker processes serving the port.", envvar="STOCKROOM_WORKERS"),
    ] = 1,
    migrate: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="Bring the schema up to date before serving (the default), or not.",
            show_default=False,
        ),
    ] = None,
    allow_open: Annotated[
        bool,
        typer.Option(
            "--allow-open",
            help="Serve without API keys on an address other than loopback (not recommended).",
            envvar="STOCKROOM_ALLOW_OPEN",
        ),
    ] = False,
    pool_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Database connections per worker, at most (PostgreSQL; default 10).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the inventory API over HTTP."""
    settings = Settings.from_env(
        database_url=database, migrate_on_start=migrate, database_pool_size=pool_size
    )
    if settings.migrate_on_start:
        _migrate(settings)  # once, here, rather than racing in every worker
    _refuse_open_exposure(settings, host, allow_open=allow_open)
    # Workers, and the relay, are fresh processes that read their settings from the
    # environment. The workers run no relay of their own: one runs beside them.
    os.environ.update(
        STOCKROOM_DATABASE_URL=settings.database_url,
        STOCKROOM_MIGRATE_ON_START="false",
        STOCKROOM_DATABASE_POOL_SIZE=str(settings.database_pool_size),
        STOCKROOM_RUN_RELAY="false",
    )
    console.print(
        f"[bold]stockroom[/] serving http://{host}:{port} with {workers} "
        f"worker{'s' if workers > 1 else ''} on [cyan]{_shown(settings.database_url)}[/]"
    )
    # uvicorn answers SIGTERM by shutting down, then raises it again with the handler it
    # found: this one, so that the relay is stopped before the process exits.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    beside = RelayProcess() if settings.run_relay else None
    if beside is not None:
        beside.start()
    try:
        _serve(host, port, workers)
    finally:
        if beside is not None:
            beside.stop()


def _exit_on_sigterm(signum: int, _: object) -> None:
    raise SystemExit(128 + signum)


def _serve(host: str, port: int, workers: int) -> None:
    """uvicorn serving the API's workers until it is stopped (SIGTERM, Ctrl-C)."""
    import uvicorn

    uvicorn.run(
        _WORKER_APP,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        loop="uvloop",
        http=_HTTP_PROTOCOL,
        # The API has no WebSocket routes: an Upgrade header is answered as plain HTTP, and no
        # WebSocket protocol ever takes over a connection from ``cli/http.py``'s writes.
        ws="none",
        # No "server" header: one header less to validate and send on every response.
        server_header=False,
        log_level="warning",
        access_log=False,
        # Nothing here reads the client's address, so X-Forwarded-For need not rewrite it:
        # one middleware less on every request.
        proxy_headers=False,
        # A worker busy with requests on a loaded machine can be slow to answer the parent's
        # ping; the default 5 s would have it killed, and its requests with it.
        timeout_worker_healthcheck=30,
    )


@app.command()
def migrate(*, database: DatabaseOption = None) -> None:
    """Bring the database schema up to date (safe while servers run, and from many hosts)."""
    settings = Settings.from_env(database_url=database)
    revision = _migrate(settings)
    console.print(
        f"schema at revision [bold]{revision}[/] on [cyan]{_shown(settings.database_url)}[/]"
    )


def _migrate(settings: Settings) -> str | None:
    """Upgrade the schema of the configured database; the revision it is then at."""
    from sqlalchemy.exc import OperationalError

    from stockroom.service.context import now_ms
    from stockroom.storage import open_storage
    from stockroom.storage.migrate import current_revision

    try:
        storage = open_storage(settings.database_url, now_ms=now_ms, migrate=True, pool_size=1)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--database") from None
    except OperationalError as error:
        console.print(f"[red]cannot reach {_shown(settings.database_url)}:[/] {error.orig}")
        raise typer.Exit(1) from None
    try:
        return current_revision(storage.engine)
    finally:
        storage.close()


def _shown(url: str) -> str:
    """A database URL fit to print: without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
