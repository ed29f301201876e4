"""The tables, as SQLAlchemy Core metadata; migrations create exactly this.

Every table leads with ``store_id``: stores never share a row, every key and index starts
with the store, and a sharded PostgreSQL can distribute every table on that column.
Times are integer milliseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "AVAILABILITY_SQL",
    "inventory_items",
    "job_items",
    "jobs",
    "locations",
    "metadata",
    "secrets",
    "stores",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_Json = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

stores = Table(
    "stores",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("default_location_id", String(36), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

locations = Table(
    "locations",
    metadata,
    Column("store_id", String(64), nullable=False),
    Column("id", String(36), nullable=False),
    Column("name", String(150), nullable=False),
    Column("location_type", String(16), nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "id"),
)

AVAILABILITY_SQL: Final = (
    "CASE WHEN quantity IS NOT NULL THEN"
    " CASE WHEN quantity > 0 THEN 'IN_STOCK'"
    " WHEN preorder_enabled AND COALESCE(preorder_limit, 100000) - preorder_counter > 0"
    " THEN 'PREORDER'"
    " ELSE 'OUT_OF_STOCK' END"
    " WHEN in_stock THEN 'IN_STOCK'"
    " WHEN preorder_enabled THEN 'PREORDER'"
    " ELSE 'OUT_OF_STOCK' END"
)
"""``domain.item.availability`` in SQL, kept as a stored generated column for filtering."""

inventory_items = Table(
    "inventory_items",
    metadata,
    Column("store_id", String(64), nullable=False),
    Column("id", String(36), nullable=False),
    Column("variant_id", String(36), nullable=False),
    Column("location_id", String(36), nullable=False),
    Column("product_id", String(36), nullable=False),
    Column("quantity", Integer),
    Column("in_stock", Boolean),
    Column("preorder_enabled", Boolean, nullable=False),
    Column("preorder_message", Text),
    Column("preorder_limit", Integer),
    Column("preorder_counter", Integer, nullable=False),
    Column("availability_status", String(16), Computed(AVAILABILITY_SQL, persisted=True)),
    Column("extended_fields", _Json),
    Column("revision", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    # The read-only product summary (spec 2.3), kept in step with the catalog.
    Column("product_name", String(80)),
    Column("variant_name", String(250)),
    Column("variant_sku", String(40)),
    Column("variant_barcode", String(40)),
    Column("variant_visible", Boolean),
    Column("brand_id", String(36)),
    Column("brand_name", String(50)),
    Column("direct_category_ids", _Json),
    PrimaryKeyConstraint("store_id", "id"),
    UniqueConstraint("store_id", "variant_id", "location_id"),
    CheckConstraint("(quantity IS NULL) <> (in_stock IS NULL)", name="one_tracking_method"),
    CheckConstraint("quantity BETWEEN -99999 AND 99999", name="quantity_range"),
    CheckConstraint("preorder_counter BETWEEN 0 AND 99999", name="preorder_counter_range"),
    Index(None, "store_id", "product_id"),
    Index(None, "store_id", "location_id"),
    Index(None, "store_id", "created_ms", "id"),
    Index(None, "store_id", "updated_ms", "id"),
    Index(None, "store_id", "availability_status", "created_ms"),
    Index(None, "store_id", "quantity"),
    Index(None, "store_id", "product_name"),
)

secrets = Table(
    "secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
)
"""Keys shared by every server process (the cursor signing key), made on first use."""

jobs = Table(
    "jobs",
    metadata,
    Column("store_id", String(64), nullable=False),
    Column("id", String(36), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("request", _Json, nullable=False),
    Column("items_to_process", Integer, nullable=False),
    Column("items_succeeded", Integer, nullable=False),
    Column("items_failed", Integer, nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until_ms", BigInteger),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "id"),
    Index(None, "status", "lease_until_ms"),
)
"""By-filter bulk actions, run in the background (the Async Jobs API reads them)."""

job_items = Table(
    "job_items",
    metadata,
    Column("store_id", String(64), nullable=False),
    Column("job_id", String(36), nullable=False),
    Column("item_id", String(36), nullable=False),
    Column("state", String(16), nullable=False),
    Column("error", _Json),
    PrimaryKeyConstraint("store_id", "job_id", "item_id"),
    Index(None, "store_id", "job_id", "state"),
)
"""The items a job will touch, fixed when it is submitted, and what became of each."""
