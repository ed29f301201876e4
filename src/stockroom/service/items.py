"""Use cases that create, read, update and delete inventory items.

Each function is one transaction: it commits everything it did or, when it raises,
nothing at all. Bulk functions report per-element failures in their results instead of
raising, and still commit the elements that succeeded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from stockroom.domain.catalog import Product, Variant, item_summary, preorder_rules
from stockroom.domain.changes import (
    ItemDraft,
    ItemPatch,
    PreorderPatch,
    ProductRules,
    apply_patch,
    new_item,
)
from stockroom.domain.errors import (
    InvalidTargetQuantity,
    ItemAlreadyExists,
    NotFound,
    RevisionMismatch,
    StockroomError,
    ValidationFailed,
)
from stockroom.domain.item import InventoryItem, Reason
from stockroom.storage.base import Transaction

from .context import Inventory, ItemResult

__all__ = [
    "ItemUpdate",
    "UpsertEntry",
    "bulk_create_items",
    "bulk_delete_items",
    "bulk_update_items",
    "create_item",
    "delete_item",
    "get_item",
    "update_item",
    "upsert_items",
]


@dataclass(frozen=True, slots=True)
class ItemUpdate:
    """One element of an update: which item, at which revision, and what changes."""

    item_id: str
    patch: ItemPatch
    expected_revision: int


def create_item(inventory: Inventory, *, store_id: str, draft: ItemDraft) -> InventoryItem:
    """Create one item, at the store's default location unless the draft names one.

    Raises ``ValidationFailed``, ``NotFound`` (unknown location), ``ItemAlreadyExists``
    and ``PreorderValidation``.
    """
    with inventory.storage.writing(store_id) as tx:
        return create_within(inventory, tx, draft)


def bulk_create_items(
    inventory: Inventory, *, store_id: str, drafts: Sequence[ItemDraft]
) -> list[ItemResult]:
    """Create many items; each element succeeds or fails on its own, as it would have if
    created alone, in request order (``create_many``)."""
    with inventory.storage.writing(store_id) as tx:
        return create_many(inventory, tx, drafts)


def get_item(inventory: Inventory, *, store_id: str, item_id: str) -> InventoryItem:
    """One item by id. Raises ``NotFound``."""
    with inventory.storage.reading(store_id) as tx:
        item = tx.get_item(item_id)
    if item is None:
        raise _item_not_found(item_id)
    return item


def update_item(
    inventory: Inventory,
    *,
    store_id: str,
    update: ItemUpdate,
    reason: Reason | None = None,
) -> InventoryItem:
    """Apply a partial update guarded by the item's revision.

    Raises ``NotFound``, ``RevisionMismatch``, ``ValidationFailed``,
    ``QuantityDecreasedBelowZero`` and ``PreorderValidation``.
    """
    with inventory.storage.writing(store_id) as tx:
        return update_within(inventory, tx, update, reason=reason)


def bulk_update_items(
    inventory: Inventory,
    *,
    store_id: str,
    updates: Sequence[ItemUpdate],
    reason: Reason | None = None,
) -> list[ItemResult]:
    """Apply many updates; each element succeeds or fails on its own."""
    results: list[ItemResult] = []
    with inventory.storage.writing(store_id) as tx:
        tx.lock_items([u.item_id for u in updates])
        lookup = CatalogLookup(tx)
        for update in updates:
            try:
                item = update_within(inventory, tx, update, lookup, reason=reason)
            except StockroomError as error:
                results.append(ItemResult(update.item_id, error=error))
            else:
                results.append(ItemResult(item.id, item))
    return results


def delete_item(inventory: Inventory, *, store_id: str, item_id: str) -> InventoryItem:
    """Delete one item and return its last state. Raises ``NotFound``."""
    with inventory.storage.writing(store_id) as tx:
        deleted = tx.delete_item(item_id)
    if deleted is None:
        raise _item_not_found(item_id)
    return deleted


def bulk_delete_items(
    inventory: Inventory, *, store_id: str, item_ids: Sequence[str]
) -> list[ItemResult]:
    """Delete many items; an unknown id is a per-element ``NOT_FOUND``."""
    results: list[ItemResult] = []
    with inventory.storage.writing(store_id) as tx:
        tx.lock_items(item_ids)  # in key order, as stock changes do: no deadlock between them
        for item_id in item_ids:
            deleted = tx.delete_item(item_id)
            if deleted is None:
                results.append(ItemResult(item_id, error=_item_not_found(item_id)))
            else:
                results.append(ItemResult(item_id, deleted))
    return results


class CatalogLookup:
    """Products met during one use case, looked up once each."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._by_variant: dict[str, tuple[Product, Variant] | None] = {}
        self._by_id: dict[str, Product | None] = {}
        self._in_use: bool | None = None

    def load_variants(self, variant_ids: Iterable[str]) -> None:
        """Look up, in one go, every one of these variants not looked up already."""
        wanted = {v for v in variant_ids if v not in self._by_variant}
        if wanted:
            found = self._tx.catalog.find_variants(wanted)
            self._by_variant.update({v: found.get(v) for v in wanted})

    def variant(self, variant_id: str) -> tuple[Product, Variant] | None:
        if variant_id not in self._by_variant:
            self._by_variant[variant_id] = self._tx.catalog.find_variant(variant_id)
        return self._by_variant[variant_id]

    def product(self, product_id: str) -> Product | None:
        if product_id not in self._by_id:
            self._by_id[product_id] = self._tx.catalog.get_product(product_id)
        return self._by_id[product_id]

    def in_use(self) -> bool:
        """Whether the store keeps a catalog here; then items must name its variants (Q17)."""
        if self._in_use is None:
            self._in_use = self._tx.catalog.uses_catalog()
        return self._in_use


