"""``stockroom locations``: an operator's view of a store's stock locations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import true

from stockroom.domain.catalog import Location, LocationType
from stockroom.domain.errors import StockroomError
from stockroom.service import catalog
from stockroom.service.context import Inventory, now_ms
from stockroom.settings import DEFAULT_STORE_ID, Settings
from stockroom.storage import open_storage
from stockroom.storage.schema import locations

__all__ = ["app"]

app = typer.Typer(
    help="List, create, rename and archive a store's locations.", no_args_is_help=True
)
err = Console(stderr=True)

StoreOption = Annotated[
    str, typer.Option("--store", help="The store (its wix-site-id).", envvar="STOCKROOM_STORE")
]
DatabaseOption = Annotated[
    str | None, typer.Option(help="Database URL.", envvar="STOCKROOM_DATABASE_URL")
]


@contextmanager
def _inventory(database: str | None) -> Iterator[Inventory]:
    settings = Settings.from_env(database_url=database)
    storage = open_storage(settings.database_url, now_ms=now_ms, migrate=True)
    try:
        yield Inventory(storage=storage)
    finally:
        storage.close()


def _run(database: str | None, action: Callable[[Inventory], Location | list[Location]]) -> None:
    with _inventory(database) as inventory:
        try:
            result = action(inventory)
        except StockroomError as error:
            err.print(f"[red]{error.code}[/]: {error.description}")
            raise typer.Exit(1) from None
    _print(result if isinstance(result, list) else [result])


def _print(locations: list[Location]) -> None:
    """One tab-separated line per location: id, name, type, flags, revision."""
    for location in locations:
        flags = ",".join(
            flag
            for flag, on in (("default", location.is_default), ("archived", location.archived))
            if on
        )
        typer.echo(
            f"{location.id}\t{location.name}\t{location.location_type.value}\t"
            f"{flags or '-'}\trevision {location.revision}"
        )


@app.command("list")
def list_locations(store: StoreOption = DEFAULT_STORE_ID, database: DatabaseOption = None) -> None:
    """Every location of the store, the default first."""

    def every(inventory: Inventory) -> list[Location]:
        with inventory.storage.reading(store) as tx:
            return tx.catalog.select_locations(
                true(), [locations.c.is_default.desc(), locations.c.created_ms], 10_000
            )

    _run(database, every)


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="The location's name (1-150 characters).")],
    store: StoreOption = DEFAULT_STORE_ID,
    location_type: Annotated[
        LocationType, typer.Option("--type", help="PHYSICAL (a shop, a warehouse) or VIRTUAL.")
    ] = LocationType.PHYSICAL,
    database: DatabaseOption = None,
) -> None:
    """Create a location."""
    if not 1 <= len(name) <= 150:
        raise typer.BadParameter("a name is 1 to 150 characters long")
    _run(
        database,
        lambda inventory: catalog.create_location(
            inventory, store_id=store, name=name, location_type=location_type
        ),
    )


@app.command()
def rename(
    location_id: Annotated[str, typer.Argument(help="The location's id.")],
    name: Annotated[str, typer.Argument(help="Its new name.")],
    store: StoreOption = DEFAULT_STORE_ID,
    database: DatabaseOption = None,
) -> None:
    """Rename a location."""
    if not 1 <= len(name) <= 150:
        raise typer.BadParameter("a name is 1 to 150 characters long")
    _run(
        database,
        lambda inventory: catalog.rename_location(
            inventory, store_id=store, location_id=location_id, name=name
        ),
    )


@app.command()
def archive(
    location_id: Annotated[str, typer.Argument(help="The location's id.")],
    store: StoreOption = DEFAULT_STORE_ID,
    database: DatabaseOption = None,
) -> None:
    """Archive a location that holds no stock (refused otherwise, and for the default)."""
    _run(
        database,
        lambda inventory: catalog.archive_location(
            inventory, store_id=store, location_id=location_id
        ),
    )
