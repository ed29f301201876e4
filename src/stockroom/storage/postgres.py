"""The server backend: PostgreSQL through psycopg 3, with a pool of connections per process.

Writers run at READ COMMITTED. A stock change is one conditional UPDATE, which PostgreSQL
re-checks against the newest committed row once a concurrent writer has finished, so no
change is lost and no stock is oversold. Requests that change several items first lock
them with ``SELECT ... ORDER BY id FOR UPDATE`` (``locks_rows``), so two requests touching
the same items in different orders queue behind each other instead of deadlocking.

Readers run at REPEATABLE READ, READ ONLY: every statement of one read (a page, its count,
its aggregations) sees the same snapshot, and a reader neither blocks nor waits for writers.

Every process opens its own pool of at most ``pool_size`` connections and never more, so
the connections a fleet needs are (hosts x workers x pool size); see ``docs/deploy.md``. A
request that finds none free within ``pool_timeout_ms`` gets ``ServiceBusy`` (HTTP 503 with
``Retry-After``), as does one whose lock wait outlives a ``lock_timeout`` set on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from psycopg.errors import LockNotAvailable
from sqlalchemy import Connection, Insert, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from .pages import explaining
from .sql import SqlStorage

__all__ = ["DEFAULT_POOL_SIZE", "DEFAULT_POOL_TIMEOUT_MS", "PostgresStorage", "postgres_url"]

DEFAULT_POOL_SIZE: Final = 10
DEFAULT_POOL_TIMEOUT_MS: Final = 30_000
_DRIVER: Final = "postgresql+psycopg"
_SCHEMES: Final = frozenset({"postgres", "postgresql", _DRIVER})
_RECYCLE_S: Final = 30 * 60


def postgres_url(url: str | URL) -> URL:
    """``url`` for SQLAlchemy's psycopg 3 driver; ``postgres://`` and ``postgresql://`` are
    accepted as the usual spellings. Raises ``ValueError`` for any other scheme or driver."""
    parsed = make_url(url)
    if parsed.drivername not in _SCHEMES:
        raise ValueError(
            f"unsupported PostgreSQL URL scheme {parsed.drivername!r}; use postgresql://"
        )
    return parsed.set(drivername=_DRIVER)


class PostgresStorage(SqlStorage):
    """``Storage`` on a PostgreSQL database named by a ``postgresql://`` URL."""

    locks_rows = True

    def __init__(
        self,
        url: str,
        *,
        now_ms: Callable[[], int],
        pool_size: int = DEFAULT_POOL_SIZE,
        pool_timeout_ms: int = DEFAULT_POOL_TIMEOUT_MS,
    ) -> None:
        engine = create_engine(
            postgres_url(url),
            # A hard cap, so that a fleet's connection count is known in advance; a request
            # beyond it waits for a connection rather than opening one more.
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout_ms / 1000,
            # Survive a failover or a restarted server: test a connection before handing it out.
            pool_pre_ping=True,
            pool_recycle=_RECYCLE_S,
            isolation_level="READ COMMITTED",
            connect_args={"application_name": "stockroom", "connect_timeout": 10},
        )
        event.listen(engine, "before_cursor_execute", explaining, retval=True)
        super().__init__(engine, now_ms=now_ms)

    def ignoring_conflicts(self, table: Any) -> Insert:
        return postgres_insert(table).on_conflict_do_nothing()

    def _begin_read(self, conn: Connection) -> Connection:
        return conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)

    def _busy_reason(self, error: Exception) -> str | None:
        if isinstance(error, DBAPIError) and isinstance(error.orig, LockNotAvailable):
            return "a lock stayed taken by other writers past the lock timeout"
        return super()._busy_reason(error)
