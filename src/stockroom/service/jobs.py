"""By-filter bulk actions (spec 3.6, Appendix A) as background jobs, and their runner.

Submitting validates the request and, in one transaction, records the job and the exact set
of items it will touch. A ``JobRunner`` thread (one per server process) leases jobs and
works through their items in batches; each batch changes its items and records their
outcomes in one transaction. A runner that dies loses its lease after ``lease_ms`` and
another (or the same process, restarted) resumes from the first unrecorded item.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, replace
from typing import Any

from stockroom.domain import stock
from stockroom.domain.changes import ItemDraft, ItemPatch, PreorderPatch, apply_patch
from stockroom.domain.errors import NotFound, StockroomError, ValidationFailed
from stockroom.domain.item import UNSET, InventoryItem
from stockroom.domain.jobs import Job, JobKind, JobStatus
from stockroom.query.compile import where
from stockroom.query.fields import VARIANTS
from stockroom.query.filter import parse_filter
from stockroom.query.search import parse_search
from stockroom.storage.base import Transaction

from .context import Inventory
from .items import create_within
from .queries import matching

__all__ = ["JobRunner", "get_job", "list_job_items", "submit_job", "submit_variant_job"]

log = logging.getLogger("stockroom.jobs")

BATCH = 200
LEASE_MS = 30_000


def submit_job(
    inventory: Inventory,
    *,
    store_id: str,
    kind: JobKind,
    raw_filter: Any,
    raw_search: Any,
    action: dict[str, Any],
) -> Job:
    """Record a by-filter job over the items matching now; return it.

    ``action`` is the kind's parameters in storable form (``patch_to_json`` for updates,
    ``{"by": n, "trackUntracked": bool}`` for adjustments). Raises ``ValidationFailed``.
    """
    if raw_filter is None:
        raise ValidationFailed.of("filter", "filter is required", "REQUIRED_FIELD")
    node = parse_filter(raw_filter, where="filter")
    search = parse_search(raw_search, where="search")
    now = inventory.clock()
    job = Job(
        id=str(uuid.uuid4()),
        kind=kind,
        status=JobStatus.INITIALIZED,
        request={"filter": raw_filter, "search": raw_search, "action": action},
        items_to_process=0,
        items_succeeded=0,
        items_failed=0,
        created_ms=now,
        updated_ms=now,
    )
    with inventory.storage.writing(store_id) as tx:
        tx.jobs.insert(job)
        count = tx.jobs.snapshot_items(job.id, matching(node, search, tx.dialect))
    return replace(job, items_to_process=count)


def submit_variant_job(
    inventory: Inventory,
    *,
    store_id: str,
    raw_filter: Any,
    location_id: str,
    quantity: int,
) -> Job:
    """Record a job creating items at a location for the catalog variants matching now
    (BulkCreateInventoryItemsByVariantFilter). Raises ``ValidationFailed`` and ``NotFound``."""
    node = parse_filter(raw_filter, where="filter", spec=VARIANTS)
    now = inventory.clock()
    job = Job(
        id=str(uuid.uuid4()),
        kind=JobKind.CREATE_BY_VARIANT_FILTER,
        status=JobStatus.INITIALIZED,
        request={"filter": raw_filter, "action": {"locationId": location_id, "quantity": quantity}},
        items_to_process=0,
        items_succeeded=0,
        items_failed=0,
        created_ms=now,
        updated_ms=now,
    )
    with inventory.storage.writing(store_id) as tx:
        if not tx.location_exists(location_id):
            raise NotFound(f"location {location_id} does not exist", locationId=location_id)
        tx.jobs.insert(job)
        count = tx.jobs.snapshot_variants(job.id, where(node, tx.dialect))
    return replace(job, items_to_process=count)


def get_job(inventory: Inventory, *, store_id: str, job_id: str) -> Job:
    """A job of the store. Raises ``NotFound``."""
    with inventory.storage.reading(store_id) as tx:
        job = tx.jobs.get(job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist", jobId=job_id)
    return job


def list_job_items(
    inventory: Inventory, *, store_id: str, job_id: str, after: str | None, limit: int
) -> list[tuple[str, bool, dict[str, Any] | None]]:
    """Processed items of a job in id order: (item id, succeeded, error)."""
    with inventory.storage.reading(store_id) as tx:
        if tx.jobs.get(job_id) is None:
            raise NotFound(f"job {job_id} does not exist", jobId=job_id)
        return tx.jobs.list_items(job_id, after=after, limit=limit)


# ---- storable actions --------------------------------------------------------------------


def patch_to_json(patch: ItemPatch) -> dict[str, Any]:
    """An update's fields in a form the job table can keep."""
    stored: dict[str, Any] = {}
    if patch.quantity is not UNSET:
        stored["quantity"] = patch.quantity
    if patch.in_stock is not UNSET:
        stored["inStock"] = patch.in_stock
    if patch.extended_fields is not UNSET:
        stored["extendedFields"] = dict(patch.extended_fields)
    if isinstance(patch.preorder, PreorderPatch):
        stored["preorderInfo"] = {
            name: value
            for name, value in (
                ("enabled", patch.preorder.enabled),
                ("message", patch.preorder.message),
                ("limit", patch.preorder.limit),
            )
            if value is not UNSET
        }
    return stored


