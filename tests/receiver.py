"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 in a thread of its own.

It records every request it gets and answers as its ``respond`` function says: a status,
``HANG`` (say nothing for a while), ``GARBAGE`` (bytes that are not HTTP), or a
``Redirect``. Good receivers answer 204 at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from stockroom.webhooks import InvalidSignature, verify

HANG: Final = "hang"
GARBAGE: Final = "garbage"


@dataclass(frozen=True, slots=True)
class Redirect:
    location: str
    status: int = 307


Reply = int | str | Redirect


@dataclass(frozen=True, slots=True)
class Received:
    """One request as the receiver got it, and what it answered."""

    headers: dict[str, str]
    body: bytes
    reply: Reply

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def sequence(self) -> int:
        return int(self.headers["stockroom-sequence"])

    @property
    def acknowledged(self) -> bool:
        return isinstance(self.reply, int) and 200 <= self.reply < 300

    def verified(self, secret: str, *, now: float | None = None) -> bool:
        """Whether the signature verifies (``now`` for senders on a test clock)."""
        try:
            verify(
                secret,
                body=self.body,
                timestamp=self.headers["stockroom-timestamp"],
                signature=self.headers["stockroom-signature"],
                now=now,
            )
        except InvalidSignature:
            return False
        return True


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # relays open many connections at once; the default 5 drops them


class Receiver:
    """``with Receiver() as receiver:`` serves ``receiver.url`` until the block ends."""

    def __init__(self, respond: Callable[[Received], Reply] | None = None, *, hang_s: float = 5):
        self.respond = respond or (lambda _: 204)
        self.hang_s = hang_s
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def acknowledged(self) -> list[Received]:
        return [request for request in self.snapshot() if request.acknowledged]

    def wait_for(
        self, condition: Callable[[list[Received]], bool], *, timeout: float = 30
    ) -> list[Received]:
        """Wait until ``condition`` holds for what was received; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.snapshot()
            if condition(seen):
                return seen
            time.sleep(0.02)
        raise AssertionError(f"timed out; received {len(self.snapshot())} requests")

    def events(self) -> Iterator[dict[str, Any]]:
        """Each acknowledged event once, in the order first acknowledged."""
        seen: set[str] = set()
        for request in self.acknowledged():
            event = request.event
            if event["id"] not in seen:
                seen.add(event["id"])
                yield event

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                # A sender killed mid-request leaves a body cut short: refuse it, as any
                # receiver parsing or verifying it would.
                reply = 400 if len(body) < length else receiver.respond(Received(headers, body, 0))
                with receiver._lock:
                    receiver.received.append(Received(headers, body, reply))
                if reply == HANG:
                    time.sleep(receiver.hang_s)
                    self.close_connection = True
                    return
                if reply == GARBAGE:
                    self.wfile.write(b"\x00\x01 this is not HTTP \xff\r\n\r\n")
                    self.close_connection = True
                    return
                if isinstance(reply, Redirect):
                    self.send_response(reply.status)
                    self.send_header("location", reply.location)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                assert isinstance(reply, int)
                answer = b"" if 200 <= reply < 300 else b"receiver says no"
                self.send_response(reply)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: object) -> None:
                pass

        return Handler
