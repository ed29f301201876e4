"""Drop the index on the events' (store, created time).

It served one question, asked once a minute by the relay's pruning: which is the last event
past the retention period. A binary search of the stream by its primary key answers it in a
few point reads (``storage.retention``), and every event written no longer updates a second
index: on SQLite, a batch of 25 sales wrote 32 pages to the log, 3.4 of them for it.

Dropping an index takes the briefest of locks; writes do not wait for a build.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_events_store_id_created_ms", "events")


def downgrade() -> None:
    op.create_index("ix_events_store_id_created_ms", "events", ["store_id", "created_ms"])
