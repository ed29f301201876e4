"""Alembic environment: runs migrations on the connection ``stockroom.storage.migrate`` passes."""

from __future__ import annotations

from alembic import context

from stockroom.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_server_default=True,
)
with context.begin_transaction():
    context.run_migrations()
