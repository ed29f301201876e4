"""The one place that knows HTTP statuses: domain errors to the contract's error bodies."""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec

from stockroom.domain.errors import (
    Conflict,
    FailedPrecondition,
    FieldViolation,
    NotFound,
    StockroomError,
    Unavailable,
    ValidationFailed,
)

__all__ = [
    "RequestTooLarge",
    "error_body",
    "retry_after_of",
    "status_of",
    "violation_from_decode_error",
]

# Imported late: auth's errors are StockroomErrors too, and auth needs nothing from here.
from .auth import PermissionDenied, RateLimited, Unauthenticated


class RequestTooLarge(StockroomError):
    code = "PAYLOAD_TOO_LARGE"


_STATUS: tuple[tuple[type[StockroomError], int], ...] = (
    (ValidationFailed, 400),
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (RequestTooLarge, 413),
    (FailedPrecondition, 428),
    (RateLimited, 429),
    (Unavailable, 503),
)


def status_of(error: StockroomError) -> int:
    """The HTTP status of an anticipated error."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def retry_after_of(error: StockroomError) -> str | None:
    """The ``Retry-After`` header of an error the same request may get past later."""
    if isinstance(error, RateLimited | Unavailable):
        return str(max(1, math.ceil(error.retry_after)))
    return None


def error_body(error: StockroomError) -> dict[str, Any]:
    """The contract's error body: field violations for 400s, an application error otherwise."""
    if isinstance(error, ValidationFailed):
        return {
            "message": error.description,
            "details": {
                "validationError": {"fieldViolations": [_violation(v) for v in error.violations]}
            },
        }
    return {
        "message": error.description,
        "details": {
            "applicationError": {
                "code": error.code,
                "description": error.description,
                "data": error.data,
            }
        },
    }


def _violation(violation: FieldViolation) -> dict[str, Any]:
    body: dict[str, Any] = {
        "field": violation.field,
        "description": violation.description,
        "violatedRule": violation.violated_rule,
    }
    if violation.rule_name:
        body["ruleName"] = violation.rule_name
    if violation.data:
        body["data"] = violation.data
    return body


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_BOUND = re.compile(r"^Expected `(?P<type>\w+)`(?: of length)? (?P<op>[<>]=?) (?P<n>-?\d+)")


def violation_from_decode_error(error: msgspec.MsgspecError) -> ValidationFailed:
    """Turn msgspec's first complaint about a body into a field violation."""
    match = _AT.match(str(error))
    assert match is not None  # the pattern matches any string
    message, path = match["message"], (match["path"] or "").lstrip(".")
    if not isinstance(error, msgspec.ValidationError):  # a ValidationError is a DecodeError too
        return ValidationFailed.of("", f"the body is not valid JSON: {message}", "FORMAT")
    if missing := _MISSING.match(message):
        field_path = f"{path}.{missing['name']}" if path else missing["name"]
        return ValidationFailed.of(field_path, f"{missing['name']} is required", "REQUIRED_FIELD")
    rule, data = "OTHER", dict[str, Any]()
    if bound := _BOUND.match(message):
        low = bound["op"].startswith(">")
        sized = "of length" in message
        kind = "SIZE" if bound["type"] in {"array", "object"} else "LENGTH"
        rule = ("MIN" if low else "MAX") + (f"_{kind}" if sized else "")
        data = {"threshold": int(bound["n"])}
    elif "matching regex" in message:
        rule = "FORMAT"
    return ValidationFailed(FieldViolation(path, message, rule, data=data))