def create_within(
    inventory: Inventory, tx: Transaction, draft: ItemDraft, lookup: CatalogLookup | None = None
) -> InventoryItem:
    """Create one item inside ``tx``. Raises what ``create_item`` raises."""
    [result] = create_many(inventory, tx, [draft], lookup)
    if result.error is not None:
        raise result.error
    assert result.item is not None  # a result holds an item or an error
    return result.item


def create_many(
    inventory: Inventory,
    tx: Transaction,
    drafts: Sequence[ItemDraft],
    lookup: CatalogLookup | None = None,
) -> list[ItemResult]:
    """Create items inside ``tx``: per draft, in order, the new item or the error creating
    it alone after the drafts before it would raise (of two drafts naming one variant and
    location, the first wins). The catalog and the locations are read for every draft at
    once and the items go in with one insert, so a thousand drafts take a few statements.
    """
    lookup = lookup or CatalogLookup(tx)
    lookup.load_variants(draft.variant_id for draft in drafts)
    places = _Places.of(tx, drafts)
    outcomes: list[InventoryItem | StockroomError] = []
    for draft in drafts:
        try:
            outcomes.append(_new_item(inventory, lookup, places, draft))
        except StockroomError as error:
            outcomes.append(error)
    inserted = tx.insert_items(_first_of_each_place(outcomes))
    return [_created(outcome, inserted) for outcome in outcomes]


@dataclass(frozen=True, slots=True)
class _Places:
    """The locations a batch of drafts names: the store's default, and which named ones
    exist (and are not archived)."""

    default: str | None
    live: frozenset[str]

    @classmethod
    def of(cls, tx: Transaction, drafts: Sequence[ItemDraft]) -> _Places:
        needs_default = any(not draft.location_id for draft in drafts)
        named = [draft.location_id for draft in drafts if draft.location_id is not None]
        return cls(
            default=tx.default_location_id() if needs_default else None,
            live=frozenset(tx.live_locations(named)),
        )

    def of_draft(self, draft: ItemDraft) -> str:
        location_id = draft.location_id or self.default
        assert location_id is not None  # read whenever a draft names no location
        return location_id


def _new_item(
    inventory: Inventory, lookup: CatalogLookup, places: _Places, draft: ItemDraft
) -> InventoryItem:
    """The item ``draft`` makes, checked against the catalog and the locations.

    Raises ``NotFound`` (a variant the catalog lacks, a variant of another product, an
    unknown location), ``ValidationFailed`` and ``PreorderValidation``.
    """
    found = lookup.variant(draft.variant_id)
    if found is None and lookup.in_use():
        raise NotFound(
            f"variant {draft.variant_id} is not in the catalog",
            productId=draft.product_id,
            variantId=draft.variant_id,
        )
    if found is not None and found[0].id != draft.product_id:
        raise NotFound(
            f"variant {draft.variant_id} is not a variant of product {draft.product_id}",
            productId=draft.product_id,
            variantId=draft.variant_id,
        )
    item = new_item(
        draft,
        item_id=inventory.new_id(),
        location_id=places.of_draft(draft),
        now_ms=inventory.clock(),
        product=preorder_rules(found[0] if found else None),
    )
    if found is not None:
        item = replace(item, product=item_summary(*found))
    if draft.location_id is not None and draft.location_id not in places.live:
        raise NotFound(f"location {draft.location_id} does not exist", locationId=draft.location_id)
    return item


def _first_of_each_place(outcomes: Sequence[InventoryItem | StockroomError]) -> list[InventoryItem]:
    """The new items to insert: the first of each (variant, location); the later ones are
    taken by it already."""
    first: dict[tuple[str, str], InventoryItem] = {}
    for outcome in outcomes:
        if isinstance(outcome, InventoryItem):
            first.setdefault((outcome.variant_id, outcome.location_id), outcome)
    return list(first.values())


