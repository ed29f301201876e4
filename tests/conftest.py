"""Fixtures shared by every test tier: storage backends, the clock, a live server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stockroom.service.context import Inventory
from stockroom.storage import SqlStorage, open_storage

from .live import LiveServer

BACKENDS = ["sqlite"]


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


def _open(backend: str, tmp_path: Path, clock: FakeClock) -> SqlStorage:
    if backend == "sqlite":
        return open_storage(f"sqlite:///{tmp_path / 'stockroom.db'}", now_ms=clock)
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture(params=BACKENDS)
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[SqlStorage]:
    opened = _open(request.param, tmp_path, clock)
    yield opened
    opened.close()


@pytest.fixture
def inventory(storage: SqlStorage, clock: FakeClock) -> Inventory:
    return Inventory(storage=storage, clock=clock)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("server")
    server = LiveServer(f"sqlite:///{folder / 'stockroom.db'}", folder / "server.log")
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
