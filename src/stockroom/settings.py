"""Settings, read once from arguments or the environment and passed down explicitly."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_DATABASE_URL", "DEFAULT_STORE_ID", "Settings"]

DEFAULT_DATABASE_URL = f"sqlite:///{Path('data') / 'stockroom.db'}"
DEFAULT_STORE_ID = "default"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    default_store_id: str = DEFAULT_STORE_ID
    migrate_on_start: bool = True
    worker_threads: int = 32

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then ``STOCKROOM_*`` environment variables, then explicit overrides."""
        values: dict[str, object] = {}
        if url := os.environ.get("STOCKROOM_DATABASE_URL"):
            values["database_url"] = url
        if store := os.environ.get("STOCKROOM_DEFAULT_STORE_ID"):
            values["default_store_id"] = store
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
