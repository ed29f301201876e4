"""The databases a run targets: a fresh SQLite file, or a fresh PostgreSQL database.

Each target gives the URL the server is started with, and plain DB-API connections for
seeding and for the raw baselines. A PostgreSQL target creates ``stockroom_bench_<random>``
and drops it at the end, so runs never see each other's rows.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import psycopg

from stockroom.service.context import now_ms
from stockroom.storage import open_storage

__all__ = [
    "PG_ADMIN_DSN",
    "PostgresTarget",
    "SqliteTarget",
    "Support",
    "Target",
    "probe",
    "sqlite_pragmas",
]

PG_HOST: Final = "127.0.0.1"
PG_PORT: Final = 5432
PG_USER: Final = "postgres"
PG_ADMIN_DSN: Final = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname=postgres"

Backend = Literal["sqlite", "postgresql"]


def sqlite_pragmas(*, synchronous: str = "FULL") -> tuple[str, ...]:
    """The server's connection settings (``storage/sqlite.py``), for raw connections."""
    return (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA synchronous={synchronous}",
        "PRAGMA busy_timeout=30000",
        "PRAGMA foreign_keys=ON",
    )


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


class Target(Protocol):
    @property
    def backend(self) -> Backend: ...

    @property
    def url(self) -> str: ...

    def connect(self) -> Any:
        """A DB-API connection in autocommit mode: the caller issues BEGIN and COMMIT."""
        ...

    def drop(self) -> None: ...


@dataclass
class SqliteTarget:
    path: Path
    backend: Backend = "sqlite"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def connect(self, *, synchronous: str = "FULL") -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in sqlite_pragmas(synchronous=synchronous):
            conn.execute(pragma)
        conn.create_function("py_lower", 1, _lower, deterministic=True)
        return conn

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    @staticmethod
    def version() -> str:
        return sqlite3.sqlite_version


@dataclass
class PostgresTarget:
    name: str
    backend: Backend = "postgresql"

    @classmethod
    def create(cls) -> PostgresTarget:
        name = f"stockroom_bench_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return cls(name)

    @property
    def url(self) -> str:
        return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.name}"

    @property
    def dsn(self) -> str:
        return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={self.name}"

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn, autocommit=True)

    def drop(self) -> None:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @staticmethod
    def version() -> str:
        try:
            with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3) as conn:
                row = conn.execute("SHOW server_version").fetchone()
        except psycopg.Error as error:
            return f"unavailable ({error.__class__.__name__})"
        return str(row[0]) if row else "unknown"


@dataclass(frozen=True, slots=True)
class Support:
    """Whether the service can use a target, and how its backend changes stock."""

    refused: str | None
    locks_rows: bool = False


def probe(target: Target) -> Support:
    """Open the target as the server will (migrating its schema). ``refused`` says why a
    backend cannot be served yet, for the report; ``locks_rows`` whether stock changes
    lock their rows first (``SELECT ... FOR UPDATE``), which the raw side then does too."""
    try:
        storage = open_storage(target.url, now_ms=now_ms, migrate=True)
    except Exception as error:  # any refusal means "skip, and say why"
        return Support(f"{error.__class__.__name__}: {error}")
    locks_rows = bool(getattr(storage, "locks_rows", False))
    storage.close()
    return Support(None, locks_rows)
