"""Errors the inventory rules raise, each with the contract's stable code.

The tree, by the HTTP status the API layer gives each branch::

    StockroomError
    ├── ValidationFailed            400  details.validationError.fieldViolations
    ├── NotFound                    404  NOT_FOUND
    ├── Conflict                    409
    │   ├── ItemAlreadyExists            ITEM_ALREADY_EXISTS
    │   └── RevisionMismatch             REVISION_MISMATCH
    ├── FailedPrecondition          428
    │   ├── PreorderValidation           PRE_ORDER_VALIDATION
    │   ├── QuantityDecreasedBelowZero   REQUESTED_QUANTITY_MUST_BE_NON_NEGATIVE_DECREASING
    │   ├── QuantityNotTracked           INVENTORY_QUANTITY_NOT_TRACKED
    │   ├── InsufficientInventory        INSUFFICIENT_INVENTORY
    │   ├── MinQuantityLimitReached      MIN_QUANTITY_LIMIT_REACHED
    │   ├── MaxQuantityLimitReached      MAX_QUANTITY_LIMIT_REACHED
    │   ├── InvalidTargetQuantity        INVALID_TARGET_QUANTITY
    │   └── VariantNotStocked            NOT_FOUND (an increment or decrement by variant
    │                                     and location that names no item)
    └── Unavailable                 503  (with Retry-After)
        └── ServiceBusy                  SERVICE_BUSY (the database's write lock or
                                          connections stayed taken; nothing was written)

Every error carries a human description and a ``data`` mapping with the ids a client
needs to tell which element of its request failed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "Conflict",
    "FailedPrecondition",
    "FieldViolation",
    "InsufficientInventory",
    "InvalidTargetQuantity",
    "ItemAlreadyExists",
    "MaxQuantityLimitReached",
    "MinQuantityLimitReached",
    "NotFound",
    "PreorderValidation",
    "QuantityDecreasedBelowZero",
    "QuantityNotTracked",
    "RevisionMismatch",
    "ServiceBusy",
    "StockroomError",
    "Unavailable",
    "ValidationFailed",
    "VariantNotStocked",
]


class StockroomError(Exception):
    """Base of every anticipated error; ``code`` is stable and part of the contract."""

    code: ClassVar[str] = "UNKNOWN"

    def __init__(self, description: str, **data: Any) -> None:
        super().__init__(description)
        self.description = description
        self.data: dict[str, Any] = data

    def with_data(self, **data: Any) -> StockroomError:
        """Add identifying context (such as ``originalIndex``) and return the same error."""
        self.data.update(data)
        return self


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One broken input constraint, named by its dotted field path."""

    field: str
    description: str
    violated_rule: str = "OTHER"
    rule_name: str | None = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)


class ValidationFailed(StockroomError):
    """The input broke one or more constraints; nothing was changed."""

    code = "INVALID_ARGUMENT"

    def __init__(self, *violations: FieldViolation) -> None:
        first = violations[0]
        super().__init__(f"{first.field}: {first.description}")
        self.violations = violations

    @property
    def rule_code(self) -> str:
        """The most specific code for a per-item error in a bulk envelope."""
        return self.violations[0].rule_name or self.code

    def prefixed(self, prefix: str) -> ValidationFailed:
        """The same violations with field paths placed under ``prefix``."""
        return ValidationFailed(
            *(
                FieldViolation(
                    f"{prefix}.{v.field}" if v.field else prefix,
                    v.description,
                    v.violated_rule,
                    v.rule_name,
                    v.data,
                )
                for v in self.violations
            )
        )

    @classmethod
    def of(
        cls,
        field_path: str,
        description: str,
        violated_rule: str = "OTHER",
        rule_name: str | None = None,
        **data: Any,
    ) -> ValidationFailed:
        return cls(FieldViolation(field_path, description, violated_rule, rule_name, data))


class NotFound(StockroomError):
    code = "NOT_FOUND"


class Conflict(StockroomError):
    code = "CONFLICT"


class ItemAlreadyExists(Conflict):
    code = "ITEM_ALREADY_EXISTS"


class RevisionMismatch(Conflict):
    code = "REVISION_MISMATCH"


class FailedPrecondition(StockroomError):
    code = "FAILED_PRECONDITION"


class PreorderValidation(FailedPrecondition):
    code = "PRE_ORDER_VALIDATION"


class QuantityDecreasedBelowZero(FailedPrecondition):
    code = "REQUESTED_QUANTITY_MUST_BE_NON_NEGATIVE_DECREASING"


class QuantityNotTracked(FailedPrecondition):
    code = "INVENTORY_QUANTITY_NOT_TRACKED"


class InsufficientInventory(FailedPrecondition):
    code = "INSUFFICIENT_INVENTORY"


class MinQuantityLimitReached(FailedPrecondition):
    code = "MIN_QUANTITY_LIMIT_REACHED"


class MaxQuantityLimitReached(FailedPrecondition):
    code = "MAX_QUANTITY_LIMIT_REACHED"


class InvalidTargetQuantity(FailedPrecondition):
    code = "INVALID_TARGET_QUANTITY"


class VariantNotStocked(FailedPrecondition):
    """No item exists for a variant at a location named by a by-variant stock change."""

    code = "NOT_FOUND"


class Unavailable(StockroomError):
    """The service cannot take the request now; the same request may succeed later."""

    code = "UNAVAILABLE"
    retry_after: float = 1.0


class ServiceBusy(Unavailable):
    """Waiting for the database (its write lock, or a free connection) took too long; the
    transaction was rolled back, so nothing of the request was written."""

    code = "SERVICE_BUSY"

    def __init__(self, description: str, *, retry_after: float = 1.0) -> None:
        super().__init__(description, retryAfter=retry_after)
        self.retry_after = retry_after
