"""Indexes that serve a filter by variant or by product and the default order together.

Without statistics SQLite walked the (store, created) index for these filters and read the
whole store (about 0.4 s at a million items); an index on (store, variant or product,
created, id) answers a page from the matching rows alone. The product index replaces the
(store, product) one, which it extends.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ORDER = ["created_ms", "id"]


def upgrade() -> None:
    op.create_index(
        "ix_inventory_items_store_id_variant_id_created_ms_id",
        "inventory_items",
        ["store_id", "variant_id", *_ORDER],
    )
    op.create_index(
        "ix_inventory_items_store_id_product_id_created_ms_id",
        "inventory_items",
        ["store_id", "product_id", *_ORDER],
    )
    op.drop_index("ix_inventory_items_store_id_product_id", "inventory_items")


def downgrade() -> None:
    op.create_index(
        "ix_inventory_items_store_id_product_id", "inventory_items", ["store_id", "product_id"]
    )
    op.drop_index("ix_inventory_items_store_id_product_id_created_ms_id", "inventory_items")
    op.drop_index("ix_inventory_items_store_id_variant_id_created_ms_id", "inventory_items")
