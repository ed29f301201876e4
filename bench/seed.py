"""Loading items by the fastest path (not the API), for the scenarios that only read them
or change their stock: ``executemany`` in one transaction on SQLite, ``COPY`` on PostgreSQL.

Ids are deterministic so that Lua scripts and raw baselines can name items without a list:
item ``i`` is ``item_id(i)``; it is variant ``i // LOCATIONS`` at location ``i % LOCATIONS``,
and every ``VARIANTS_PER_PRODUCT`` variants make one product. Creation times spread over
one year in groups of ten equal times, so sorting by them needs the id tie-breaker.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from .targets import PostgresTarget, SqliteTarget, Target

__all__ = [
    "BASE_MS",
    "ITEM_COLUMNS",
    "LOCATIONS",
    "Catalog",
    "item_id",
    "location_id",
    "product_id",
    "seed_store",
    "variant_id",
]

LOCATIONS: Final = 4
VARIANTS_PER_PRODUCT: Final = 5
BASE_MS: Final = 1_735_689_600_000  # 2025-01-01T00:00:00Z
YEAR_MS: Final = 365 * 24 * 3600 * 1000
_COLOURS: Final = ("Red", "Blue", "Green", "Black", "White", "Amber", "Olive", "Grey")
_THINGS: Final = ("Scarf", "Shirt", "Mug", "Lamp", "Chair", "Socks", "Kettle", "Boots", "Cap")

ITEM_COLUMNS: Final = (
    "store_id", "id", "variant_id", "location_id", "product_id", "quantity", "in_stock",
    "preorder_enabled", "preorder_message", "preorder_limit", "preorder_counter",
    "extended_fields", "revision", "created_ms", "updated_ms", "product_name", "variant_name",
    "variant_sku", "variant_barcode", "variant_visible", "brand_id", "brand_name",
    "direct_category_ids",
)  # fmt: skip


def item_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def variant_id(v: int) -> str:
    return f"10000000-0000-4000-8000-{v:012d}"


def location_id(k: int) -> str:
    return f"20000000-0000-4000-8000-{k:012d}"


def product_id(p: int) -> str:
    return f"product-{p:06d}"


@dataclass(frozen=True, slots=True)
class Catalog:
    """A store's items: ``count`` of them, with ``quantity`` units each when given, else a
    realistic mix (10% out of stock, 5% tracked by in-stock flag, 2% preorder)."""

    store_id: str
    count: int
    quantity: int | None = None
    seed: int = 7

    def created_ms(self, i: int) -> int:
        return BASE_MS + (i // 10) * (YEAR_MS // max(1, self.count // 10))

    @property
    def last_created_ms(self) -> int:
        return self.created_ms(self.count - 1)

    def rows(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.seed)
        for i in range(self.count):
            v = i // LOCATIONS
            p = v // VARIANTS_PER_PRODUCT
            quantity: int | None = self.quantity
            in_stock: bool | None = None
            if quantity is None:
                draw = rng.random()
                if draw < 0.05:
                    in_stock = draw < 0.025
                else:
                    quantity = 0 if draw < 0.15 else rng.randrange(1, 1000)
            preorder = self.quantity is None and rng.random() < 0.02
            created = self.created_ms(i)
            yield (
                self.store_id, item_id(i), variant_id(v), location_id(i % LOCATIONS),
                product_id(p), quantity, in_stock, preorder, None, 100 if preorder else None, 0,
                None, 1, created, created + rng.randrange(0, 30 * 24 * 3600 * 1000),
                f"{_COLOURS[p % len(_COLOURS)]} {_THINGS[(p // len(_COLOURS)) % len(_THINGS)]}",
                f"Size {'SMLXZ'[v % VARIANTS_PER_PRODUCT]}", f"SKU-{v:08d}", None, True, None,
                None, None,
            )  # fmt: skip


def _store_rows(store_id: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    store = (store_id, location_id(0), BASE_MS)
    places = [
        (store_id, location_id(k), f"Location {k}" if k else "Default location",
         "PHYSICAL" if k else "VIRTUAL", k == 0, False, 1, BASE_MS, BASE_MS)
        for k in range(LOCATIONS)
    ]  # fmt: skip
    return store, places


_STORE_SQL = "INSERT INTO stores (id, default_location_id, created_ms) VALUES ({})"
_LOCATION_SQL = (
    "INSERT INTO locations (store_id, id, name, location_type, is_default, archived, revision,"
    " created_ms, updated_ms) VALUES ({})"
)


def seed_store(target: Target, catalog: Catalog) -> None:
    """Create the store, its locations and its items directly in the database."""
    if isinstance(target, SqliteTarget):
        _seed_sqlite(target, catalog)
    elif isinstance(target, PostgresTarget):
        _seed_postgres(target, catalog)
    else:
        raise TypeError(f"cannot seed {target!r}")


def _seed_sqlite(target: SqliteTarget, catalog: Catalog) -> None:
    conn: sqlite3.Connection = target.connect(synchronous="OFF")
    store, places = _store_rows(catalog.store_id)
    marks = ", ".join("?" * len(ITEM_COLUMNS))
    insert = f"INSERT INTO inventory_items ({', '.join(ITEM_COLUMNS)}) VALUES ({marks})"
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(_STORE_SQL.format("?, ?, ?"), store)
    conn.executemany(_LOCATION_SQL.format(", ".join("?" * 9)), places)
    conn.executemany(insert, catalog.rows())
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _seed_postgres(target: PostgresTarget, catalog: Catalog) -> None:
    store, places = _store_rows(catalog.store_id)
    with target.connect() as conn, conn.transaction():
        conn.execute(_STORE_SQL.format("%s, %s, %s"), store)
        conn.cursor().executemany(_LOCATION_SQL.format(", ".join(["%s"] * 9)), places)
        columns = ", ".join(ITEM_COLUMNS)
        with conn.cursor().copy(f"COPY inventory_items ({columns}) FROM STDIN") as copy:
            for row in catalog.rows():
                copy.write_row(row)
    with target.connect() as conn:
        # Autovacuum would vacuum a million fresh rows anyway, at a moment of its choosing,
        # during some measured run: a query's p99 at 1M items was 21-24 ms with it loose, at
        # most 10 vacuumed first (findings.md, thirteenth round).
        conn.execute("VACUUM (ANALYZE) inventory_items")
