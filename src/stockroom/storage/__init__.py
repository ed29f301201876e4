"""Storage backends behind one interface; ``open_storage`` picks one by URL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import make_url

from .base import Storage, Transaction
from .migrate import upgrade
from .sql import SqlStorage
from .sqlite import SqliteStorage

__all__ = ["SqlStorage", "SqliteStorage", "Storage", "Transaction", "open_storage"]


def open_storage(url: str, *, now_ms: Callable[[], int], migrate: bool = True) -> SqlStorage:
    """Open the database at ``url`` (``sqlite:///path``), upgrading its schema if asked."""
    backend = make_url(url).get_backend_name()
    if backend != "sqlite":
        raise ValueError(f"unsupported database URL scheme {backend!r}; use sqlite:///path")
    storage = SqliteStorage(url, now_ms=now_ms)
    if migrate:
        upgrade(storage.engine)
    return storage
