"""Settings, read once from arguments or the environment and passed down explicitly."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

__all__ = ["DEFAULT_DATABASE_URL", "DEFAULT_STORE_ID", "Settings"]

DEFAULT_DATABASE_URL = f"sqlite:///{Path('data') / 'stockroom.db'}"
DEFAULT_STORE_ID = "default"


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    default_store_id: str = DEFAULT_STORE_ID
    migrate_on_start: bool = True
    worker_threads: int = 32
    large_requests: int = 4  # bodies over 64 KiB one process works on at once (memory)
    searches: int = 6  # searches (a page and aggregations over every match) run at once (memory)
    database_pool_size: int = 10  # connections per process, at most (PostgreSQL)
    # How long a request waits for the database before it is answered 503 (docs/deploy.md).
    database_busy_timeout_ms: int = 30_000  # for SQLite's write lock
    database_pool_timeout_ms: int = 30_000  # for a free connection of the pool (PostgreSQL)
    # A pooled connection idle longer than this is tested before use (PostgreSQL).
    database_trust_idle_ms: int = 500
    run_jobs: bool = True
    job_lease_ms: int = 30_000
    job_batch: int = 200
    admin_key: str | None = None
    coalesce: bool = True
    idempotency_ttl_ms: int = 24 * 3_600_000
    # Events and webhooks (docs/events.md): the relay beside `serve`, and its figures.
    run_relay: bool = True
    relay_workers: int = 2
    relay_batch: int = 200
    relay_concurrency: int = 16
    relay_lease_ms: int = 60_000
    webhook_timeout_ms: int = 5_000
    webhook_max_attempts: int = 16
    webhook_retry_base_ms: int = 1_000
    webhook_retry_max_ms: int = 3_600_000
    event_retention_days: int = 7

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then ``STOCKROOM_<FIELD>`` environment variables, then explicit
        overrides (``None`` overrides are ignored)."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = os.environ.get(f"STOCKROOM_{field.name.upper()}")
            if raw:
                values[field.name] = _PARSERS[field.type](raw)  # type: ignore[index]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


_PARSERS: Final[dict[str, Callable[[str], object]]] = {
    "str": str,
    "str | None": str,
    "int": int,
    "bool": _flag,
}
