"""From an HTTP request to one operation and back.

Every operation is declared once (``Operation``) and served under each service prefix.
The endpoint reads the store from ``wix-site-id``, decodes the body (or, for GET, the
``.r`` parameter the SDK sends), runs the operation in a worker thread, and encodes the
answer. Anticipated errors become the contract's error bodies; anything else is logged
and answered 500 with an empty body, as the contract specifies for system errors.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import anyio.to_thread
import msgspec
from anyio import CapacityLimiter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockroom.domain.errors import StockroomError, ValidationFailed
from stockroom.service.context import Inventory

from .errors import RequestTooLarge, error_body, status_of, violation_from_decode_error
from .wire import GUID_PATTERN

__all__ = ["Call", "Operation", "Served", "json_response", "routes_for"]

log = logging.getLogger("stockroom.api")

MAX_BODY_BYTES = 4 * 1024 * 1024
SITE_HEADER = "wix-site-id"
_STORE_ID_MAX = 64
_GUID_RE = re.compile(GUID_PATTERN)


@dataclass(frozen=True, slots=True)
class Call:
    """One decoded request, ready for an operation."""

    inventory: Inventory
    store_id: str
    path: dict[str, str]
    body: Any
    wake_jobs: Callable[[], None] = lambda: None


@dataclass(frozen=True, slots=True)
class Operation:
    """One method of the contract: its name, HTTP shape and handler."""

    name: str
    method: Literal["GET", "POST", "PATCH", "DELETE"]
    path: str
    handle: Callable[[Call], Any]
    request: type[msgspec.Struct] | None
    response: type[msgspec.Struct] | None
    access: Literal["read", "write"]


@dataclass(frozen=True, slots=True)
class Served:
    """What every endpoint shares: the service and its settings."""

    inventory: Inventory
    default_store_id: str
    limiter: CapacityLimiter
    wake_jobs: Callable[[], None] = lambda: None


_ENCODER = msgspec.json.Encoder()


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(_ENCODER.encode(payload), status_code=status, media_type="application/json")


def error_response(error: StockroomError) -> Response:
    return json_response(error_body(error), status_of(error))


def routes_for(prefix: str, operations: tuple[Operation, ...], served: Served) -> list[Route]:
    """Starlette routes serving ``operations`` under ``prefix``."""
    return [
        Route(
            prefix + op.path,
            _endpoint(op, served),
            methods=[op.method],
            name=f"{prefix}:{op.name}",
        )
        for op in operations
    ]


def _endpoint(op: Operation, served: Served) -> Callable[[Request], Any]:
    decoder = msgspec.json.Decoder(op.request) if op.request else None
    path_checks = _path_checks(op.path)

    async def endpoint(request: Request) -> Response:
        try:
            store_id = _store_id(request, served.default_store_id)
            path = {name: str(value) for name, value in request.path_params.items()}
            for name in path_checks:
                _check_guid(name, path[name])
            body = await _decode(request, decoder)
            call = Call(served.inventory, store_id, path, body, served.wake_jobs)
            result = await anyio.to_thread.run_sync(op.handle, call, limiter=served.limiter)
        except StockroomError as error:
            return error_response(error)
        except Exception:
            log.exception("%s failed", op.name)
            return Response(b"", status_code=500)
        return json_response(result)

    endpoint.__name__ = op.name
    return endpoint


async def _decode(request: Request, decoder: msgspec.json.Decoder[Any] | None) -> Any:
    if decoder is None:
        return None
    if request.method == "GET" and ".r" not in request.query_params:
        return _from_flat_parameters(request, decoder.type)
    if request.method == "GET":
        raw = _from_r_parameter(request)
    else:
        raw = await _read_body(request)
    try:
        return decoder.decode(raw or b"{}")
    except msgspec.MsgspecError as error:
        raise violation_from_decode_error(error) from None
    except UnicodeDecodeError:
        raise ValidationFailed.of("", "the body is not valid UTF-8", "FORMAT") from None


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _from_flat_parameters(request: Request, kind: Any) -> Any:
    """A GET request's body from ordinary parameters (``paging.limit=10``), the way the SDK
    flattens simple requests; dotted names nest, and the path's own ids are skipped."""
    nested: dict[str, Any] = {}
    for name, value in request.query_params.items():
        if name in request.path_params:
            continue
        *parents, leaf = name.split(".")
        target = nested
        for parent in parents:
            child = target.setdefault(parent, {})
            if not isinstance(child, dict):
                raise ValidationFailed.of(name, f"{parent} is given both as a value and an object")
            target = child
        target[leaf] = value
    try:
        return msgspec.convert(nested, kind, strict=False)
    except msgspec.ValidationError as error:
        raise violation_from_decode_error(error) from None


def _from_r_parameter(request: Request) -> bytes:
    """The SDK's GET encoding: the whole request as base64url JSON in ``.r``."""
    encoded = request.query_params.get(".r")
    if not encoded:
        return b"{}"
    if len(encoded) > MAX_BODY_BYTES:
        raise _too_large()
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.of(".r", "not valid base64url", "FORMAT") from None


def _too_large() -> RequestTooLarge:
    return RequestTooLarge(
        f"the request body is larger than {MAX_BODY_BYTES} bytes", limit=MAX_BODY_BYTES
    )


def _store_id(request: Request, default: str) -> str:
    store = request.headers.get(SITE_HEADER, "").strip()
    if not store:
        return default
    if len(store) > _STORE_ID_MAX or not store.isprintable():
        raise ValidationFailed.of(
            SITE_HEADER, f"must be printable and at most {_STORE_ID_MAX} characters", "FORMAT"
        )
    return store


def _path_checks(path: str) -> list[str]:
    return [
        part[1:-1]
        for part in path.split("/")
        if part.startswith("{") and part.endswith("}") and part.endswith("Id}")
    ]


def _check_guid(name: str, value: str) -> None:
    if not _GUID_RE.match(value):
        raise ValidationFailed.of(name, f"{name} must be a GUID", "FORMAT")
