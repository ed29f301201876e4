"""An index on (store, location, created, id) in place of the one on (store, location).

A page filtered by location and something else, ``quantity < 5`` at one location for one,
can then walk that location's items in the default order and keep the matches, instead of
counting them through the quantity index first (about 10 ms at a million items, 0.5 ms
once that walk can be narrowed to the location). It serves a filter by location alone in
the default order too, as the variant and product indexes do for theirs.

Writes to ``inventory_items`` wait while the index is built: 1.4 s per million items on
PostgreSQL, about 3 s on SQLite (two cores).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_inventory_items_store_id_location_id_created_ms_id",
        "inventory_items",
        ["store_id", "location_id", "created_ms", "id"],
    )
    op.drop_index("ix_inventory_items_store_id_location_id", "inventory_items")


def downgrade() -> None:
    op.create_index(
        "ix_inventory_items_store_id_location_id", "inventory_items", ["store_id", "location_id"]
    )
    op.drop_index("ix_inventory_items_store_id_location_id_created_ms_id", "inventory_items")
