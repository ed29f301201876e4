"""From an HTTP request to one operation and back.

Every operation is declared once (``Operation``) and served under each service prefix.
The endpoint reads the store from ``wix-site-id``, decodes the body (or, for GET, the
``.r`` parameter the SDK sends), runs the operation in a worker thread (or, for the few that
can answer without one, on the event loop), and encodes the answer. Anticipated errors
become the contract's error bodies; anything else is logged and answered 500 with an empty
body, as the contract specifies for system errors.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

import anyio.from_thread
import anyio.to_thread
import msgspec
from anyio import CapacityLimiter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stockroom.domain.errors import Conflict, StockroomError, Unavailable, ValidationFailed
from stockroom.service.context import Inventory

from .auth import Guard, Required
from .errors import (
    RequestTooLarge,
    error_body,
    retry_after_of,
    status_of,
    violation_from_decode_error,
)
from .wire import GUID_PATTERN

__all__ = [
    "Call",
    "LeanRequest",
    "Operation",
    "Served",
    "is_large",
    "json_response",
    "routes_for",
]

log = logging.getLogger("stockroom.api")

MAX_BODY_BYTES = 4 * 1024 * 1024
IDEMPOTENCY_HEADER = "idempotency-key"


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"


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
    access: Required
    on_loop: Callable[[Call], Awaitable[Any]] | None = None
    """Tried first, on the event loop, for a request without an idempotency key: answers
    without taking a worker thread (the coalesced stock changes), or returns ``None`` to
    send the request to ``handle``."""
    search: bool = False
    """A search, whose aggregations read every match: run a few at a time, on the threads of
    ``Served.searches`` rather than those of every other request."""


@dataclass(frozen=True, slots=True)
class Served:
    """What every endpoint shares: the service and its settings."""

    inventory: Inventory
    guard: Guard
    limiter: CapacityLimiter
    idempotency_ttl_ms: int = 24 * 3_600_000
    wake_jobs: Callable[[], None] = lambda: None
    large_requests: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))
    """Admits requests with large bodies a few at a time: a thousand-item bulk request costs
    megabytes from decoding to answering, and sixty-four of them waiting on the database
    at once would cost the process hundreds."""
    after_search: Callable[[], None] = lambda: None
    """Called on the search's thread when a search has answered (``cli.worker`` hands the
    memory it freed back to the operating system)."""
    searches: CapacityLimiter = field(default_factory=lambda: CapacityLimiter(6))
    """The worker threads searches run on. Each holds the database's working memory for its
    groups and sorts (SQLite's in the process) while it runs. Measured with a mix of searches
    at a million items on SQLite, 64 clients: unbounded, 268 MB; eight at a time, 151-202 MB
    across runs; six, 142 MB (3-5 searches a second at 16 and 64 clients, as with eight);
    four, 126 MB, but the cheap searches of a mix then wait behind the costly ones."""


_ENCODER = msgspec.json.Encoder()


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(_ENCODER.encode(payload), status_code=status, media_type="application/json")


def error_response(error: StockroomError) -> Response:
    response = json_response(error_body(error), status_of(error))
    if (retry_after := retry_after_of(error)) is not None:
        response.headers["Retry-After"] = retry_after
    return response


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
        if request.method != "GET" and is_large(request.headers):
            async with served.large_requests:
                return await serve(request)
        return await serve(request)

    async def serve(request: Request | LeanRequest) -> Response:
        try:
            store_id = await served.guard.store_for(request.headers, op.access)
            path = {name: str(value) for name, value in request.path_params.items()}
            for name in path_checks:
                _check_guid(name, path[name])
            idempotency_key = _idempotency_key(request.headers, op)
            if isinstance(request, LeanRequest):
                raw = request.body
            else:
                raw = b"" if request.method == "GET" else await _read_body(request)
            body = _decode(request, raw, decoder)
            call = Call(served.inventory, store_id, path, body, served.wake_jobs)
            if idempotency_key is not None:
                fingerprint = _fingerprint(request.method, request.scope["path"], raw)
                status, answer, replayed = await anyio.to_thread.run_sync(
                    _run_once, op, call, served, idempotency_key, fingerprint,
                    limiter=served.limiter,
                )  # fmt: skip
                return _raw_response(answer, status, replayed=replayed)
            result = None if op.on_loop is None else await op.on_loop(call)
            if result is None:
                if op.search:
                    assert isinstance(request, Request), "searches watch their connection"
                    result = await anyio.to_thread.run_sync(
                        _run_search, op, call, request.is_disconnected, served.after_search,
                        limiter=served.searches,
                    )  # fmt: skip
                    if result is _GONE:
                        return Response(b"", status_code=_CLIENT_GONE)
                else:
                    result = await anyio.to_thread.run_sync(
                        _refusal_returned, op.handle, call, limiter=served.limiter
                    )
        except StockroomError as error:
            return _refusal_response(op, error)
        except Exception:
            log.exception("%s failed", op.name)
            return Response(b"", status_code=500)
        if isinstance(result, _Refused):
            return _refusal_response(op, result.error)
        return json_response(result)

    endpoint.__name__ = op.name
    endpoint.operation = op  # type: ignore[attr-defined]
    endpoint.lean = serve  # type: ignore[attr-defined]
    return endpoint


class LeanRequest:
    """A POST request to a path without parameters whose body (small) has arrived whole: what
    the HTTP protocol hands an endpoint's ``lean`` form in place of a Starlette ``Request``
    (``cli.http``). Its headers were decoded once, in one pass, names in lower case, the
    first of a repeated name kept (as Starlette's ``Headers.get`` finds it). (A plain class:
    one is made per request, and a frozen dataclass takes four times as long to make.)"""

    __slots__ = ("body", "headers", "scope")

    method: Final = "POST"
    path_params: Final[Mapping[str, str]] = MappingProxyType({})

    def __init__(self, scope: Mapping[str, Any], headers: Mapping[str, str], body: bytes) -> None:
        self.scope = scope
        self.headers = headers
        self.body = body


@dataclass(frozen=True, slots=True)
class _Refused:
    error: StockroomError


def _refusal_returned(handle: Callable[[Call], Any], call: Call) -> Any:
    """``handle(call)`` on a worker thread, its ``StockroomError`` returned in a ``_Refused``
    instead of raised, and without its traceback. Raised out of the thread, the error would
    hold the frames it passed through, one of them holding the future that holds the error:
    a cycle only the garbage collector frees, and a stream of refusals (a client polling an
    item that is gone) would pause the process for tens of milliseconds at a time."""
    try:
        return handle(call)
    except StockroomError as error:
        return _Refused(error.with_traceback(None))


def _refusal_response(op: Operation, error: StockroomError) -> Response:
    if isinstance(error, Unavailable):
        log.warning("%s answered %s: %s", op.name, status_of(error), error.description)
    return error_response(error)


_GONE: Final = object()
"""What ``_run_search`` returns for a client that went away while its search waited."""
_CLIENT_GONE: Final = 499
"""The status logged for it (nginx's "client closed request"; nobody receives it)."""


def _run_search(
    op: Operation,
    call: Call,
    gone: Callable[[], Coroutine[Any, Any, bool]],
    after: Callable[[], None],
) -> Any:
    """A search on its worker thread, once its turn has come: skipped if its client has
    disconnected meanwhile (``_GONE``). A search at a million items takes seconds, and they
    run a few at a time, so when many clients give up (a load balancer's timeout, wrk at
    the end of a run) the queue left behind would otherwise keep the process busy for
    minutes with answers nobody reads. ``after`` runs once it has answered. A refusal comes
    back as ``_refusal_returned`` gives it."""
    if anyio.from_thread.run(gone):
        return _GONE
    try:
        return _refusal_returned(op.handle, call)
    finally:
        after()


def _idempotency_key(headers: Mapping[str, str], op: Operation) -> str | None:
    key = headers.get(IDEMPOTENCY_HEADER)
    if key is None or op.method == "GET":
        return None
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise ValidationFailed.of(
            IDEMPOTENCY_HEADER, "an idempotency key is 1 to 255 printable characters", "FORMAT"
        )
    return key


def _fingerprint(method: str, path: str, raw: bytes) -> str:
    """What makes two requests "the same" for an idempotency key: method, path and body."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(raw)
    return digest.hexdigest()


def _run_once(
    op: Operation, call: Call, served: Served, key: str, fingerprint: str
) -> tuple[int, bytes, bool]:
    """Run a write once per idempotency key: the first answer is kept in the same
    transaction as the write's effects, and replayed to every retry with the same body."""
    storage = served.inventory.storage
    now = served.inventory.clock()
    with storage.request(call.store_id) as tx:
        earlier = tx.access.claim_idempotency(
            call.store_id,
            key,
            request_hash=fingerprint,
            now_ms=now,
            expires_ms=now + served.idempotency_ttl_ms,
        )
        if earlier is not None:
            recorded_fingerprint, status, answer = earlier
            if recorded_fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    "this idempotency key was used with a different request",
                    idempotencyKey=key,
                )
            return status, answer, True
        try:
            with tx.savepoint():
                status, answer = 200, _ENCODER.encode(op.handle(call))
        except Unavailable:
            raise  # not an answer to keep: the retry should run the request, not replay this
        except StockroomError as error:
            status, answer = status_of(error), _ENCODER.encode(error_body(error))
        tx.access.complete_idempotency(call.store_id, key, status=status, body=answer)
    return status, answer, False


def _raw_response(answer: bytes, status: int, *, replayed: bool) -> Response:
    response = Response(answer, status_code=status, media_type="application/json")
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _decode(
    request: Request | LeanRequest, raw: bytes, decoder: msgspec.json.Decoder[Any] | None
) -> Any:
    if decoder is None:
        return None
    if isinstance(request, Request) and request.method == "GET":
        if ".r" not in request.query_params:
            if "\x00" in request.url.query or "%00" in request.url.query:
                raise _nul_refused()
            return _from_flat_parameters(request, decoder.type)
        raw = _from_r_parameter(request)
    if b"\\u0000" in raw and _JSON_NUL.search(raw):
        raise _nul_refused()
    try:
        return decoder.decode(raw or b"{}")
    except msgspec.MsgspecError as error:
        raise violation_from_decode_error(error) from None
    except UnicodeDecodeError:
        raise ValidationFailed.of("", "the body is not valid UTF-8", "FORMAT") from None
    except RecursionError:
        raise ValidationFailed.of("", "the body nests too deeply", "MAX") from None


_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
"""A JSON string escape for U+0000 (a backslash not itself escaped, then ``u0000``)."""


def _nul_refused() -> ValidationFailed:
    # PostgreSQL cannot store U+0000 in text, so no backend accepts it: the same on both.
    return ValidationFailed.of("", "text may not contain the character U+0000", "FORMAT")


_LARGE_BODY_BYTES: Final = 64 * 1024


def _declared_size(headers: Mapping[str, str]) -> int | None:
    """The body's size as its ``Content-Length`` says, if it says one."""
    declared = headers.get("content-length")
    return int(declared) if declared and declared.isdigit() else None


def is_large(headers: Mapping[str, str]) -> bool:
    """Whether a request with these headers (lower-case names) has a large body, or one of a
    size not declared (sent in chunks): such requests are admitted a few at a time
    (``Served.large_requests``)."""
    declared = _declared_size(headers)
    return declared is None or declared > _LARGE_BODY_BYTES


async def _read_body(request: Request) -> bytes:
    declared = _declared_size(request.headers)
    if declared is not None and declared > MAX_BODY_BYTES:
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


def _path_checks(path: str) -> list[str]:
    return [
        part[1:-1]
        for part in path.split("/")
        if part.startswith("{") and part.endswith("}") and part.endswith("Id}")
    ]


def _check_guid(name: str, value: str) -> None:
    if not _GUID_RE.match(value):
        raise ValidationFailed.of(name, f"{name} must be a GUID", "FORMAT")
