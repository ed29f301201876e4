"""The ``stockroom`` command."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from stockroom.settings import DEFAULT_DATABASE_URL, Settings

__all__ = ["app"]

app = typer.Typer(help="Stockroom: a self-hostable inventory service.", no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: Annotated[
        str | None,
        typer.Option(
            help=f"Database URL, e.g. sqlite:///path/to.db [default: {DEFAULT_DATABASE_URL}]",
            envvar="STOCKROOM_DATABASE_URL",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the inventory API over HTTP."""
    from stockroom.api.app import create_app

    settings = Settings.from_env(database_url=database)
    application = create_app(settings)
    console.print(
        f"[bold]stockroom[/] serving http://{host}:{port} on [cyan]{settings.database_url}[/]"
    )
    uvicorn.run(
        application,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


@app.command()
def migrate(
    database: Annotated[
        str | None, typer.Option(help="Database URL.", envvar="STOCKROOM_DATABASE_URL")
    ] = None,
) -> None:
    """Bring the database schema up to date."""
    from stockroom.service.context import now_ms
    from stockroom.storage import open_storage
    from stockroom.storage.migrate import current_revision

    settings = Settings.from_env(database_url=database)
    storage = open_storage(settings.database_url, now_ms=now_ms, migrate=True)
    console.print(f"schema at revision [bold]{current_revision(storage.engine)}[/]")
    storage.close()