def _created(outcome: InventoryItem | StockroomError, inserted: set[str]) -> ItemResult:
    if isinstance(outcome, StockroomError):
        return ItemResult(None, error=outcome)
    if outcome.id not in inserted:
        error = ItemAlreadyExists(
            f"variant {outcome.variant_id} already has an item at location {outcome.location_id}",
            variantId=outcome.variant_id,
            locationId=outcome.location_id,
        )
        return ItemResult(None, error=error)
    return ItemResult(outcome.id, outcome)


def update_within(
    inventory: Inventory,
    tx: Transaction,
    update: ItemUpdate,
    lookup: CatalogLookup | None = None,
    *,
    reason: Reason | None = None,
) -> InventoryItem:
    """Update one item inside ``tx``; ``reason`` goes into its ``updated_with_reason`` event."""
    current = tx.get_item(update.item_id, lock=True)
    if current is None:
        raise _item_not_found(update.item_id)
    rules = ProductRules()
    enabling = isinstance(update.patch.preorder, PreorderPatch) and update.patch.preorder.enabled
    if enabling and not current.preorder.enabled:
        rules = preorder_rules((lookup or CatalogLookup(tx)).product(current.product_id))
    changed = apply_patch(
        current,
        update.patch,
        expected_revision=update.expected_revision,
        now_ms=inventory.clock(),
        product=rules,
    )
    if not tx.save_item(changed, expected_revision=current.revision, reason=reason):
        # Unreachable while the row is locked; kept so a lost race can never pass silently.
        raise RevisionMismatch(
            "the item changed while it was being updated", inventoryItemId=current.id
        )
    return changed


def _item_not_found(item_id: str) -> NotFound:
    return NotFound(f"inventory item {item_id} does not exist", inventoryItemId=item_id)


@dataclass(frozen=True, slots=True)
class UpsertEntry:
    """One element of an upsert: the item to create, or the fields to change if it exists."""

    draft: ItemDraft
    patch: ItemPatch


def upsert_items(
    inventory: Inventory, *, store_id: str, entries: Sequence[UpsertEntry]
) -> list[ItemResult]:
    """Create or update items keyed by (product, variant, location).

    Raises ``ValidationFailed`` (``DUPLICATE_BULK_UPSERT_KEY``) when two elements share a key;
    every other failure is reported per element.
    """
    with inventory.storage.writing(store_id) as tx:
        default_location = tx.default_location_id()
        keys = [
            (e.draft.product_id, e.draft.variant_id, e.draft.location_id or default_location)
            for e in entries
        ]
        _refuse_duplicate_keys(keys)
        # Lock the items that exist in key order, as stock changes do, then create the rest in
        # (variant, location) order: upserts and stock changes naming the same items in other
        # orders queue behind each other instead of deadlocking. Results keep request order.
        if len(entries) > 1:
            found = (tx.find_item(variant_id, location_id) for _, variant_id, location_id in keys)
            tx.lock_items([item.id for item in found if item is not None])
        results: dict[int, ItemResult] = {}
        for index in sorted(range(len(entries)), key=lambda i: (*keys[i][1:], i)):
            product_id, variant_id, location_id = keys[index]
            try:
                item = _upsert(
                    inventory,
                    tx,
                    entries[index],
                    product_id=product_id,
                    variant_id=variant_id,
                    location_id=location_id,
                )
            except StockroomError as error:
                results[index] = ItemResult(None, error=error)
            else:
                results[index] = ItemResult(item.id, item)
        return [results[index] for index in range(len(entries))]


def _upsert(
    inventory: Inventory,
    tx: Transaction,
    entry: UpsertEntry,
    *,
    product_id: str,
    variant_id: str,
    location_id: str,
) -> InventoryItem:
    target = entry.patch.quantity
    if isinstance(target, int) and target < 0:
        raise InvalidTargetQuantity(
            "an upsert may not set a negative quantity", variantId=variant_id, quantity=target
        )
    existing = tx.find_item(variant_id, location_id, lock=True)
    if existing is None:
        try:
            return create_within(inventory, tx, entry.draft)
        except ItemAlreadyExists:
            # A concurrent upsert created it since we looked (PostgreSQL's insert waited for
            # that one to commit): update it instead, as if it had been there all along.
            existing = tx.find_item(variant_id, location_id, lock=True)
            if existing is None:
                raise
    if existing.product_id != product_id:
        raise ItemAlreadyExists(
            f"variant {variant_id} at location {location_id} belongs to product "
            f"{existing.product_id}",
            variantId=variant_id,
            locationId=location_id,
            inventoryItemId=existing.id,
        )
    return update_within(inventory, tx, ItemUpdate(existing.id, entry.patch, existing.revision))


def _refuse_duplicate_keys(keys: Sequence[tuple[str, str, str]]) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    for index, key in enumerate(keys):
        if key in seen:
            raise ValidationFailed.of(
                f"inventoryItems[{index}]",
                f"element {index} repeats the product, variant and location of element {seen[key]}",
                "OTHER",
                "DUPLICATE_BULK_UPSERT_KEY",
                originalIndex=index,
            )
        seen[key] = index
