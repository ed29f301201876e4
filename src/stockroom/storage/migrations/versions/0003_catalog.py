"""The catalog: products and their variants.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _text(length: int) -> sa.types.TypeEngine[str]:
    """Text compared by code point: PostgreSQL's "C" collation (SQLite's default already is)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


_Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("id", _text(36), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("name", _text(80), nullable=True),
        sa.Column("product_type", _text(16), nullable=False),
        sa.Column("brand_id", _text(36), nullable=True),
        sa.Column("brand_name", _text(50), nullable=True),
        sa.Column("category_ids", _Json, nullable=True),
        sa.Column("has_subscriptions", sa.Boolean(), nullable=False),
        sa.Column("document", _Json, nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "id", name="pk_products"),
    )
    op.create_index(
        "ix_products_store_id_created_ms_id", "products", ["store_id", "created_ms", "id"]
    )
    op.create_table(
        "variants",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("id", _text(36), nullable=False),
        sa.Column("product_id", _text(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", _text(250), nullable=True),
        sa.Column("sku", _text(40), nullable=True),
        sa.Column("barcode", _text(40), nullable=True),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "id", name="pk_variants"),
    )
    op.create_index(
        "ix_variants_store_id_product_id_position",
        "variants",
        ["store_id", "product_id", "position"],
    )
    op.create_index("ix_variants_store_id_sku", "variants", ["store_id", "sku"])


def downgrade() -> None:
    op.drop_table("variants")
    op.drop_table("products")
