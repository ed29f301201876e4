"""Refusals leave nothing behind for the garbage collector.

A refusal is an exception, and an exception holds the frames it was raised through. If one
of those frames holds the exception back (through a future, a list of outcomes), the two
form a cycle that reference counting cannot free: it waits for the collector, which then
walks every such cycle at once. A sold-out item answering thousands of refusals a second
paused the server for tens of milliseconds every few hundred of them.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx

from stockroom.api.app import create_app
from stockroom.settings import Settings

ITEMS = "/stores/v3/inventory-items"
MISSING = "00000000-0000-4000-8000-000000000009"
SOURCE = str(Path(__file__).parents[2] / "src" / "stockroom")


@contextmanager
def unreachable_frames() -> Iterator[list[str]]:
    """Collect nothing automatically inside; then find what only the collector would have
    freed, and name the Stockroom frames among it."""
    found: list[str] = []
    gc.collect()
    gc.disable()
    try:
        yield found
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found += [
            f"{garbage.f_code.co_name} ({garbage.f_code.co_filename})"
            for garbage in gc.garbage
            if type(garbage).__name__ == "frame" and garbage.f_code.co_filename.startswith(SOURCE)
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_refusals_on_the_loop_and_on_worker_threads_leave_no_cycles(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'refusals.db'}", run_jobs=False, run_relay=False
    )
    app = create_app(settings)

    async def refusals(client: httpx.AsyncClient, sold_out: str) -> set[int]:
        statuses = set()
        for _ in range(20):
            bought = await client.post(
                "/stores/v3/bulk/inventory-items/decrement",
                json={
                    "decrementData": [{"inventoryItemId": sold_out, "decrementBy": 1}],
                    "restrictInventory": True,
                },
            )
            missing = await client.get(f"{ITEMS}/{MISSING}")
            statuses |= {bought.status_code, missing.status_code}
        return statuses

    async def scenario() -> tuple[set[int], list[str]]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            created = await client.post(
                ITEMS,
                json={"inventoryItem": {"productId": "p", "variantId": MISSING, "quantity": 0}},
            )
            sold_out = created.json()["inventoryItem"]["id"]
            await refusals(client, sold_out)  # first uses: caches, compiled statements
            with unreachable_frames() as frames:
                statuses = await refusals(client, sold_out)
        return statuses, frames

    statuses, frames = anyio.run(scenario)

    assert statuses == {428, 404}
    assert frames == []
