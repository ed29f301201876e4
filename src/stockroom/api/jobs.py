"""By-filter bulk actions and the Async Jobs API that reports on them."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET as WIRE_UNSET

from stockroom.domain.access import Access
from stockroom.domain.errors import ValidationFailed
from stockroom.domain.jobs import Job, JobKind
from stockroom.query.cursor import decode_cursor, encode_cursor
from stockroom.service import jobs
from stockroom.service.queries import CURSOR_KEY

from . import wire
from .convert import iso_ms, patch_from_wire
from .masks import masked
from .routing import Call, Operation

__all__ = ["JOB_OPERATIONS", "OPERATIONS"]

_DEFAULT_ITEMS_PAGE = 100
_MAX_ITEMS_PAGE = 1000


def _submit(
    call: Call, kind: JobKind, raw_filter: Any, raw_search: Any, action: dict[str, Any]
) -> wire.JobIdResponse:
    job = jobs.submit_job(
        call.inventory,
        store_id=call.store_id,
        kind=kind,
        raw_filter=raw_filter,
        raw_search=raw_search,
        action=action,
    )
    call.wake_jobs()
    return wire.JobIdResponse(jobId=job.id)


def update_by_filter(call: Call) -> wire.JobIdResponse:
    body: wire.UpdateByFilterRequest = call.body
    sent = masked(body.inventoryItem, body.fieldMask)
    patch = patch_from_wire(sent)
    action = jobs.patch_to_json(patch)
    return _submit(call, JobKind.UPDATE_BY_FILTER, body.filter, body.search, action)


def delete_by_filter(call: Call) -> wire.JobIdResponse:
    body: wire.DeleteByFilterRequest = call.body
    return _submit(call, JobKind.DELETE_BY_FILTER, body.filter, body.search, {})


def _amount(adjustment: wire.AdjustmentIn, where: str) -> int:
    if (adjustment.incrementBy is None) == (adjustment.decrementBy is None):
        raise ValidationFailed.of(where, "set exactly one of incrementBy and decrementBy", "ONE_OF")
    return (
        adjustment.incrementBy
        if adjustment.incrementBy is not None
        else -(adjustment.decrementBy or 0)
    )


def adjust_by_filter(call: Call) -> wire.JobIdResponse:
    body: wire.AdjustByFilterRequest = call.body
    by = _amount(body.adjustment, "adjustment")
    action = {"by": by, "trackUntracked": body.trackQuantity}
    return _submit(call, JobKind.ADJUST_BY_FILTER, body.filter, body.search, action)


def set_or_adjust_by_filter(call: Call) -> wire.JobIdResponse:
    body: wire.SetOrAdjustByFilterRequest = call.body
    by = _amount(body.adjustedInventoryAction, "adjustedInventoryAction")
    action = {"by": by, "trackUntracked": True}
    return _submit(call, JobKind.SET_OR_ADJUST_BY_FILTER, body.filter, body.search, action)


def _job_to_wire(job: Job) -> wire.JobOut:
    counters = wire.CountersOut(
        itemsToProcess=job.items_to_process,
        itemsSucceeded=job.items_succeeded,
        itemsFailed=job.items_failed,
    )
    return wire.JobOut(
        id=job.id,
        status=job.status.value,
        counters=counters,
        counts=counters,
        metadata={"kind": job.kind.value},
        createdDate=iso_ms(job.created_ms),
        updatedDate=iso_ms(job.updated_ms),
    )


def get_job(call: Call) -> wire.JobResponse:
    job = jobs.get_job(call.inventory, store_id=call.store_id, job_id=call.path["jobId"])
    return wire.JobResponse(job=_job_to_wire(job))


def list_job_items(call: Call) -> wire.ListJobItemsResponse:
    body: wire.ListJobItemsRequest = call.body
    paging = body.paging or wire.CursorPagingIn()
    job_id = call.path["jobId"]
    key = call.inventory.storage.secret(CURSOR_KEY)
    limit = paging.limit or _DEFAULT_ITEMS_PAGE
    after = None
    if paging.cursor:
        payload = decode_cursor(paging.cursor, key=key, where="paging.cursor")
        if payload.get("job") != job_id or payload.get("s") != call.store_id:
            raise ValidationFailed.of(
                "paging.cursor", "the cursor belongs to another job", "FORMAT"
            )
        after, limit = str(payload.get("a")), int(payload.get("l") or limit)
    if not 1 <= limit <= _MAX_ITEMS_PAGE:
        raise ValidationFailed.of("paging.limit", f"limit is between 1 and {_MAX_ITEMS_PAGE}")
    found = jobs.list_job_items(
        call.inventory, store_id=call.store_id, job_id=job_id, after=after, limit=limit + 1
    )
    more = len(found) > limit
    found = found[:limit]
    next_cursor = (
        encode_cursor({"job": job_id, "s": call.store_id, "a": found[-1][0], "l": limit}, key=key)
        if more
        else None
    )
    return wire.ListJobItemsResponse(
        items=[
            wire.JobItemOut(
                id=item_id,
                success=succeeded,
                error=wire.ApplicationErrorOut(**error) if error else WIRE_UNSET,
            )
            for item_id, succeeded, error in found
        ],
        pagingMetadata=wire.SearchPagingOut(
            count=len(found),
            cursors=wire.CursorsOut(next=next_cursor or WIRE_UNSET),
            hasNext=more,
        ),
    )


_BULK = "/bulk/inventory-items"

OPERATIONS: tuple[Operation, ...] = (
    Operation("BulkUpdateInventoryItemsByFilter", "POST", f"{_BULK}/update-by-filter",
              update_by_filter, wire.UpdateByFilterRequest, wire.JobIdResponse,
              Access.INVENTORY_WRITE),
    Operation("BulkDeleteInventoryItemsByFilter", "POST", f"{_BULK}/delete-by-filter",
              delete_by_filter, wire.DeleteByFilterRequest, wire.JobIdResponse,
              Access.INVENTORY_WRITE),
    Operation("BulkAdjustInventoryItemsByFilter", "POST", f"{_BULK}/adjust-by-filter",
              adjust_by_filter, wire.AdjustByFilterRequest, wire.JobIdResponse,
              Access.INVENTORY_WRITE),
    Operation("BulkSetOrAdjustInventoryItemsByFilter", "POST",
              f"{_BULK}/set-or-adjust-by-filter", set_or_adjust_by_filter,
              wire.SetOrAdjustByFilterRequest, wire.JobIdResponse, Access.INVENTORY_WRITE),
)  # fmt: skip
"""Served under each inventory prefix."""

JOB_OPERATIONS: tuple[Operation, ...] = (
    Operation("GetAsyncJob", "GET", "/{jobId}", get_job, None, wire.JobResponse, Access.JOBS_READ),
    Operation("ListAsyncJobItems", "GET", "/{jobId}/items", list_job_items,
              wire.ListJobItemsRequest, wire.ListJobItemsResponse, Access.JOBS_READ),
)  # fmt: skip
"""Served under the Async Jobs prefixes."""
