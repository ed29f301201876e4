"""Which item fields a query may filter, sort, search and aggregate, and with which operators.

This is spec 4.2 and the SDK's ``InventoryItemQuerySpec``/``InventoryItemSearchSpec`` as data.
Anything not listed here is refused with a 400 naming the field and the operator.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Final

from stockroom.domain.item import QUANTITY_UNTRACKED_SORTS_AS

__all__ = [
    "FIELDS",
    "INVENTORY",
    "LOCATIONS",
    "PRODUCTS",
    "SEARCHABLE",
    "VARIANTS",
    "Field",
    "Kind",
    "SortKey",
    "Spec",
    "field_named",
]


class Kind(Enum):
    ID = "id"  # GUID strings: equality, ranges, prefixes
    STRING = "string"
    NUMBER = "number"
    DATE = "date"  # ISO-8601 on the wire, integer milliseconds in storage
    BOOL = "bool"
    ENUM = "enum"
    ARRAY = "array"  # an array of strings


_SCALAR_COMMON = frozenset({"$eq", "$ne", "$exists", "$in", "$nin", "$hasSome"})
_RANGES = frozenset({"$gt", "$gte", "$lt", "$lte"})

OPERATORS: Final[dict[Kind, frozenset[str]]] = {
    Kind.ID: _SCALAR_COMMON | _RANGES | {"$startsWith"},
    Kind.STRING: _SCALAR_COMMON | _RANGES | {"$startsWith", "$isEmpty"},
    Kind.NUMBER: _SCALAR_COMMON | _RANGES,
    Kind.DATE: _SCALAR_COMMON | _RANGES,
    Kind.BOOL: _SCALAR_COMMON,
    Kind.ENUM: _SCALAR_COMMON,
    Kind.ARRAY: frozenset({"$hasSome", "$hasAll", "$isEmpty", "$exists"}),
}

OPERATOR_ALIASES: Final = {"$le": "$lte", "$ge": "$gte"}


@dataclass(frozen=True, slots=True)
class SortKey:
    """For a nullable number: a generated ``column`` that holds the field's value, or where
    it has none ``missing_as``, a value below every one it can hold. Ordered as the field
    with missing values first, it holds no NULL, so one plain index on it serves sorts both
    ways, cursor pages (a row comparison) and ranges, on both databases."""

    column: str
    missing_as: int


@dataclass(frozen=True, slots=True)
class Field:
    """One queryable field: its REST path, storage column and what may be done with it."""

    path: str
    column: str
    kind: Kind
    sortable: bool = True
    table: str = "inventory_items"
    searchable: bool = False
    nullable: bool = False
    values: frozenset[str] = frozenset()  # the allowed values of an ENUM
    sort_key: SortKey | None = None

    @property
    def operators(self) -> frozenset[str]:
        return OPERATORS[self.kind]


AVAILABILITY_VALUES = frozenset({"IN_STOCK", "OUT_OF_STOCK", "PREORDER"})

FIELDS: Final[dict[str, Field]] = {
    f.path: f
    for f in (
        Field("id", "id", Kind.ID, sortable=False),
        Field("variantId", "variant_id", Kind.ID, sortable=False),
        Field("locationId", "location_id", Kind.ID, sortable=False),
        Field("productId", "product_id", Kind.STRING),
        Field("createdDate", "created_ms", Kind.DATE),
        Field("updatedDate", "updated_ms", Kind.DATE),
        Field(
            "quantity",
            "quantity",
            Kind.NUMBER,
            nullable=True,
            sort_key=SortKey("quantity_key", QUANTITY_UNTRACKED_SORTS_AS),
        ),
        Field("inStock", "in_stock", Kind.BOOL, nullable=True),
        Field("trackQuantity", "track_quantity", Kind.BOOL),
        Field("availabilityStatus", "availability_status", Kind.ENUM, values=AVAILABILITY_VALUES),
        Field("preorderInfo.enabled", "preorder_enabled", Kind.BOOL),
        Field("product.name", "product_name", Kind.STRING, searchable=True, nullable=True),
        Field("product.variantName", "variant_name", Kind.STRING, searchable=True, nullable=True),
        Field("product.variantSku", "variant_sku", Kind.STRING, searchable=True, nullable=True),
        Field(
            "product.variantBarcode", "variant_barcode", Kind.STRING, searchable=True, nullable=True
        ),
        Field("product.brand.id", "brand_id", Kind.STRING, nullable=True),
        Field(
            "product.directCategoryIds",
            "direct_category_ids",
            Kind.ARRAY,
            sortable=False,  # an order of arrays means nothing a client could rely on
            nullable=True,
        ),
    )
}

SEARCHABLE: Final = tuple(f for f in FIELDS.values() if f.searchable)

# The SDK's names for a few fields, accepted wherever a field is named by a string value
# (sort ``fieldName``, aggregation ``fieldPath``, search ``fields``).
_SDK_NAMES: Final = {"_id": "id", "_createdDate": "createdDate", "_updatedDate": "updatedDate"}


@dataclass(frozen=True, slots=True)
class Spec:
    """What one kind of entity offers to queries: its fields and its default order."""

    entity: str
    fields: dict[str, Field]
    default_sort: str = "createdDate"

    @property
    def id_field(self) -> Field:
        return self.fields["id"]

    def named(self, path: str) -> Field | None:
        """The field at a REST path (or its SDK alias), or ``None`` if it cannot be queried."""
        path = _SDK_NAMES.get(path, path)
        if path.endswith("._id"):
            path = path[: -len("._id")] + ".id"
        return self.fields.get(path)


INVENTORY: Final = Spec("inventory item", FIELDS)


def _spec(entity: str, table: str, *fields: Field) -> Spec:
    return Spec(entity, {f.path: replace(f, table=table) for f in fields})


PRODUCTS: Final = _spec(
    "product",
    "products",
    Field("id", "id", Kind.ID),
    Field("name", "name", Kind.STRING, nullable=True),
    Field("productType", "product_type", Kind.ENUM, values=frozenset({"PHYSICAL", "DIGITAL"})),
    Field("brand.id", "brand_id", Kind.STRING, nullable=True),
    Field("createdDate", "created_ms", Kind.DATE),
    Field("updatedDate", "updated_ms", Kind.DATE),
)

LOCATIONS: Final = _spec(
    "location",
    "locations",
    Field("id", "id", Kind.ID),
    Field("wixLocationId", "id", Kind.ID),
    Field("name", "name", Kind.STRING),
    Field("locationType", "location_type", Kind.ENUM, values=frozenset({"VIRTUAL", "PHYSICAL"})),
    Field("defaultLocation", "is_default", Kind.BOOL),
    Field("archived", "archived", Kind.BOOL),
    Field("createdDate", "created_ms", Kind.DATE),
    Field("updatedDate", "updated_ms", Kind.DATE),
)

VARIANTS: Final = _spec(
    "variant",
    "variants",
    Field("id", "id", Kind.ID),
    Field("productId", "product_id", Kind.STRING),
    Field("sku", "sku", Kind.STRING, nullable=True),
    Field("barcode", "barcode", Kind.STRING, nullable=True),
    Field("visible", "visible", Kind.BOOL),
    Field("name", "name", Kind.STRING, nullable=True),
)


def field_named(path: str) -> Field | None:
    """The inventory item field at a REST path (or its SDK alias)."""
    return INVENTORY.named(path)
