"""``stockroom keys``: issue, list and revoke a store's API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from stockroom.domain.access import SCOPE_GRANTS
from stockroom.domain.errors import StockroomError
from stockroom.service import access
from stockroom.service.context import now_ms
from stockroom.settings import DEFAULT_STORE_ID, Settings
from stockroom.storage import SqlStorage, open_storage

__all__ = ["app"]

app = typer.Typer(help="Issue, list and revoke API keys.", no_args_is_help=True)
err = Console(stderr=True)

StoreOption = Annotated[
    str, typer.Option("--store", help="The store (its wix-site-id).", envvar="STOCKROOM_STORE")
]
DatabaseOption = Annotated[
    str | None, typer.Option(help="Database URL.", envvar="STOCKROOM_DATABASE_URL")
]


def _storage(database: str | None) -> SqlStorage:
    settings = Settings.from_env(database_url=database)
    return open_storage(settings.database_url, now_ms=now_ms, migrate=True)


@app.command()
def create(
    scopes: Annotated[
        str,
        typer.Option(
            help="Comma-separated scopes, e.g. SCOPE.STORES.INVENTORY_ITEM_READ,"
            "SCOPE.STORES.INVENTORY_ITEM_WRITE. `stockroom keys scopes` lists them."
        ),
    ],
    store: StoreOption = DEFAULT_STORE_ID,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "api key",
    rate: Annotated[
        int, typer.Option(min=0, help="Requests per second allowed (0: no limit).")
    ] = access.DEFAULT_RATE_PER_SECOND,
    database: DatabaseOption = None,
) -> None:
    """Issue a key. Its secret is printed once, here, and never stored."""
    storage = _storage(database)
    try:
        key, secret = access.create_key(
            storage,
            store_id=store,
            name=name,
            scopes=[s.strip() for s in scopes.split(",") if s.strip()],
            rate_per_second=rate or None,
            now_ms=now_ms(),
        )
    except StockroomError as error:
        err.print(f"[red]{error.code}[/]: {error.description}")
        raise typer.Exit(1) from None
    finally:
        storage.close()
    err.print(f"key [bold]{key.id}[/] for store [bold]{store}[/]; keep the secret now:")
    typer.echo(secret)


@app.command("list")
def list_keys(store: StoreOption = DEFAULT_STORE_ID, database: DatabaseOption = None) -> None:
    """A store's keys, one per line: id, name, scopes, status."""
    storage = _storage(database)
    try:
        keys = access.list_keys(storage, store_id=store)
    finally:
        storage.close()
    for key in keys:
        status = "active" if key.active else "revoked"
        typer.echo(f"{key.id}\t{key.name}\t{','.join(key.scopes)}\t{status}")


@app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (not its secret).")],
    store: StoreOption = DEFAULT_STORE_ID,
    database: DatabaseOption = None,
) -> None:
    """Revoke a key; every server stops accepting it within two seconds."""
    storage = _storage(database)
    try:
        access.revoke_key(storage, store_id=store, key_id=key_id, now_ms=now_ms())
    except StockroomError as error:
        err.print(f"[red]{error.code}[/]: {error.description}")
        raise typer.Exit(1) from None
    finally:
        storage.close()
    err.print(f"revoked {key_id}")


@app.command("scopes")
def list_scopes() -> None:
    """Every scope a key can carry, with what it allows."""
    for scope, allowed in sorted(SCOPE_GRANTS.items()):
        typer.echo(f"{scope}\t{','.join(sorted(a.value for a in allowed))}")
