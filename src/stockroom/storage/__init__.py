"""Storage backends behind one interface; ``open_storage`` picks one by URL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import make_url

from .base import Storage, Transaction
from .migrate import upgrade
from .postgres import (
    DEFAULT_POOL_SIZE,
    DEFAULT_POOL_TIMEOUT_MS,
    DEFAULT_TRUST_IDLE_MS,
    PostgresStorage,
)
from .sql import SqlStorage
from .sqlite import DEFAULT_BUSY_TIMEOUT_MS, SqliteStorage

__all__ = [
    "PostgresStorage",
    "SqlStorage",
    "SqliteStorage",
    "Storage",
    "Transaction",
    "open_storage",
]


def open_storage(
    url: str,
    *,
    now_ms: Callable[[], int],
    migrate: bool = True,
    pool_size: int | None = None,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    pool_timeout_ms: int = DEFAULT_POOL_TIMEOUT_MS,
    trust_idle_ms: int = DEFAULT_TRUST_IDLE_MS,
) -> SqlStorage:
    """Open the database at ``url`` (``sqlite:///path`` or ``postgresql://...``), upgrading
    its schema if asked. ``pool_size`` caps this process's connections (PostgreSQL); a
    request waits up to ``busy_timeout_ms`` for SQLite's write lock, or ``pool_timeout_ms``
    for a free PostgreSQL connection, before it fails with ``ServiceBusy``; a PostgreSQL
    connection idle in the pool longer than ``trust_idle_ms`` is tested before it is used.

    Raises ``ValueError`` for a URL naming any other database.
    """
    backend = make_url(url).get_backend_name()
    storage: SqlStorage
    if backend == "sqlite":
        storage = SqliteStorage(url, now_ms=now_ms, busy_timeout_ms=busy_timeout_ms)
    elif backend in ("postgresql", "postgres"):
        storage = PostgresStorage(
            url,
            now_ms=now_ms,
            pool_size=DEFAULT_POOL_SIZE if pool_size is None else pool_size,
            pool_timeout_ms=pool_timeout_ms,
            trust_idle_ms=trust_idle_ms,
        )
    else:
        raise ValueError(
            f"unsupported database URL scheme {backend!r}; "
            "use sqlite:///path or postgresql://user@host/database"
        )
    if migrate:
        try:
            upgrade(storage.engine)
        except BaseException:
            storage.close()
            raise
    return storage
