"""Bringing a database's schema up to date with Alembic, from inside the package.

One set of migrations serves both backends. Any number of processes may ask for an upgrade
at once (every host of a fleet does on start): each takes the database's one migration lock
first, so one of them migrates and the others find the schema already at head. The lock is
a transaction-scoped advisory lock on PostgreSQL, and SQLite's write lock (``BEGIN
IMMEDIATE``, which the SQLite backend issues for ``WRITE_OPTION``) on SQLite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

__all__ = ["WRITE_OPTION", "current_revision", "head_revision", "upgrade"]

_SCRIPTS = Path(__file__).with_name("migrations")

WRITE_OPTION: Final = "stockroom_write"
"""The execution option that makes a SQLite backend connection begin with ``BEGIN IMMEDIATE``."""

_MIGRATION_LOCK_KEY: Final = 0x5354_4F43_4B52  # "STOCKR": any constant shared by every process


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` in one transaction, holding the migration lock."""
    config = _config()
    with engine.connect() as raw:
        conn = raw.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            _lock_migrations(conn)
            config.attributes["connection"] = conn
            command.upgrade(config, revision)


def _lock_migrations(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, ``None`` for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this version of Stockroom knows."""
    return ScriptDirectory.from_config(_config()).get_current_head()
