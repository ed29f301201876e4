"""Events: each store's event stream, the outbox, webhook subscriptions and deliveries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    """Text compared by code point: PostgreSQL's "C" collation (SQLite's default already is)."""
    if length is None:
        return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


_Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "event_streams",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("pruned_through", sa.BigInteger(), nullable=False),
        sa.Column("subscribers", _Json, nullable=False),
        sa.PrimaryKeyConstraint("store_id", name="pk_event_streams"),
    )
    # Stores made before events existed start their streams at zero, with no webhooks.
    op.execute(
        "INSERT INTO event_streams (store_id, last_seq, pruned_through, subscribers)"
        " SELECT id, 0, 0, '[]' FROM stores"
    )
    op.create_table(
        "events",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_id", _text(36), nullable=False),
        sa.Column("entity_id", _text(36), nullable=False),
        sa.Column("event_type", _text(80), nullable=False),
        sa.Column("body", _text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "seq", name="pk_events"),
    )
    op.create_index("ix_events_store_id_created_ms", "events", ["store_id", "created_ms"])
    op.create_table(
        "webhooks",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("id", _text(36), nullable=False),
        sa.Column("url", _text(2048), nullable=False),
        sa.Column("event_types", _Json, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("secret", _text(100), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "id", name="pk_webhooks"),
    )
    op.create_table(
        "deliveries",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("webhook_id", _text(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entity_id", _text(36), nullable=False),
        sa.Column("state", _text(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", _text(64), nullable=True),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_attempt_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", _text(500), nullable=True),
        sa.Column("delivered_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "webhook_id", "seq", name="pk_deliveries"),
    )
    op.create_index(
        "ix_deliveries_state_next_attempt_ms", "deliveries", ["state", "next_attempt_ms"]
    )
    op.create_index(
        "ix_deliveries_store_id_webhook_id_entity_id_state_seq",
        "deliveries",
        ["store_id", "webhook_id", "entity_id", "state", "seq"],
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("webhooks")
    op.drop_table("events")
    op.drop_table("event_streams")
