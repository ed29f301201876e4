"""Product summary columns and query indexes on items; the cursor key; background jobs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _text(length: int | None = None) -> sa.types.TypeEngine[str]:
    """Text compared by code point: PostgreSQL's "C" collation (SQLite's default already is)."""
    if length is None:
        return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


_Json = sa.JSON().with_variant(JSONB(), "postgresql")


def _product_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("product_name", _text(80), nullable=True),
        sa.Column("variant_name", _text(250), nullable=True),
        sa.Column("variant_sku", _text(40), nullable=True),
        sa.Column("variant_barcode", _text(40), nullable=True),
        sa.Column("variant_visible", sa.Boolean(), nullable=True),
        sa.Column("brand_id", _text(36), nullable=True),
        sa.Column("brand_name", _text(50), nullable=True),
        sa.Column("direct_category_ids", _Json, nullable=True),
    )


_ITEM_INDEXES = (
    ("ix_inventory_items_store_id_updated_ms_id", ["store_id", "updated_ms", "id"]),
    (
        "ix_inventory_items_store_id_availability_status_created_ms",
        ["store_id", "availability_status", "created_ms"],
    ),
    ("ix_inventory_items_store_id_quantity", ["store_id", "quantity"]),
    ("ix_inventory_items_store_id_product_name", ["store_id", "product_name"]),
)


def upgrade() -> None:
    for column in _product_columns():
        op.add_column("inventory_items", column)
    for name, columns in _ITEM_INDEXES:
        op.create_index(name, "inventory_items", columns)
    op.create_table(
        "secrets",
        sa.Column("name", _text(64), nullable=False),
        sa.Column("value", _text(128), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_secrets"),
    )
    op.create_table(
        "jobs",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("id", _text(36), nullable=False),
        sa.Column("kind", _text(40), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("request", _Json, nullable=False),
        sa.Column("items_to_process", sa.Integer(), nullable=False),
        sa.Column("items_succeeded", sa.Integer(), nullable=False),
        sa.Column("items_failed", sa.Integer(), nullable=False),
        sa.Column("lease_owner", _text(64), nullable=True),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_status_lease_until_ms", "jobs", ["status", "lease_until_ms"])
    op.create_table(
        "job_items",
        sa.Column("store_id", _text(64), nullable=False),
        sa.Column("job_id", _text(36), nullable=False),
        sa.Column("item_id", _text(36), nullable=False),
        sa.Column("state", _text(16), nullable=False),
        sa.Column("error", _Json, nullable=True),
        sa.PrimaryKeyConstraint("store_id", "job_id", "item_id", name="pk_job_items"),
    )
    op.create_index(
        "ix_job_items_store_id_job_id_state", "job_items", ["store_id", "job_id", "state"]
    )


def downgrade() -> None:
    op.drop_table("job_items")
    op.drop_table("jobs")
    op.drop_table("secrets")
    for name, _ in _ITEM_INDEXES:
        op.drop_index(name, "inventory_items")
    for column in _product_columns():
        op.drop_column("inventory_items", column.name)
