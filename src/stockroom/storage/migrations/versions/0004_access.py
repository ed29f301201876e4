"""API keys, idempotency records and rate-limit windows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _text(length: int) -> sa.types.TypeEngine[str]:
    """Text compared by code point: PostgreSQL's "C" collation (SQLite's default already is)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


_Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("id", _text(36), nullable=False),
        sa.Column("name", _text(100), nullable=False),
        sa.Column("key_hash", _text(64), nullable=False),
        sa.Column("scopes", _Json, nullable=False),
        sa.Column("rate_per_second", sa.Integer(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("store_id", "id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("key", _text(255), nullable=False),
        sa.Column("request_hash", _text(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_expires_ms", "idempotency_keys", ["expires_ms"])
    op.create_table(
        "rate_windows",
        sa.Column("bucket", _text(200), nullable=False),
        sa.Column("window_ms", sa.BigInteger(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window_ms", name="pk_rate_windows"),
    )


def downgrade() -> None:
    op.drop_table("rate_windows")
    op.drop_table("idempotency_keys")
    op.drop_table("api_keys")
