"""Stores, locations and inventory items.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from stockroom.storage.schema import AVAILABILITY_SQL

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    """Text compared by code point: PostgreSQL's "C" collation (SQLite's default already is)."""
    if length is None:
        return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "stores",
        sa.Column("id", _text(64), nullable=False),
        sa.Column("default_location_id", _text(36), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stores"),
    )
    op.create_table(
        "locations",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("id", _text(36), nullable=False),
        sa.Column("name", _text(150), nullable=False),
        sa.Column("location_type", _text(16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "id", name="pk_locations"),
    )
    op.create_table(
        "inventory_items",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("id", _text(36), nullable=False),
        sa.Column("variant_id", _text(36), nullable=False),
        sa.Column("location_id", _text(36), nullable=False),
        sa.Column("product_id", _text(36), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("in_stock", sa.Boolean(), nullable=True),
        sa.Column("preorder_enabled", sa.Boolean(), nullable=False),
        sa.Column("preorder_message", _text(), nullable=True),
        sa.Column("preorder_limit", sa.Integer(), nullable=True),
        sa.Column("preorder_counter", sa.Integer(), nullable=False),
        sa.Column(
            "availability_status",
            _text(16),
            sa.Computed(AVAILABILITY_SQL, persisted=True),
            nullable=True,
        ),
        sa.Column(
            "extended_fields",
            sa.JSON().with_variant(JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "id", name="pk_inventory_items"),
        sa.UniqueConstraint(
            "store_id",
            "variant_id",
            "location_id",
            name="uq_inventory_items_store_id_variant_id_location_id",
        ),
        sa.CheckConstraint(
            "(quantity IS NULL) <> (in_stock IS NULL)",
            name="ck_inventory_items_one_tracking_method",
        ),
        sa.CheckConstraint(
            "quantity BETWEEN -99999 AND 99999", name="ck_inventory_items_quantity_range"
        ),
        sa.CheckConstraint(
            "preorder_counter BETWEEN 0 AND 99999",
            name="ck_inventory_items_preorder_counter_range",
        ),
    )
    op.create_index(
        "ix_inventory_items_store_id_product_id", "inventory_items", ["store_id", "product_id"]
    )
    op.create_index(
        "ix_inventory_items_store_id_location_id", "inventory_items", ["store_id", "location_id"]
    )
    op.create_index(
        "ix_inventory_items_store_id_created_ms_id",
        "inventory_items",
        ["store_id", "created_ms", "id"],
    )


def downgrade() -> None:
    op.drop_table("inventory_items")
    op.drop_table("locations")
    op.drop_table("stores")
