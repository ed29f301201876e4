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
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from stockroom.domain.item import QUANTITY_UNTRACKED_SORTS_AS

__all__ = [
    "AVAILABILITY_SQL",
    "api_keys",
    "deliveries",
    "event_streams",
    "events",
    "idempotency_keys",
    "inventory_items",
    "job_items",
    "jobs",
    "locations",
    "metadata",
    "outbox",
    "products",
    "rate_windows",
    "secrets",
    "stores",
    "variants",
    "webhooks",
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


def _text(length: int | None = None) -> TypeEngine[str]:
    """A text column that compares and sorts by code point, as Python does, on both backends:
    SQLite's default (BINARY) already does; PostgreSQL needs the "C" collation, or it would
    follow the database's locale (and the query tests compare SQL with Python)."""
    if length is None:
        return Text().with_variant(Text(collation="C"), "postgresql")
    return String(length).with_variant(String(length, collation="C"), "postgresql")


stores = Table(
    "stores",
    metadata,
    Column("id", _text(64), primary_key=True),
    Column("default_location_id", _text(36), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

locations = Table(
    "locations",
    metadata,
    Column("store_id", _text(64), nullable=False),
    Column("id", _text(36), nullable=False),
    Column("name", _text(150), nullable=False),
    Column("location_type", _text(16), nullable=False),
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
    Column("store_id", _text(64), nullable=False),
    Column("id", _text(36), nullable=False),
    Column("variant_id", _text(36), nullable=False),
    Column("location_id", _text(36), nullable=False),
    Column("product_id", _text(36), nullable=False),
    Column("quantity", Integer),
    Column("in_stock", Boolean),
    Column("preorder_enabled", Boolean, nullable=False),
    Column("preorder_message", _text()),
    Column("preorder_limit", Integer),
    Column("preorder_counter", Integer, nullable=False),
    Column("availability_status", _text(16), Computed(AVAILABILITY_SQL, persisted=True)),
    Column("extended_fields", _Json),
    Column("revision", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    # The read-only product summary (spec 2.3), kept in step with the catalog.
    Column("product_name", _text(80)),
    Column("variant_name", _text(250)),
    Column("variant_sku", _text(40)),
    Column("variant_barcode", _text(40)),
    Column("variant_visible", Boolean),
    Column("brand_id", _text(36)),
    Column("brand_name", _text(50)),
    Column("direct_category_ids", _Json),
    # What a quantity sorts by (``query.fields``, ``SortKey``): no NULL in it, so one index
    # serves sorts both ways, cursor pages (a row comparison) and ranges, on both databases.
    # Virtual on SQLite (its index stores it), stored on PostgreSQL (which has no other kind).
    Column("quantity_key", Integer, Computed(f"COALESCE(quantity, {QUANTITY_UNTRACKED_SORTS_AS})")),
    PrimaryKeyConstraint("store_id", "id"),
    UniqueConstraint("store_id", "variant_id", "location_id"),
    CheckConstraint("(quantity IS NULL) <> (in_stock IS NULL)", name="one_tracking_method"),
    CheckConstraint("quantity BETWEEN -99999 AND 99999", name="quantity_range"),
    CheckConstraint("preorder_counter BETWEEN 0 AND 99999", name="preorder_counter_range"),
    Index(None, "store_id", "variant_id", "created_ms", "id"),  # a filter and the default order
    Index(None, "store_id", "product_id", "created_ms", "id"),
    Index(None, "store_id", "location_id", "created_ms", "id"),
    Index(None, "store_id", "created_ms", "id"),
    Index(None, "store_id", "updated_ms", "id"),
    Index(None, "store_id", "availability_status", "created_ms"),
    Index(None, "store_id", "quantity_key", "id"),
    Index(None, "store_id", "product_name"),
)

secrets = Table(
    "secrets",
    metadata,
    Column("name", _text(64), primary_key=True),
    Column("value", _text(128), nullable=False),
)
"""Keys shared by every server process (the cursor signing key), made on first use."""

jobs = Table(
    "jobs",
    metadata,
    Column("store_id", _text(64), nullable=False),
    Column("id", _text(36), nullable=False),
    Column("kind", _text(40), nullable=False),
    Column("status", _text(16), nullable=False),
    Column("request", _Json, nullable=False),
    Column("items_to_process", Integer, nullable=False),
    Column("items_succeeded", Integer, nullable=False),
    Column("items_failed", Integer, nullable=False),
    Column("lease_owner", _text(64)),
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
    Column("store_id", _text(64), nullable=False),
    Column("job_id", _text(36), nullable=False),
    Column("item_id", _text(36), nullable=False),
    Column("state", _text(16), nullable=False),
    Column("error", _Json),
    PrimaryKeyConstraint("store_id", "job_id", "item_id"),
    Index(None, "store_id", "job_id", "state"),
)
"""The items a job will touch, fixed when it is submitted, and what became of each."""

products = Table(
    "products",
    metadata,
    Column("store_id", _text(64), nullable=False),
    Column("id", _text(36), nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("name", _text(80)),
    Column("product_type", _text(16), nullable=False),
    Column("brand_id", _text(36)),
    Column("brand_name", _text(50)),
    Column("category_ids", _Json),
    Column("has_subscriptions", Boolean, nullable=False),
    Column("document", _Json, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "id"),
    Index(None, "store_id", "created_ms", "id"),
)
"""The catalog's products: the modelled fields, and the whole product as the client sent it."""

variants = Table(
    "variants",
    metadata,
    Column("store_id", _text(64), nullable=False),
    Column("id", _text(36), nullable=False),
    Column("product_id", _text(36), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", _text(250)),
    Column("sku", _text(40)),
    Column("barcode", _text(40)),
    Column("visible", Boolean, nullable=False),
    PrimaryKeyConstraint("store_id", "id"),
    Index(None, "store_id", "product_id", "position"),
    Index(None, "store_id", "sku"),
)
"""Each product's variants; a variant id is unique within its store."""

api_keys = Table(
    "api_keys",
    metadata,
    Column("store_id", _text(64), nullable=False),
    Column("id", _text(36), nullable=False),
    Column("name", _text(100), nullable=False),
    Column("key_hash", _text(64), nullable=False),
    Column("scopes", _Json, nullable=False),
    Column("rate_per_second", Integer),
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger),
    PrimaryKeyConstraint("store_id", "id"),
    UniqueConstraint("key_hash"),
)
"""API keys of each store: only a SHA-256 of the key is kept; the key itself is shown once."""

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("store_id", _text(64), nullable=False),
    Column("key", _text(255), nullable=False),
    Column("request_hash", _text(64), nullable=False),
    Column("status", Integer),
    Column("response", LargeBinary),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "key"),
    Index(None, "expires_ms"),
)
"""The first answer to each ``Idempotency-Key``, replayed to retries until it expires."""

rate_windows = Table(
    "rate_windows",
    metadata,
    Column("bucket", _text(200), nullable=False),
    Column("window_ms", BigInteger, nullable=False),
    Column("used", Integer, nullable=False),
    PrimaryKeyConstraint("bucket", "window_ms"),
)
"""Requests counted per caller per window, shared by every server process."""

event_streams = Table(
    "event_streams",
    metadata,
    Column("store_id", _text(64), nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("pruned_through", BigInteger, nullable=False),
    Column("subscribers", _Json, nullable=False),
    PrimaryKeyConstraint("store_id"),
)
"""Each store's event stream: the last sequence number given out (by the sequencer; on
SQLite by each writer, the one writer there is), how far the stream has been pruned, and
the store's active webhooks as ``[[id, [event type, ...]], ...]`` (kept here by every
change to a webhook, so whoever numbers events learns them from the same update)."""

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("store_id", _text(64), nullable=False),
    Column("event_id", _text(36), nullable=False),
    Column("entity_id", _text(36), nullable=False),
    Column("event_type", _text(80), nullable=False),
    Column("body", _text(), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)
"""Events written by the transactions of their changes, waiting for the sequencer to number
them into their store's stream (``storage.sequencer``). ``id`` comes from one counter that
no writer waits on (a sequence; SQLite's rowid), so writers of a store commit in parallel."""

events = Table(
    "events",
    metadata,
    Column("store_id", _text(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_id", _text(36), nullable=False),
    Column("entity_id", _text(36), nullable=False),
    Column("event_type", _text(80), nullable=False),
    Column("body", _text(), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "seq"),
)
"""Each store's event stream, numbered by the sequencer from the ``outbox``. ``body`` holds
the change that fired the event, from which the JSON delivered (and signed) is made when the
event is read (``storage.event_bodies``). Its only index is the primary key:
pruning finds the events past their retention by a search in sequence order
(``storage.retention``)."""

webhooks = Table(
    "webhooks",
    metadata,
    Column("store_id", _text(64), nullable=False),
    Column("id", _text(36), nullable=False),
    Column("url", _text(2048), nullable=False),
    Column("event_types", _Json, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("secret", _text(100), nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "id"),
)
"""Webhook subscriptions: where a store's events go, and the secret that signs them."""

deliveries = Table(
    "deliveries",
    metadata,
    Column("store_id", _text(64), nullable=False),
    Column("webhook_id", _text(36), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("entity_id", _text(36), nullable=False),
    Column("state", _text(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("lease_owner", _text(64)),
    Column("lease_until_ms", BigInteger),
    Column("last_attempt_ms", BigInteger),
    Column("last_status", Integer),
    Column("last_error", _text(500)),
    Column("delivered_ms", BigInteger),
    Column("created_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "webhook_id", "seq"),
    Index(None, "state", "next_attempt_ms"),
    Index(None, "store_id", "webhook_id", "entity_id", "state", "seq"),
)
"""One row per event per subscription that takes it, made with the event: its state,
attempts and lease. It is also the delivery log operators read."""
