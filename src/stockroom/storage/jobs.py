"""Stored background jobs: the job rows, the items each will touch, and leases.

A job's items are fixed when it is submitted (``snapshot_items``). A runner takes a job by
lease (``claim_job``), works through its pending items in batches, and records each item's
outcome in the same transaction as the item's change, so a crash leaves every item either
done and recorded or untouched and pending, never changed twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, insert, literal, select, update

from stockroom.domain.jobs import Job, JobKind, JobStatus

from .schema import inventory_items, job_items, jobs, variants

__all__ = ["SqlJobs", "claim_job"]

PENDING, SUCCEEDED, FAILED = "PENDING", "SUCCEEDED", "FAILED"


class SqlJobs:
    """One store's jobs, inside the caller's transaction."""

    def __init__(self, conn: Connection, store_id: str) -> None:
        self._conn = conn
        self._store_id = store_id

    def insert(self, job: Job) -> None:
        self._conn.execute(
            insert(jobs).values(
                store_id=self._store_id,
                id=job.id,
                kind=job.kind.value,
                status=job.status.value,
                request=job.request,
                items_to_process=job.items_to_process,
                items_succeeded=job.items_succeeded,
                items_failed=job.items_failed,
                created_ms=job.created_ms,
                updated_ms=job.updated_ms,
            )
        )

    def snapshot_items(self, job_id: str, condition: ColumnElement[bool]) -> int:
        """Record every item meeting ``condition`` as pending for the job; return how many."""
        return self._snapshot(job_id, inventory_items, condition)

    def snapshot_variants(self, job_id: str, condition: ColumnElement[bool]) -> int:
        """Record every catalog variant meeting ``condition`` as pending for the job."""
        return self._snapshot(job_id, variants, condition)

    def _snapshot(self, job_id: str, source: Table, condition: ColumnElement[bool]) -> int:
        chosen = select(
            source.c.store_id,
            literal(job_id).label("job_id"),
            source.c.id,
            literal(PENDING).label("state"),
        ).where(source.c.store_id == self._store_id, condition)
        result = self._conn.execute(
            insert(job_items)
            .from_select(["store_id", "job_id", "item_id", "state"], chosen)
            # psycopg reports no row count for INSERT ... SELECT unless asked to keep it.
            .execution_options(preserve_rowcount=True)
        )
        count = int(result.rowcount)
        self._conn.execute(
            update(jobs)
            .where(jobs.c.store_id == self._store_id, jobs.c.id == job_id)
            .values(items_to_process=count)
        )
        return count

    def get(self, job_id: str) -> Job | None:
        row = (
            self._conn.execute(
                select(jobs).where(jobs.c.store_id == self._store_id, jobs.c.id == job_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return Job(
            id=row["id"],
            kind=JobKind(row["kind"]),
            status=JobStatus(row["status"]),
            request=row["request"],
            items_to_process=row["items_to_process"],
            items_succeeded=row["items_succeeded"],
            items_failed=row["items_failed"],
            created_ms=row["created_ms"],
            updated_ms=row["updated_ms"],
        )

    def lease_owner(self, job_id: str) -> str | None:
        owner = self._conn.execute(
            select(jobs.c.lease_owner).where(jobs.c.store_id == self._store_id, jobs.c.id == job_id)
        ).scalar_one_or_none()
        return None if owner is None else str(owner)

    def pending(self, job_id: str, limit: int) -> list[str]:
        rows = self._conn.execute(
            select(job_items.c.item_id)
            .where(
                job_items.c.store_id == self._store_id,
                job_items.c.job_id == job_id,
                job_items.c.state == PENDING,
            )
            .order_by(job_items.c.item_id)
            .limit(limit)
        )
        return [str(item_id) for (item_id,) in rows]

    def record(self, job_id: str, item_id: str, error: dict[str, Any] | None) -> None:
        """Mark one item done: succeeded when ``error`` is ``None``."""
        self._conn.execute(
            update(job_items)
            .where(
                job_items.c.store_id == self._store_id,
                job_items.c.job_id == job_id,
                job_items.c.item_id == item_id,
            )
            .values(state=SUCCEEDED if error is None else FAILED, error=error)
        )

    def advance(
        self,
        job_id: str,
        *,
        succeeded: int,
        failed: int,
        status: JobStatus,
        now_ms: int,
        lease_until_ms: int | None,
    ) -> None:
        """Add to the counters and move the job on; ``lease_until_ms`` renews or drops the lease."""
        self._conn.execute(
            update(jobs)
            .where(jobs.c.store_id == self._store_id, jobs.c.id == job_id)
            .values(
                items_succeeded=jobs.c.items_succeeded + succeeded,
                items_failed=jobs.c.items_failed + failed,
                status=status.value,
                updated_ms=now_ms,
                lease_until_ms=lease_until_ms,
            )
        )

    def list_items(
        self, job_id: str, *, after: str | None, limit: int
    ) -> list[tuple[str, bool, dict[str, Any] | None]]:
        """Processed items in id order after ``after``: (item id, succeeded, error)."""
        query = select(job_items.c.item_id, job_items.c.state, job_items.c.error).where(
            job_items.c.store_id == self._store_id,
            job_items.c.job_id == job_id,
            job_items.c.state != PENDING,
        )
        if after is not None:
            query = query.where(job_items.c.item_id > after)
        rows = self._conn.execute(query.order_by(job_items.c.item_id).limit(limit))
        return [(str(item_id), state == SUCCEEDED, error) for item_id, state, error in rows]


def claim_job(
    conn: Connection, *, owner: str, now_ms: int, lease_ms: int
) -> tuple[str, str] | None:
    """Take the oldest unfinished job whose lease is free or expired; (store id, job id).

    ``SKIP LOCKED`` lets many runners claim side by side on PostgreSQL; on SQLite the
    caller's write transaction already excludes every other writer.
    """
    row = conn.execute(
        select(jobs.c.store_id, jobs.c.id)
        .where(
            jobs.c.status.in_([JobStatus.INITIALIZED.value, JobStatus.PROCESSING.value]),
            (jobs.c.lease_until_ms.is_(None)) | (jobs.c.lease_until_ms < now_ms),
        )
        .order_by(jobs.c.created_ms)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    store_id, job_id = str(row[0]), str(row[1])
    conn.execute(
        update(jobs)
        .where(jobs.c.store_id == store_id, jobs.c.id == job_id)
        .values(
            status=JobStatus.PROCESSING.value,
            lease_owner=owner,
            lease_until_ms=now_ms + lease_ms,
            updated_ms=now_ms,
        )
    )
    return store_id, job_id
