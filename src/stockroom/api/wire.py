"""Request and response bodies of the InventoryService, as msgspec structs.

Decoding a request into these types is the schema check: types, required fields, GUID
formats, lengths, sizes and ranges. A body that fails it is refused whole with a 400 before
any use case runs. The rules that need stored state or several fields at once live in the
domain. Unknown fields are ignored, as are the read-only fields clients sometimes echo.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field

from stockroom.domain.item import (
    PREORDER_LIMIT_MAX,
    QUANTITY_MAX,
    QUANTITY_MIN,
)

__all__ = [
    "GUID_PATTERN",
    "ApplicationErrorOut",
    "BulkActionMetadataOut",
    "BulkCreateRequest",
    "BulkDecrementByVariantRequest",
    "BulkDecrementRequest",
    "BulkDeleteRequest",
    "BulkDeleteResponse",
    "BulkIncrementByVariantRequest",
    "BulkIncrementRequest",
    "BulkItemResultOut",
    "BulkItemsResponse",
    "BulkUpdateRequest",
    "BulkUpsertRequest",
    "CreateRequest",
    "InventoryItemOut",
    "ItemCreateIn",
    "ItemMetadataOut",
    "ItemResponse",
    "ItemUpdateIn",
    "PreorderInfoIn",
    "PreorderInfoOut",
    "ProductOut",
    "UpdateRequest",
]

GUID_PATTERN: Final = (
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)

Guid = Annotated[str, Meta(pattern=GUID_PATTERN, description="A GUID")]
ProductId = Annotated[str, Meta(min_length=1, max_length=36)]
Quantity = Annotated[int, Meta(ge=QUANTITY_MIN, le=QUANTITY_MAX)]
Amount = Annotated[int, Meta(ge=1, le=QUANTITY_MAX)]
PreorderLimit = Annotated[int, Meta(ge=0, le=PREORDER_LIMIT_MAX)]
PreorderMessage = Annotated[str, Meta(min_length=1, max_length=250)]
Revision = Annotated[str, Meta(pattern=r"^[0-9]{1,19}$")] | Annotated[int, Meta(ge=0)]
ReasonIn = Literal["ORDER", "MANUAL", "REVERT_INVENTORY_CHANGE"]
Namespaces = dict[Annotated[str, Meta(max_length=100)], dict[str, Any]]

BULK_MAX: Final = 1000
STOCK_BULK_MAX: Final = 300


# ---- requests --------------------------------------------------------------------------


class FieldMaskIn(Struct):
    paths: list[Annotated[str, Meta(max_length=200)]] = field(default_factory=list)


class PreorderInfoIn(Struct):
    enabled: bool | UnsetType | None = UNSET
    message: PreorderMessage | UnsetType | None = UNSET
    limit: PreorderLimit | UnsetType | None = UNSET


class ExtendedFieldsIn(Struct):
    namespaces: Namespaces = field(default_factory=dict)


class ItemCreateIn(Struct):
    productId: ProductId
    variantId: Guid
    locationId: Guid | None = None
    quantity: Quantity | None = None
    inStock: bool | None = None
    preorderInfo: PreorderInfoIn | None = None
    extendedFields: ExtendedFieldsIn | None = None


class ItemUpdateIn(Struct):
    id: Guid | UnsetType = UNSET
    revision: Revision | UnsetType | None = UNSET
    productId: ProductId | UnsetType = UNSET
    variantId: Guid | UnsetType = UNSET
    locationId: Guid | UnsetType = UNSET
    quantity: Quantity | UnsetType | None = UNSET
    inStock: bool | UnsetType | None = UNSET
    preorderInfo: PreorderInfoIn | UnsetType | None = UNSET
    extendedFields: ExtendedFieldsIn | UnsetType | None = UNSET


class CreateRequest(Struct):
    inventoryItem: ItemCreateIn


class BulkCreateRequest(Struct):
    inventoryItems: Annotated[list[ItemCreateIn], Meta(min_length=1, max_length=BULK_MAX)]
    returnEntity: bool = False


class UpdateRequest(Struct):
    inventoryItem: ItemUpdateIn
    reason: ReasonIn | None = None
    fieldMask: FieldMaskIn | str | None = None


class MaskedItemIn(Struct):
    inventoryItem: ItemUpdateIn
    fieldMask: FieldMaskIn | str | None = None


class BulkUpdateRequest(Struct):
    inventoryItems: Annotated[list[MaskedItemIn], Meta(min_length=1, max_length=BULK_MAX)]
    returnEntity: bool = False
    reason: ReasonIn | None = None


class UpsertItemIn(Struct):
    productId: ProductId
    variantId: Guid
    locationId: Guid | None = None
    quantity: Quantity | UnsetType | None = UNSET
    inStock: bool | UnsetType | None = UNSET
    preorderInfo: PreorderInfoIn | UnsetType | None = UNSET
    extendedFields: ExtendedFieldsIn | UnsetType | None = UNSET


class MaskedUpsertIn(Struct):
    inventoryItem: UpsertItemIn
    fieldMask: FieldMaskIn | str | None = None


class BulkUpsertRequest(Struct):
    inventoryItems: Annotated[list[MaskedUpsertIn], Meta(min_length=1, max_length=BULK_MAX)]
    returnEntity: bool = False


class BulkDeleteRequest(Struct):
    inventoryItemIds: Annotated[list[Guid], Meta(min_length=1, max_length=BULK_MAX)]


class IncrementDataIn(Struct):
    inventoryItemId: Guid
    incrementBy: Amount


class DecrementDataIn(Struct):
    inventoryItemId: Guid
    decrementBy: Amount
    preorderRequest: bool | None = None


class BulkIncrementRequest(Struct):
    incrementData: Annotated[list[IncrementDataIn], Meta(min_length=1, max_length=STOCK_BULK_MAX)]
    returnEntity: bool = False
    reason: ReasonIn | None = None


class BulkDecrementRequest(Struct):
    decrementData: Annotated[list[DecrementDataIn], Meta(min_length=1, max_length=STOCK_BULK_MAX)]
    restrictInventory: bool | None = None
    returnEntity: bool = False
    reason: ReasonIn | None = None


class VariantIncrementIn(Struct):
    variantId: Guid
    incrementBy: Amount
    locationId: Guid | None = None
    productId: ProductId | None = None


class VariantDecrementIn(Struct):
    variantId: Guid
    decrementBy: Amount
    locationId: Guid | None = None
    productId: ProductId | None = None
    preorderRequest: bool | None = None


class BulkIncrementByVariantRequest(Struct):
    incrementData: Annotated[
        list[VariantIncrementIn], Meta(min_length=1, max_length=STOCK_BULK_MAX)
    ]
    returnEntity: bool = False
    reason: ReasonIn | None = None


class BulkDecrementByVariantRequest(Struct):
    decrementData: Annotated[
        list[VariantDecrementIn], Meta(min_length=1, max_length=STOCK_BULK_MAX)
    ]
    restrictInventory: bool | None = None
    returnEntity: bool = False
    reason: ReasonIn | None = None


# ---- responses -------------------------------------------------------------------------


class PreorderInfoOut(Struct, omit_defaults=True):
    enabled: bool
    message: str | UnsetType = UNSET
    limit: int | UnsetType = UNSET
    counter: int | UnsetType = UNSET
    quantity: int | UnsetType = UNSET


class BrandOut(Struct, omit_defaults=True):
    id: str | UnsetType = UNSET
    name: str | UnsetType = UNSET


class ProductOut(Struct, omit_defaults=True):
    directCategoryIds: list[str]
    name: str | UnsetType = UNSET
    variantName: str | UnsetType = UNSET
    variantSku: str | UnsetType = UNSET
    variantVisible: bool | UnsetType = UNSET
    variantBarcode: str | UnsetType = UNSET
    brand: BrandOut | UnsetType = UNSET


class ExtendedFieldsOut(Struct):
    namespaces: dict[str, Any]


class InventoryItemOut(Struct, omit_defaults=True):
    id: str
    revision: str
    createdDate: str
    updatedDate: str
    variantId: str
    locationId: str
    productId: str
    trackQuantity: bool
    availabilityStatus: Literal["IN_STOCK", "OUT_OF_STOCK", "PREORDER"]
    preorderInfo: PreorderInfoOut
    quantity: int | UnsetType = UNSET
    inStock: bool | UnsetType = UNSET
    product: ProductOut | UnsetType = UNSET
    extendedFields: ExtendedFieldsOut | UnsetType = UNSET


class ItemResponse(Struct):
    inventoryItem: InventoryItemOut


class ApplicationErrorOut(Struct):
    code: str
    description: str
    data: dict[str, Any]


class ItemMetadataOut(Struct, omit_defaults=True):
    originalIndex: int
    success: bool
    id: str | UnsetType = UNSET
    error: ApplicationErrorOut | UnsetType = UNSET


class BulkItemResultOut(Struct, omit_defaults=True):
    itemMetadata: ItemMetadataOut
    item: InventoryItemOut | UnsetType = UNSET


class BulkActionMetadataOut(Struct):
    totalSuccesses: int
    totalFailures: int
    undetailedFailures: int = 0


class BulkItemsResponse(Struct):
    results: list[BulkItemResultOut]
    bulkActionMetadata: BulkActionMetadataOut


class BulkDeleteResultOut(Struct):
    itemMetadata: ItemMetadataOut


class BulkDeleteResponse(Struct):
    results: list[BulkDeleteResultOut]
    bulkActionMetadata: BulkActionMetadataOut


# ---- query, search, count ----------------------------------------------------------------

Cursor = Annotated[str, Meta(max_length=16_000)]


class CursorPagingIn(Struct):
    limit: int | None = None
    cursor: Cursor | None = None


class OffsetPagingIn(Struct):
    limit: int | None = None
    offset: int | None = None


class QueryIn(Struct):
    filter: dict[str, Any] | None = None
    sort: Annotated[list[Any], Meta(max_length=10)] | None = None
    cursorPaging: CursorPagingIn | None = None
    paging: OffsetPagingIn | None = None


class QueryRequest(Struct):
    query: QueryIn | None = None


class SearchIn(Struct):
    filter: dict[str, Any] | None = None
    sort: Annotated[list[Any], Meta(max_length=10)] | None = None
    cursorPaging: CursorPagingIn | None = None
    search: dict[str, Any] | None = None
    aggregations: Annotated[list[Any], Meta(max_length=10)] | None = None
    timeZone: Annotated[str, Meta(max_length=50)] | None = None


class SearchRequest(Struct):
    search: SearchIn | None = None


class CountRequest(Struct):
    filter: dict[str, Any] | None = None
    search: dict[str, Any] | None = None


class CursorsOut(Struct, omit_defaults=True):
    next: str | UnsetType = UNSET
    prev: str | UnsetType = UNSET


class QueryPagingOut(Struct):
    count: int
    cursors: CursorsOut


class SearchPagingOut(Struct):
    count: int
    cursors: CursorsOut
    hasNext: bool


class QueryResponse(Struct):
    inventoryItems: list[InventoryItemOut]
    pagingMetadata: QueryPagingOut


class AggregationDataOut(Struct):
    results: list[dict[str, Any]]


class SearchResponse(Struct):
    inventoryItems: list[InventoryItemOut]
    pagingMetadata: SearchPagingOut
    aggregationData: AggregationDataOut


class CountResponse(Struct):
    count: int


# ---- by-filter actions and async jobs ----------------------------------------------------


class UpdateByFilterRequest(Struct):
    inventoryItem: ItemUpdateIn
    filter: dict[str, Any] | None = None
    search: dict[str, Any] | None = None
    fieldMask: FieldMaskIn | str | None = None


class DeleteByFilterRequest(Struct):
    filter: dict[str, Any] | None = None
    search: dict[str, Any] | None = None


class AdjustmentIn(Struct):
    incrementBy: Amount | None = None
    decrementBy: Amount | None = None


class AdjustByFilterRequest(Struct):
    adjustment: AdjustmentIn
    filter: dict[str, Any] | None = None
    search: dict[str, Any] | None = None
    trackQuantity: bool = False


class SetOrAdjustByFilterRequest(Struct):
    adjustedInventoryAction: AdjustmentIn
    filter: dict[str, Any] | None = None
    search: dict[str, Any] | None = None


class JobIdResponse(Struct):
    jobId: str


class CountersOut(Struct):
    itemsToProcess: int
    itemsSucceeded: int
    itemsFailed: int


class JobOut(Struct):
    id: str
    status: Literal["INITIALIZED", "PROCESSING", "FINISHED", "FAILED"]
    counters: CountersOut
    counts: CountersOut
    metadata: dict[str, Any]
    createdDate: str
    updatedDate: str


class JobResponse(Struct):
    job: JobOut


class ListJobItemsRequest(Struct):
    paging: CursorPagingIn | None = None


class JobItemOut(Struct, omit_defaults=True):
    id: str
    success: bool
    error: ApplicationErrorOut | UnsetType = UNSET


class ListJobItemsResponse(Struct):
    items: list[JobItemOut]
    pagingMetadata: SearchPagingOut


# ---- catalog: products and locations ------------------------------------------------------


class ProductRequest(Struct):
    product: dict[str, Any]
    returnEntity: bool = True
    fields: Annotated[list[str], Meta(max_length=100)] | None = None


class BulkProductsRequest(Struct):
    products: Annotated[list[dict[str, Any]], Meta(min_length=1, max_length=100)]
    returnEntity: bool = False


class ProductQueryRequest(Struct):
    query: QueryIn | None = None


class LocationIn(Struct):
    name: Annotated[str, Meta(min_length=1, max_length=150)] | None = None
    locationType: Literal["VIRTUAL", "PHYSICAL"] = "PHYSICAL"
    revision: Revision | None = None


class LocationRequest(Struct):
    storesLocation: LocationIn


class LocationQueryRequest(Struct):
    query: QueryIn | None = None


class CreationDataIn(Struct):
    quantity: Annotated[int, Meta(ge=0, le=99_999)]


class CreateByVariantFilterRequest(Struct):
    locationId: Annotated[str, Meta(pattern=GUID_PATTERN)]
    inventoryCreationData: CreationDataIn
    filter: dict[str, Any] | None = None
    search: dict[str, Any] | None = None


# ---- administration: API keys ------------------------------------------------------------


class KeyCreateRequest(Struct):
    storeId: Annotated[str, Meta(min_length=1, max_length=64)]
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[Annotated[str, Meta(max_length=100)]], Meta(min_length=1, max_length=50)]
    ratePerSecond: Annotated[int, Meta(ge=1, le=1_000_000)] | None = 1000


class KeyStoreRequest(Struct):
    storeId: Annotated[str, Meta(min_length=1, max_length=64)]


class KeyOut(Struct, omit_defaults=True):
    id: str
    storeId: str
    name: str
    scopes: list[str]
    createdDate: str
    ratePerSecond: int | None = None
    revokedDate: str | UnsetType = UNSET


class KeyCreatedResponse(Struct):
    key: KeyOut
    secret: str


class KeysResponse(Struct):
    keys: list[KeyOut]
