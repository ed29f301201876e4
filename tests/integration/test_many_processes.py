"""Processes sharing one database agree on what each creates on first use: a store's one
default location, and the keys every process signs with. Each storage here stands for one
server process, with a pool of its own."""

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from stockroom.storage import open_storage
from stockroom.storage.schema import locations

PROCESSES = 8
NOW = 1_704_067_200_000


def race(empty_database, act):
    """Open PROCESSES storages on one database, run ``act`` on each at the same moment."""
    storages = [open_storage(empty_database, now_ms=lambda: NOW) for _ in range(PROCESSES)]
    start = threading.Barrier(PROCESSES)

    def run(storage):
        start.wait()
        return act(storage)

    with ThreadPoolExecutor(PROCESSES) as pool:
        results = list(pool.map(run, storages))
    return storages, results


def test_processes_racing_to_open_a_new_store_create_one_default_location(empty_database):
    def default_location(storage):
        with storage.writing("new-store") as tx:
            return tx.default_location_id()

    storages, found = race(empty_database, default_location)

    assert len(set(found)) == 1
    with storages[0].engine.connect() as conn:
        count = conn.execute(
            select(func.count()).where(locations.c.store_id == "new-store")
        ).scalar_one()
    assert count == 1
    for storage in storages:
        storage.close()


def test_processes_racing_for_a_new_secret_all_get_the_same_one(empty_database):
    storages, found = race(empty_database, lambda storage: storage.secret("cursor-signing"))

    assert len(set(found)) == 1
    for storage in storages:
        storage.close()
