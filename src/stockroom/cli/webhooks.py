"""``stockroom webhooks``: a store's webhook subscriptions and their delivery log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from stockroom.domain.errors import StockroomError, ValidationFailed
from stockroom.domain.item import UNSET
from stockroom.domain.rest import iso_ms
from stockroom.domain.webhooks import Delivery, DeliveryState, Webhook
from stockroom.service import webhooks
from stockroom.service.context import Inventory, now_ms
from stockroom.settings import DEFAULT_STORE_ID, Settings
from stockroom.storage import open_storage

__all__ = ["app"]

app = typer.Typer(
    help="Create, list, change and delete webhooks; read and retry their deliveries.",
    no_args_is_help=True,
)
err = Console(stderr=True)

T = TypeVar("T")

StoreOption = Annotated[
    str, typer.Option("--store", help="The store (its wix-site-id).", envvar="STOCKROOM_STORE")
]
DatabaseOption = Annotated[
    str | None, typer.Option(help="Database URL.", envvar="STOCKROOM_DATABASE_URL")
]
EventTypesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--event-type",
        help="An eventType to send (repeat for several; default: all five).",
        show_default=False,
    ),
]


@contextmanager
def _inventory(database: str | None) -> Iterator[Inventory]:
    settings = Settings.from_env(database_url=database)
    storage = open_storage(settings.database_url, now_ms=now_ms, migrate=True, pool_size=2)
    try:
        yield Inventory(storage=storage)
    finally:
        storage.close()


def _run(database: str | None, action: Callable[[Inventory], T]) -> T:
    with _inventory(database) as inventory:
        try:
            return action(inventory)
        except ValidationFailed as error:
            first = error.violations[0]
            err.print(f"[red]{first.field}[/]: {first.description}")
        except StockroomError as error:
            err.print(f"[red]{error.code}[/]: {error.description}")
        raise typer.Exit(1)


def _print_webhook(webhook: Webhook, *, secret: bool) -> None:
    """One tab-separated line: id, url, active or not, event types, revision (and secret)."""
    kinds = ",".join(kind.slug for kind in webhook.event_types)
    line = (
        f"{webhook.id}\t{webhook.url}\t{'active' if webhook.active else 'inactive'}\t"
        f"{kinds}\trevision {webhook.revision}"
    )
    typer.echo(f"{line}\t{webhook.secret}" if secret else line)


def _print_delivery(delivery: Delivery) -> None:
    """One line: sequence, state, attempts, event, item, last answer, when next or done."""
    when = (
        f"next {iso_ms(delivery.next_attempt_ms)}"
        if delivery.state is DeliveryState.PENDING
        else f"delivered {iso_ms(delivery.delivered_ms)}"
        if delivery.delivered_ms is not None
        else "parked"
    )
    last = delivery.last_error or (str(delivery.last_status) if delivery.last_status else "-")
    kind = delivery.event_type.slug if delivery.event_type else "-"
    typer.echo(
        f"{delivery.sequence}\t{delivery.state.value}\t{delivery.attempts} attempts\t"
        f"{kind}\t{delivery.entity_id}\t{last}\t{when}"
    )


@app.command()
def create(
    url: Annotated[str, typer.Argument(help="Where to POST the events (http or https).")],
    event_types: EventTypesOption = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Create it switched off.")] = False,
    store: StoreOption = DEFAULT_STORE_ID,
    database: DatabaseOption = None,
) -> None:
    """Subscribe a URL; prints the webhook, its secret last (shown by `get` too)."""
    created = _run(
        database,
        lambda inventory: webhooks.create_webhook(
            inventory, store_id=store, url=url, event_types=event_types, active=not inactive
        ),
    )
    _print_webhook(created, secret=True)


@app.command("list")
def list_webhooks(store: StoreOption = DEFAULT_STORE_ID, database: DatabaseOption = None) -> None:
    """Every webhook of the store, oldest first."""
    for webhook in _run(
        database, lambda inventory: webhooks.list_webhooks(inventory, store_id=store)
    ):
        _print_webhook(webhook, secret=False)


@app.command()
def get(
    webhook_id: Annotated[str, typer.Argument(help="The webhook's id.")],
    store: StoreOption = DEFAULT_STORE_ID,
    database: DatabaseOption = None,
) -> None:
    """One webhook, with its secret."""
    found = _run(
        database,
        lambda inventory: webhooks.get_webhook(inventory, store_id=store, webhook_id=webhook_id),
    )
    _print_webhook(found, secret=True)


@app.command()
def update(  # options are keyword-only: typer passes them by name
    webhook_id: Annotated[str, typer.Argument(help="The webhook's id.")],
    *,
    url: Annotated[str | None, typer.Option(help="A new URL.")] = None,
    event_types: EventTypesOption = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Switch it on or off.", show_default=False),
    ] = None,
    rotate_secret: Annotated[
        bool, typer.Option("--rotate-secret", help="Give it a new secret.")
    ] = False,
    store: StoreOption = DEFAULT_STORE_ID,
    database: DatabaseOption = None,
) -> None:
    """Change a webhook; an inactive one gets no new deliveries and its pending ones wait."""
    updated = _run(
        database,
        lambda inventory: webhooks.update_webhook(
            inventory,
            store_id=store,
            webhook_id=webhook_id,
            url=UNSET if url is None else url,
            event_types=event_types or UNSET,
            active=UNSET if active is None else active,
            rotate_secret=rotate_secret,
        ),
    )
    _print_webhook(updated, secret=rotate_secret)


@app.command()
def delete(
    webhook_id: Annotated[str, typer.Argument(help="The webhook's id.")],
    store: StoreOption = DEFAULT_STORE_ID,
    database: DatabaseOption = None,
) -> None:
    """Delete a webhook and its undelivered deliveries."""
    _run(
        database,
        lambda inventory: webhooks.delete_webhook(inventory, store_id=store, webhook_id=webhook_id),
    )
    typer.echo(f"deleted {webhook_id}")


@app.command()
def deliveries(
    webhook_id: Annotated[str, typer.Argument(help="The webhook's id.")],
    state: Annotated[
        DeliveryState | None, typer.Option(help="Only deliveries in this state.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
    store: StoreOption = DEFAULT_STORE_ID,
    database: DatabaseOption = None,
) -> None:
    """The webhook's delivery log, newest first."""
    found = _run(
        database,
        lambda inventory: webhooks.list_deliveries(
            inventory,
            store_id=store,
            webhook_id=webhook_id,
            states=(state,) if state else (),
            limit=limit,
        ),
    )
    for delivery in found:
        _print_delivery(delivery)


@app.command()
def redeliver(
    webhook_id: Annotated[str, typer.Argument(help="The webhook's id.")],
    sequence: Annotated[
        int | None,
        typer.Argument(help="One event's sequence number (default: every parked one).", min=1),
    ] = None,
    store: StoreOption = DEFAULT_STORE_ID,
    database: DatabaseOption = None,
) -> None:
    """Send parked deliveries again (and waiting ones now)."""
    count = _run(
        database,
        lambda inventory: webhooks.redeliver(
            inventory, store_id=store, webhook_id=webhook_id, sequence=sequence
        ),
    )
    typer.echo(f"redelivering {count}")
