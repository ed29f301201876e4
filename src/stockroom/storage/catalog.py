"""Stored products, variants and locations of one store, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    bindparam,
    delete,
    insert,
    or_,
    select,
    true,
    update,
)

from stockroom.domain.catalog import (
    Location,
    LocationType,
    Product,
    ProductType,
    Variant,
    item_summary,
)
from stockroom.domain.item import ProductSummary

from .schema import inventory_items, locations, products, variants

__all__ = ["SqlCatalog"]


class SqlCatalog:
    def __init__(self, conn: Connection, store_id: str) -> None:
        self._conn = conn
        self._store_id = store_id

    # ---- products ------------------------------------------------------------------------

    def uses_catalog(self) -> bool:
        """Whether the store keeps any product here (then items must name real variants)."""
        found = self._conn.execute(
            select(products.c.id).where(products.c.store_id == self._store_id).limit(1)
        ).first()
        return found is not None

    def get_product(self, product_id: str, *, lock: bool = False) -> Product | None:
        query = select(products).where(
            products.c.store_id == self._store_id, products.c.id == product_id
        )
        if lock:
            query = query.with_for_update()
        row = self._conn.execute(query).mappings().first()
        return None if row is None else self._product(row)

    def select_products(
        self, condition: ColumnElement[bool], order_by: Sequence[Any], limit: int
    ) -> list[Product]:
        rows = self._conn.execute(
            select(products)
            .where(products.c.store_id == self._store_id, condition)
            .order_by(*order_by)
            .limit(limit)
        ).mappings()
        return [self._product(row) for row in rows]

    def variant_owners(self, variant_ids: Iterable[str]) -> dict[str, str]:
        """The product each of these variant ids already belongs to, where one does."""
        wanted = sorted(set(variant_ids))
        if not wanted:
            return {}
        rows = self._conn.execute(_VARIANT_OWNERS, {"store": self._store_id, "variants": wanted})
        return {str(v): str(p) for v, p in rows}

    def find_variant(self, variant_id: str) -> tuple[Product, Variant] | None:
        return self.find_variants([variant_id]).get(variant_id)

    def find_variants(self, variant_ids: Iterable[str]) -> dict[str, tuple[Product, Variant]]:
        """The product and variant of each of these variant ids that the catalog holds, in
        three statements however many ids: the owners, their products, their variants."""
        owners = self.variant_owners(variant_ids)
        if not owners:
            return {}
        wanted = sorted(set(owners.values()))
        params = {"store": self._store_id, "products": wanted}
        variant_rows: dict[str, list[RowMapping]] = {product_id: [] for product_id in wanted}
        for row in self._conn.execute(_VARIANTS_OF_PRODUCTS, params).mappings():
            variant_rows[row["product_id"]].append(row)
        found: dict[str, tuple[Product, Variant]] = {}
        for row in self._conn.execute(_PRODUCTS, params).mappings():
            product = _product_from(row, variant_rows[row["id"]])
            for variant in product.variants:
                if owners.get(variant.id) == product.id:
                    found[variant.id] = (product, variant)
        return found

    def insert_product(self, product: Product) -> None:
        self._conn.execute(insert(products).values(self._product_values(product)))
        self._insert_variants(product)

    def save_product(self, product: Product) -> None:
        """Write a product and replace its variants (the caller holds the product's lock)."""
        values = self._product_values(product)
        del values["store_id"], values["id"], values["created_ms"]
        self._conn.execute(
            update(products)
            .where(products.c.store_id == self._store_id, products.c.id == product.id)
            .values(values)
        )
        self._conn.execute(
            delete(variants).where(
                variants.c.store_id == self._store_id, variants.c.product_id == product.id
            )
        )
        self._insert_variants(product)

    def delete_product(self, product_id: str) -> None:
        """Delete a product and its variants (its items are the caller's to delete)."""
        for table, key in ((variants, variants.c.product_id), (products, products.c.id)):
            self._conn.execute(
                delete(table).where(table.c.store_id == self._store_id, key == product_id)
            )

    def refresh_item_summaries(self, product: Product) -> None:
        """Copy the product's details onto each of its items (the read-only ``product``)."""
        for variant in product.variants:
            summary = item_summary(product, variant)
            self._conn.execute(
                update(inventory_items)
                .where(
                    inventory_items.c.store_id == self._store_id,
                    inventory_items.c.product_id == product.id,
                    inventory_items.c.variant_id == variant.id,
                )
                .values(summary_values(summary))
            )

    def orphaned_item_ids(self, product: Product) -> list[str]:
        """Items of the product whose variant the product no longer has."""
        known = [v.id for v in product.variants]
        unknown_variant = inventory_items.c.variant_id.not_in(known) if known else true()
        rows = self._conn.execute(
            select(inventory_items.c.id).where(
                inventory_items.c.store_id == self._store_id,
                inventory_items.c.product_id == product.id,
                unknown_variant,
            )
        )
        return [str(item_id) for (item_id,) in rows]

    def item_ids_of(self, product_id: str) -> list[str]:
        rows = self._conn.execute(
            select(inventory_items.c.id).where(
                inventory_items.c.store_id == self._store_id,
                inventory_items.c.product_id == product_id,
            )
        )
        return [str(item_id) for (item_id,) in rows]

    def _insert_variants(self, product: Product) -> None:
        if not product.variants:
            return
        self._conn.execute(
            insert(variants),
            [
                {
                    "store_id": self._store_id,
                    "id": variant.id,
                    "product_id": product.id,
                    "position": position,
                    "name": variant.name,
                    "sku": variant.sku,
                    "barcode": variant.barcode,
                    "visible": variant.visible,
                }
                for position, variant in enumerate(product.variants)
            ],
        )

    def _product_values(self, product: Product) -> dict[str, Any]:
        return {
            "store_id": self._store_id,
            "id": product.id,
            "revision": product.revision,
            "name": product.name,
            "product_type": product.product_type.value,
            "brand_id": product.brand_id,
            "brand_name": product.brand_name,
            "category_ids": list(product.category_ids) or None,
            "has_subscriptions": product.has_subscriptions,
            "document": dict(product.document),
            "created_ms": product.created_ms,
            "updated_ms": product.updated_ms,
        }

    def _product(self, row: RowMapping) -> Product:
        found = self._conn.execute(
            select(variants)
            .where(variants.c.store_id == self._store_id, variants.c.product_id == row["id"])
            .order_by(variants.c.position)
        ).mappings()
        return _product_from(row, found)

    # ---- locations -----------------------------------------------------------------------

    def get_location(self, location_id: str) -> Location | None:
        row = (
            self._conn.execute(
                select(locations).where(
                    locations.c.store_id == self._store_id, locations.c.id == location_id
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _location(row)

    def select_locations(
        self, condition: ColumnElement[bool], order_by: Sequence[Any], limit: int
    ) -> list[Location]:
        rows = self._conn.execute(
            select(locations)
            .where(locations.c.store_id == self._store_id, condition)
            .order_by(*order_by)
            .limit(limit)
        ).mappings()
        return [_location(row) for row in rows]

    def insert_location(self, location: Location) -> None:
        self._conn.execute(insert(locations).values(_location_values(self._store_id, location)))

    def save_location(self, location: Location, *, expected_revision: int) -> bool:
        values = _location_values(self._store_id, location)
        del values["store_id"], values["id"], values["created_ms"]
        result = self._conn.execute(
            update(locations)
            .where(
                locations.c.store_id == self._store_id,
                locations.c.id == location.id,
                locations.c.revision == expected_revision,
            )
            .values(values)
        )
        return bool(result.rowcount)

    def location_holds_stock(self, location_id: str) -> bool:
        """Whether any item at the location has units on hand or is flagged in stock."""
        found = self._conn.execute(
            select(inventory_items.c.id)
            .where(
                inventory_items.c.store_id == self._store_id,
                inventory_items.c.location_id == location_id,
                or_(inventory_items.c.quantity > 0, inventory_items.c.in_stock.is_(True)),
            )
            .limit(1)
        ).first()
        return found is not None


def summary_values(summary: ProductSummary | None) -> dict[str, Any]:
    """The item columns holding a product summary (all empty for ``None``)."""
    if summary is None:
        summary = _NO_PRODUCT
    return {
        "product_name": summary.name,
        "variant_name": summary.variant_name,
        "variant_sku": summary.variant_sku,
        "variant_barcode": summary.variant_barcode,
        "variant_visible": summary.variant_visible,
        "brand_id": summary.brand_id,
        "brand_name": summary.brand_name,
        "direct_category_ids": list(summary.direct_category_ids) or None,
    }


_NO_PRODUCT = ProductSummary()

_VARIANT_OWNERS: Final = select(variants.c.id, variants.c.product_id).where(
    variants.c.store_id == bindparam("store"),
    variants.c.id.in_(bindparam("variants", expanding=True)),
)
_PRODUCTS: Final = select(products).where(
    products.c.store_id == bindparam("store"),
    products.c.id.in_(bindparam("products", expanding=True)),
)
_VARIANTS_OF_PRODUCTS: Final = (
    select(variants)
    .where(
        variants.c.store_id == bindparam("store"),
        variants.c.product_id.in_(bindparam("products", expanding=True)),
    )
    .order_by(variants.c.product_id, variants.c.position)
)
"""Built once: bulk creates look up every variant they name with these."""


def _product_from(row: RowMapping, variant_rows: Iterable[RowMapping]) -> Product:
    return Product(
        id=row["id"],
        name=row["name"],
        product_type=ProductType(row["product_type"]),
        variants=tuple(
            Variant(
                id=v["id"],
                name=v["name"],
                sku=v["sku"],
                barcode=v["barcode"],
                visible=bool(v["visible"]),
            )
            for v in variant_rows
        ),
        revision=row["revision"],
        created_ms=row["created_ms"],
        updated_ms=row["updated_ms"],
        brand_id=row["brand_id"],
        brand_name=row["brand_name"],
        category_ids=tuple(row["category_ids"] or ()),
        has_subscriptions=bool(row["has_subscriptions"]),
        document=row["document"],
    )


def _location(row: RowMapping) -> Location:
    return Location(
        id=row["id"],
        name=row["name"],
        location_type=LocationType(row["location_type"]),
        is_default=bool(row["is_default"]),
        archived=bool(row["archived"]),
        revision=row["revision"],
        created_ms=row["created_ms"],
        updated_ms=row["updated_ms"],
    )


def _location_values(store_id: str, location: Location) -> dict[str, Any]:
    return {
        "store_id": store_id,
        "id": location.id,
        "name": location.name,
        "location_type": location.location_type.value,
        "is_default": location.is_default,
        "archived": location.archived,
        "revision": location.revision,
        "created_ms": location.created_ms,
        "updated_ms": location.updated_ms,
    }
