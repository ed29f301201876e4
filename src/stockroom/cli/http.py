"""The HTTP/1.1 protocol ``stockroom serve`` runs: uvicorn's httptools protocol, sending each
response in one write.

uvicorn writes a response's head (status line and headers) and its body in two calls to the
transport, and each is a ``send`` system call and a TCP segment of its own, which the client
must read separately. Here the connection's writes made during one turn of the event loop
are joined and leave together at the end of that turn, so a response goes out whole in one
write, and responses that complete in the same turn on one connection (pipelining) share
it. In one profile each of a 64-client flash sale (PostgreSQL before, SQLite after), the
writes' share of the samples holding the GIL was 15%, then 8%; throughput stayed within the
spread of repeated runs.

The application's lean endpoints (``lean_endpoints``: the contract's POST operations at
paths without parameters, searches aside) are answered by the protocol itself once a small
body has arrived whole: no ASGI messages, no Starlette ``Request`` (the endpoint gets a
``LeanRequest``: the headers decoded once, the body read), no per-header checks of a
response the application built itself, no Starlette sending. Everything else, and any
request it cannot take whole (a large or chunked body, ``Expect: 100-continue``), goes the
ASGI way, and so does everything when uvicorn's access log is on. Measured in the process,
one request at a time, refusals of a sold-out item: 151.5 -> 144 µs a request (best of six
rounds each); then, over HTTP, a 64-client flash sale on SQLite sold 9% more with the
``LeanRequest`` than with a Starlette ``Request``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from starlette.responses import Response
from uvicorn._types import ASGI3Application, HTTPScope
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from stockroom.api.routing import LeanRequest, is_large

__all__ = ["HttpProtocol", "LeanEndpoint", "TurnWrites"]

log = logging.getLogger(__name__)

LeanEndpoint = Callable[[LeanRequest], Awaitable[Response]]
"""An endpoint the protocol may call itself: it answers every request with a whole
``Response`` (body and headers computed), never raising for the request's sake."""


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol whose every write goes through a ``TurnWrites``, and
    which answers the application's lean endpoints itself (``_serve_lean``)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(cast(asyncio.Transport, transport))
        # Every write and close, the protocol's own (an error answer) included, passes
        # through one place, so the connection's bytes keep their order.
        self.transport = cast(asyncio.Transport, TurnWrites(self.transport, self.loop))
        # uvicorn's access log is written by the ASGI way's sending: with it on, none is lean.
        self._lean: Mapping[str, LeanEndpoint] = (
            {} if self.access_log else getattr(self.app, "lean_endpoints", {})
        )

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        endpoint = self._lean.get(cycle.scope["path"]) if cycle.scope["method"] == "POST" else None
        headers = None
        if endpoint is not None and not cycle.waiting_for_100_continue:
            headers = _headers_of_small(cycle.scope)
        if endpoint is None or headers is None:
            super()._start_asgi_task(cycle, app)
            return
        task = self.loop.create_task(self._serve_lean(cycle, endpoint, headers))
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    async def _serve_lean(
        self, cycle: RequestResponseCycle, endpoint: LeanEndpoint, headers: dict[str, str]
    ) -> None:
        """Answer a request to a lean endpoint: read its (small) body, hand the endpoint a
        ``LeanRequest`` and write its ``Response`` as one piece, where the ASGI way would
        pass both through messages, a Starlette ``Request`` reading the body as a stream and
        its headers name by name, uvicorn's checks of every header and Starlette's
        sending."""
        try:
            while cycle.more_body and not cycle.disconnected:
                await cycle.message_event.wait()
                cycle.message_event.clear()
            if cycle.disconnected:
                return
            response = await endpoint(LeanRequest(cycle.scope, headers, bytes(cycle.body)))
            if cycle.disconnected:
                return
            head: list[bytes | memoryview] = [STATUS_LINE[response.status_code]]
            for name, value in (*self.server_state.default_headers, *response.raw_headers):
                head += (name, b": ", value, b"\r\n")
            if not cycle.keep_alive:
                head.append(b"connection: close\r\n")
            head += (b"\r\n", response.body)
            cycle.response_started = cycle.response_complete = True
            self.transport.write(b"".join(head))
            cycle.message_event.set()
            if not cycle.keep_alive:
                self.transport.close()
            self.on_response_complete()
        except Exception:
            log.exception("answering %s failed", cycle.scope["path"])
            if not cycle.response_started:
                await cycle.send_500_response()
            else:
                self.transport.close()


def _headers_of_small(scope: HTTPScope) -> dict[str, str] | None:
    """The request's headers, decoded, when it declares a body that is not large
    (``is_large``: larger ones, and bodies sent in chunks, go the ASGI way, which reads them
    as they come, refuses what is too large unread, and admits the large ones a few at a
    time); ``None`` otherwise. Of a repeated name the first is kept, as Starlette's
    ``Headers.get`` would find it."""
    raw = cast(list[tuple[bytes, bytes]], scope["headers"])  # uvicorn's is a list
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(raw)}
    if "transfer-encoding" in headers or is_large(headers):
        return None
    return headers


class TurnWrites:
    """A transport's stand-in that holds what is written until the end of the event loop's
    turn, then writes it as one piece. Closing writes what is held first."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            self._loop.call_soon(self._flush)
        self._held.append(bytes(data))

    def _flush(self) -> None:
        held, self._held = self._held, []
        if held and not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        # The rest of the transport's interface, unchanged (extra info, reading, abort).
        return getattr(self._transport, name)
