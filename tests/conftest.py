"""Fixtures shared by every test tier: storage backends, the clock, a live server.

Every test that takes ``storage``, ``inventory``, ``live_server`` or ``client`` runs once per
backend in ``BACKENDS``. PostgreSQL ones use databases this run creates (``tests.databases``):
they skip when no server is reachable, and fail instead in CI.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import text

from stockroom.service.context import Inventory
from stockroom.storage import SqlStorage, open_storage
from stockroom.storage.schema import metadata

from .databases import PostgresDatabases, in_ci, unreachable_message
from .live import LiveServer

BACKENDS = ["sqlite", "postgres"]


class FakeClock:
    """A clock that moves only when told to; starts at 2024-01-01T00:00:00.000Z."""

    def __init__(self, start_ms: int = 1_704_067_200_000) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int = 1) -> None:
        self.now += ms


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    """Makes fresh PostgreSQL databases for this run; drops them when it ends."""
    try:
        databases = PostgresDatabases()
    except psycopg.OperationalError as error:
        if in_ci():
            pytest.fail(f"{unreachable_message(error)}; CI must run them", pytrace=False)
        pytest.skip(unreachable_message(error))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def postgres_contract_url(postgres: PostgresDatabases) -> str:
    """The database the storage-level tests share, emptied before each test."""
    return postgres.create()


def database_url(request: pytest.FixtureRequest, backend: str, folder: Path) -> str:
    """A database of ``backend`` nobody else uses: a file in ``folder``, or a new database."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'stockroom.db'}"
    if backend == "postgres":
        databases: PostgresDatabases = request.getfixturevalue("postgres")
        return databases.create()
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a database with nothing in it yet, of each backend."""
    return database_url(request, request.param, tmp_path)


def _open(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> SqlStorage:
    if request.param == "sqlite":
        return open_storage(database_url(request, "sqlite", tmp_path), now_ms=clock)
    opened = open_storage(request.getfixturevalue("postgres_contract_url"), now_ms=clock)
    tables = ", ".join(table.name for table in metadata.sorted_tables)
    with opened.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables}"))
    return opened


@pytest.fixture(params=BACKENDS)
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[SqlStorage]:
    opened = _open(request, tmp_path, clock)
    yield opened
    opened.close()


@pytest.fixture
def inventory(storage: SqlStorage, clock: FakeClock) -> Inventory:
    return Inventory(storage=storage, clock=clock)


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server per backend for the whole session, each on a database of its own."""
    folder = tmp_path_factory.mktemp(f"server-{request.param}")
    server = LiveServer(database_url(request, request.param, folder), folder / "server.log")
    yield server
    server.stop()


@pytest.fixture
def store_id() -> str:
    """A store of the test's own, so tests never see each other's items."""
    return str(uuid.uuid4())


@pytest.fixture
def client(live_server: LiveServer, store_id: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=live_server.url, headers={"wix-site-id": store_id}, timeout=30
    ) as http:
        yield http
