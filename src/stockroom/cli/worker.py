"""The application each ``stockroom serve`` worker process builds for itself.

uvicorn starts each worker as a fresh process that imports an application factory by name,
so ``serve`` passes the settings down in ``STOCKROOM_*`` environment variables (read by
``Settings.from_env``), having already migrated the database once, before any worker starts.
"""

from __future__ import annotations

from starlette.applications import Starlette

from stockroom.api.app import create_app
from stockroom.settings import Settings

__all__ = ["application"]


def application() -> Starlette:
    """The HTTP application for the settings in this process's environment."""
    return create_app(Settings.from_env())
