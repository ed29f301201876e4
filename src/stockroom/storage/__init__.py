"""Storage backends behind one interface; ``open_storage`` picks one by URL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import make_url

from .base import Storage, Transaction
from .migrate import upgrade
from .postgres import PostgresStorage
from .sql import SqlStorage
from .sqlite import SqliteStorage

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
) -> SqlStorage:
    """Open the database at ``url`` (``sqlite:///path`` or ``postgresql://...``), upgrading
    its schema if asked. ``pool_size`` caps this process's connections (PostgreSQL).

    Raises ``ValueError`` for a URL naming any other database.
    """
    backend = make_url(url).get_backend_name()
    storage: SqlStorage
    if backend == "sqlite":
        storage = SqliteStorage(url, now_ms=now_ms)
    elif backend in ("postgresql", "postgres"):
        if pool_size is None:
            storage = PostgresStorage(url, now_ms=now_ms)
        else:
            storage = PostgresStorage(url, now_ms=now_ms, pool_size=pool_size)
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
