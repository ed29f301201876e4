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

A connection idle in the pool for longer than ``trust_idle_ms`` is tested with a round trip
before it is handed out, and replaced if the server went away meanwhile (a failover, a
restart). One used more recently is not: at low load that test was one round trip of the
five or six a stock change makes. If the server went away within that window, the first
statement fails; the request gets ``ServiceBusy``, and every connection of the pool opened
before then is replaced, so one such request per process fails, not one per connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any, Final

from psycopg.errors import LockNotAvailable
from sqlalchemy import Connection, Dialect, Insert, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from .pages import explaining
from .sql import SqlStorage

__all__ = [
    "DEFAULT_POOL_SIZE",
    "DEFAULT_POOL_TIMEOUT_MS",
    "DEFAULT_TRUST_IDLE_MS",
    "PostgresStorage",
    "postgres_url",
]

DEFAULT_POOL_SIZE: Final = 10
DEFAULT_POOL_TIMEOUT_MS: Final = 30_000
DEFAULT_TRUST_IDLE_MS: Final = 500
"""How long a connection back in the pool is handed out again untested (the window
HikariCP, a widely run Java pool, gives its own alive check by default)."""
_LAST_USED: Final = "stockroom_last_used"
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
        trust_idle_ms: int = DEFAULT_TRUST_IDLE_MS,
    ) -> None:
        engine = create_engine(
            postgres_url(url),
            # A hard cap, so that a fleet's connection count is known in advance; a request
            # beyond it waits for a connection rather than opening one more.
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout_ms / 1000,
            pool_recycle=_RECYCLE_S,
            isolation_level="READ COMMITTED",
            connect_args={"application_name": "stockroom", "connect_timeout": 10},
        )
        event.listen(engine, "before_cursor_execute", explaining, retval=True)
        # Survive a failover or a restarted server: test a connection idle for a while
        # before handing it out (the module's docstring).
        event.listen(engine.pool, "connect", _used)
        event.listen(engine.pool, "checkin", _used)
        event.listen(engine.pool, "checkout", partial(_test_if_idle, engine.dialect, trust_idle_ms))
        super().__init__(engine, now_ms=now_ms)

    def ignoring_conflicts(self, table: Any) -> Insert:
        return postgres_insert(table).on_conflict_do_nothing()

    def _begin_read(self, conn: Connection) -> Connection:
        return conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)

    def _busy_reason(self, error: Exception) -> str | None:
        if isinstance(error, DBAPIError) and isinstance(error.orig, LockNotAvailable):
            return "a lock stayed taken by other writers past the lock timeout"
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return "the connection to the database was lost (the next request reconnects)"
        return super()._busy_reason(error)


def _used(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """A connection just opened or just given back: known to work a moment ago."""
    record.info[_LAST_USED] = time.monotonic()


def _test_if_idle(
    dialect: Dialect,
    trust_idle_ms: int,
    dbapi_connection: Any,
    record: ConnectionPoolEntry,
    _: PoolProxiedConnection,
) -> None:
    """On checkout: one round trip to a connection idle longer than ``trust_idle_ms``. A
    failed one replaces every connection of the pool opened before it (the server they
    were opened to is gone); the pool then hands out a new connection."""
    last_used = record.info.get(_LAST_USED)
    if last_used is not None and (time.monotonic() - last_used) * 1000 < trust_idle_ms:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        raise InvalidatePoolError(f"a pooled connection failed its test: {error}") from error
