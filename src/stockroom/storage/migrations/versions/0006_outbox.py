"""The outbox: events wait there for their sequence numbers, so writers do not.

Until now every writing transaction numbered its events itself, holding its store's stream
row until it committed: one store's writes took turns. Now a transaction appends its events
to ``outbox`` and the sequencer numbers them into ``events`` afterwards.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    """Text compared by code point: PostgreSQL's "C" collation (SQLite's default already is)."""
    if length is None:
        return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("event_id", _text(36), nullable=False),
        sa.Column("entity_id", _text(36), nullable=False),
        sa.Column("event_type", _text(80), nullable=False),
        sa.Column("body", _text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )


def downgrade() -> None:
    op.drop_table("outbox")
