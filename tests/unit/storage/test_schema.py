"""The schema can be sharded by store: every key and index of a store's data leads with its
store id (see docs/deploy.md, "Sharding by store on Citus"). Statements written out by hand
name the columns the schema has."""

import re

from sqlalchemy import Index, PrimaryKeyConstraint, UniqueConstraint

from stockroom.storage.schema import inventory_items, metadata
from stockroom.storage.sql import INSERT_ITEM_ROWS

GLOBAL_TABLES = {
    "secrets": "one key for every store (a reference table)",
    "api_keys": "looked up by key hash before the store is known (a reference table)",
    "rate_windows": "keyed by rate-limit bucket, and distributed on it",
    "outbox": "one commit-order queue the sequencer drains within moments (a local table)",
}
SWEEP_INDEXES = {
    "ix_jobs_status_lease_until_ms": "the job runner's claim across stores",
    "ix_deliveries_state_next_attempt_ms": "the webhook relay's claim across stores",
    "ix_idempotency_keys_expires_ms": "the sweep of expired idempotency records",
}


def leading_column(constraint):
    return next(iter(constraint.columns)).name


def test_every_key_and_index_of_store_data_leads_with_the_store_id():
    not_led = [
        f"{table.name}: {constraint.name or type(constraint).__name__}"
        for table in metadata.sorted_tables
        if table.name not in GLOBAL_TABLES
        for constraint in [*table.constraints, *table.indexes]
        if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint | Index)
        and constraint.name not in SWEEP_INDEXES
        and leading_column(constraint) != ("id" if table.name == "stores" else "store_id")
    ]

    assert not_led == []


def test_the_exceptions_listed_here_still_exist():
    tables = set(metadata.tables)
    indexes = {index.name for table in metadata.sorted_tables for index in table.indexes}

    assert set(GLOBAL_TABLES) <= tables
    assert set(SWEEP_INDEXES) <= indexes


def test_the_bulk_insert_of_items_names_every_stored_column():
    written = re.search(r"INSERT INTO inventory_items \(([^)]*)\)", INSERT_ITEM_ROWS.text)
    assert written is not None
    named = [name.strip() for name in written.group(1).split(",")]
    assert named == [c.name for c in inventory_items.columns if c.computed is None]
