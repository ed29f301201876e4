"""Background jobs: a by-filter bulk action and the state the Async Jobs API reports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Job", "JobKind", "JobStatus"]


class JobKind(StrEnum):
    UPDATE_BY_FILTER = "UPDATE_BY_FILTER"
    DELETE_BY_FILTER = "DELETE_BY_FILTER"
    ADJUST_BY_FILTER = "ADJUST_BY_FILTER"
    SET_OR_ADJUST_BY_FILTER = "SET_OR_ADJUST_BY_FILTER"
    CREATE_BY_VARIANT_FILTER = "CREATE_BY_VARIANT_FILTER"


class JobStatus(StrEnum):
    INITIALIZED = "INITIALIZED"
    PROCESSING = "PROCESSING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"

    @property
    def done(self) -> bool:
        return self in (JobStatus.FINISHED, JobStatus.FAILED)


@dataclass(frozen=True, slots=True)
class Job:
    """A job as stored: what it does (``request``) and how far it got."""

    id: str
    kind: JobKind
    status: JobStatus
    request: dict[str, Any]
    items_to_process: int
    items_succeeded: int
    items_failed: int
    created_ms: int
    updated_ms: int
