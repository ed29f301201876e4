"""Fresh databases for a test run: SQLite files, and PostgreSQL databases made and dropped here.

PostgreSQL tests use the server at ``STOCKROOM_TEST_POSTGRES_URL`` (by default the local one CI
runs, ``postgresql://postgres@127.0.0.1:5432/test``). Each test run creates databases of its
own, named ``stockroom_test_<run>_<n>``, and drops them when it ends, so runs never share state.
Without a reachable server the PostgreSQL tests skip and say how to enable them; in CI (``CI``
set) they fail instead.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Final

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

__all__ = ["ADMIN_URL", "PostgresDatabases", "in_ci", "unreachable_message"]

ADMIN_URL: Final = os.environ.get(
    "STOCKROOM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


_CREATE_WITH_LOCALE: Final = (
    "CREATE DATABASE {} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
)
"""A locale that sorts text as people do ("a" < "B" < "b"), as production databases often
are: only the columns' own "C" collation keeps SQL order equal to Python's."""


def in_ci() -> bool:
    """Whether this run is CI's, where every backend and the SDK must be tested."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def unreachable_message(error: Exception) -> str:
    where = make_url(ADMIN_URL).render_as_string(hide_password=True)
    return (
        f"PostgreSQL not reachable at {where} ({str(error).strip()}); start it "
        "(DEVELOPERS.md says how) or set STOCKROOM_TEST_POSTGRES_URL to a server where "
        "this user may create databases"
    )


class PostgresDatabases:
    """Creates databases on one PostgreSQL server for this run, and drops them all at the end."""

    def __init__(self, admin_url: str = ADMIN_URL) -> None:
        self._admin = make_url(admin_url)
        self._run = uuid.uuid4().hex[:10]
        self._created: list[str] = []
        with self._connect():
            pass  # raises psycopg.OperationalError when the server is not there

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        conninfo = self._admin.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)

    def create(self) -> str:
        """A new, empty database; its SQLAlchemy URL (``postgresql://``)."""
        name = f"stockroom_test_{self._run}_{len(self._created)}"
        with self._connect() as conn:
            try:
                conn.execute(sql.SQL(_CREATE_WITH_LOCALE).format(sql.Identifier(name)))
            except psycopg.errors.Error:  # before PostgreSQL 15, or built without ICU
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        url = self._admin.set(drivername="postgresql", database=name)
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        # Each DROP DATABASE waits for a checkpoint; side by side, they share one.
        with ThreadPoolExecutor(max(1, len(self._created))) as pool:
            list(pool.map(self._drop, self._created))
        self._created.clear()

    def _drop(self, name: str) -> None:
        with self._connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
