"""The embedded backend: one SQLite file in WAL mode.

Durability: ``synchronous=FULL`` makes every commit wait for the write-ahead log to reach
the disk, so an acknowledged change survives power loss. Writers take the database lock
up front (``BEGIN IMMEDIATE``) so two writers never deadlock upgrading a read lock. A
process's writers queue for it in arrival order (``storage.turns``), and the first of them
then waits for other Stockroom processes' on a lock file beside the database, woken the
moment the holder commits. Any other program's writers are waited for through
``busy_timeout``. A writer that waits longer than that gets ``ServiceBusy`` (HTTP 503 with
``Retry-After``), with nothing written.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Insert, create_engine, event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from .driver import driver_of
from .held import HeldWrite
from .migrate import WRITE_OPTION
from .sql import SqlStorage, service_busy
from .turns import ProcessTurns, Turns

__all__ = ["DEFAULT_BUSY_TIMEOUT_MS", "SqliteStorage"]

DEFAULT_BUSY_TIMEOUT_MS: Final = 30_000
_PRAGMAS = (
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    # Each connection's page cache holds 1 MB rather than 2: a process keeps up to 40 open
    # connections when its reads run in parallel, and the operating system caches the file
    # beneath them anyway.
    "PRAGMA cache_size=-1024",
)


class SqliteStorage(SqlStorage):
    """``Storage`` on a SQLite file named by a ``sqlite:///path`` URL; a writer waits up to
    ``busy_timeout_ms`` for the write lock."""

    locks_rows = False  # BEGIN IMMEDIATE already holds the one database write lock
    driver_errors = (sqlite3.Error,)  # BEGIN, and a stock batch's statements (``driver``)

    def __init__(
        self,
        url: str,
        *,
        now_ms: Callable[[], int],
        pool_size: int = 8,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> None:
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=32,
        )
        event.listen(engine, "connect", partial(_configure_connection, busy_timeout_ms))
        event.listen(engine, "begin", _begin)
        super().__init__(engine, now_ms=now_ms)
        self.busy_timeout_ms = busy_timeout_ms
        self._writers = Turns()
        self._processes = ProcessTurns(f"{database}-writers" if _is_file(database) else None)

    @contextmanager
    def _turn(self, *, write: bool) -> Iterator[None]:
        """Writers of this process queue for the write lock in arrival order (``Turns``);
        the one at the head then queues with other processes' (``ProcessTurns``)."""
        if not write:
            yield
            return
        with self._writers.turn(timeout_s=self.busy_timeout_ms / 1000) as got:
            if not got:
                raise service_busy(self._locked_too_long())
            with self._processes.turn():
                yield

    def begin_without_waiting(self, store_id: str) -> HeldWrite | None:
        """``writing``, begun now and held open, when the write lock is free this instant, in
        this process and in any other: the statements then run in the process, without a
        wait. ``None`` otherwise."""
        if self._joined(store_id) is not None:  # a request transaction: its own rules apply
            return None
        with ExitStack() as held:
            if not held.enter_context(self._writers.turn_now()):
                return None
            if not held.enter_context(self._processes.turn_now()):
                return None
            tx = held.enter_context(self.writing(store_id))
            return HeldWrite(tx, held.pop_all(), self._writers.release_thread)

    def close(self) -> None:
        super().close()
        self._processes.close()

    def ignoring_conflicts(self, table: Any) -> Insert:
        return sqlite_insert(table).on_conflict_do_nothing()

    def _begin_write(self, conn: Connection) -> Connection:
        return conn.execution_options(**{WRITE_OPTION: True})

    def _busy_reason(self, error: Exception) -> str | None:
        if _is_busy(error.orig if isinstance(error, DBAPIError) else error):
            return self._locked_too_long()
        return super()._busy_reason(error)

    def _locked_too_long(self) -> str:
        return f"the database stayed locked by other writers for {self.busy_timeout_ms} ms"


def _is_file(database: str | None) -> bool:
    return bool(database) and database != ":memory:" and not str(database).startswith("file:")


def _is_busy(error: BaseException | None) -> bool:
    """SQLITE_BUSY, in any of its extended codes: the busy timeout ran out."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_BUSY


def _configure_connection(
    busy_timeout_ms: int, dbapi_connection: sqlite3.Connection, _: ConnectionPoolEntry
) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event below instead of the driver.
    dbapi_connection.isolation_level = None
    dbapi_connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    _use_wal(dbapi_connection, busy_timeout_ms)
    for pragma in _PRAGMAS:
        dbapi_connection.execute(pragma)
    # SQLite's lower() folds only ASCII; queries fold case with Python's rules instead.
    dbapi_connection.create_function("py_lower", 1, _lower, deterministic=True)


def _use_wal(dbapi_connection: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Put the file in write-ahead-log mode, which then stays with it. Only its first
    connections find it otherwise; switching answers "busy" at once, without waiting, while
    another connection holds a lock (several processes opening a new file together), so it
    is retried until the busy timeout."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while dbapi_connection.execute("PRAGMA journal_mode").fetchone() != ("wal",):
        try:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(WRITE_OPTION, False)
    # Straight to the driver: every transaction begins here, and SQLAlchemy would add some
    # 45 µs to a statement SQLite runs in a few (see ``storage.driver``).
    sqlite = driver_of(conn)
    assert sqlite is not None
    sqlite.execute("BEGIN IMMEDIATE" if write else "BEGIN")