def patch_from_json(stored: dict[str, Any]) -> ItemPatch:
    preorder = stored.get("preorderInfo")
    return ItemPatch(
        quantity=stored.get("quantity", UNSET),
        in_stock=stored.get("inStock", UNSET),
        extended_fields=stored.get("extendedFields", UNSET),
        preorder=(
            UNSET
            if preorder is None
            else PreorderPatch(
                enabled=preorder.get("enabled", UNSET),
                message=preorder.get("message", UNSET),
                limit=preorder.get("limit", UNSET),
            )
        ),
    )


# ---- the runner --------------------------------------------------------------------------


def _apply(inventory: Inventory, job: Job, tx: Transaction, item_id: str, now_ms: int) -> None:
    """Do the job's action to one item (a variant, for creations). Raises the item's
    ``StockroomError``."""
    action = job.request["action"]
    if job.kind is JobKind.CREATE_BY_VARIANT_FILTER:
        found = tx.catalog.find_variant(item_id)
        if found is None:
            raise NotFound(f"variant {item_id} no longer exists", variantId=item_id)
        draft = ItemDraft(
            product_id=found[0].id,
            variant_id=item_id,
            location_id=action["locationId"],
            quantity=action["quantity"],
        )
        create_within(inventory, tx, draft)
        return
    if job.kind is JobKind.DELETE_BY_FILTER:
        if tx.delete_item(item_id) is None:
            raise NotFound(f"inventory item {item_id} no longer exists", inventoryItemId=item_id)
        return
    current = tx.get_item(item_id, lock=True)
    if current is None:
        raise NotFound(f"inventory item {item_id} no longer exists", inventoryItemId=item_id)
    changed: InventoryItem
    if job.kind is JobKind.UPDATE_BY_FILTER:
        changed = apply_patch(
            current, patch_from_json(action), expected_revision=None, now_ms=now_ms
        )
    else:
        changed = stock.adjust(
            current, action["by"], track_untracked=action["trackUntracked"], now_ms=now_ms
        )
    if not tx.save_item(changed, expected_revision=current.revision):
        raise RuntimeError("a locked item changed under its lock")


@dataclass
class JobRunner:
    """Runs leased jobs on a background thread until stopped."""

    inventory: Inventory
    lease_ms: int = LEASE_MS
    batch: int = BATCH
    idle_seconds: float = 0.5
    owner: str = ""

    def __post_init__(self) -> None:
        self.owner = self.owner or f"runner-{uuid.uuid4()}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="stockroom-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("the job runner failed; retrying")
                worked = False
            if not worked:
                self._wake.wait(self.idle_seconds)
                self._wake.clear()

    def run_once(self) -> bool:
        """Claim one job and work it to the end (or until the lease is lost)."""
        claimed = self.inventory.storage.claim_job(owner=self.owner, lease_ms=self.lease_ms)
        if claimed is None:
            return False
        store_id, job_id = claimed
        try:
            while not self._stop.is_set() and self._run_batch(store_id, job_id):
                pass
        except Exception:
            log.exception("job %s failed", job_id)
            self._fail(store_id, job_id)
        return True

    def _run_batch(self, store_id: str, job_id: str) -> bool:
        """One batch in one transaction; ``False`` once the job is finished or not ours."""
        clock = self.inventory.clock
        with self.inventory.storage.writing(store_id) as tx:
            job = tx.jobs.get(job_id)
            if job is None or job.status.done or tx.jobs.lease_owner(job_id) != self.owner:
                return False
            pending = tx.jobs.pending(job_id, self.batch)
            succeeded = failed = 0
            for item_id in pending:
                try:
                    _apply(self.inventory, job, tx, item_id, clock())
                except StockroomError as error:
                    failed += 1
                    tx.jobs.record(job_id, item_id, _error_json(error))
                else:
                    succeeded += 1
                    tx.jobs.record(job_id, item_id, None)
            finished = len(pending) < self.batch
            now = clock()
            tx.jobs.advance(
                job_id,
                succeeded=succeeded,
                failed=failed,
                status=JobStatus.FINISHED if finished else JobStatus.PROCESSING,
                now_ms=now,
                lease_until_ms=None if finished else now + self.lease_ms,
            )
        return not finished

    def _fail(self, store_id: str, job_id: str) -> None:
        """Mark a job FAILED; its counters already hold every committed batch."""
        with self.inventory.storage.writing(store_id) as tx:
            tx.jobs.advance(
                job_id,
                succeeded=0,
                failed=0,
                status=JobStatus.FAILED,
                now_ms=self.inventory.clock(),
                lease_until_ms=None,
            )


def _error_json(error: StockroomError) -> dict[str, Any]:
    code = error.rule_code if isinstance(error, ValidationFailed) else error.code
    return {"code": code, "description": error.description, "data": error.data}
