"""Requests to the lean endpoints are answered by the protocol itself, byte for byte as the
ASGI way would answer them, in order, keeping the connection's HTTP/1.1 rules."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from stockroom.api.app import create_app
from stockroom.cli.http import HttpProtocol
from stockroom.service.context import now_ms
from stockroom.settings import Settings
from stockroom.storage import open_storage

DECREMENT = b"/stores/v3/bulk/inventory-items/decrement"


class Wire(asyncio.Transport):
    """The server side of a connection: what the protocol writes, and whether it closed."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = b""
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent += bytes(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    url = f"sqlite:///{tmp_path / 'lean.db'}"
    storage = open_storage(url, now_ms=now_ms, migrate=True)
    yield create_app(Settings(database_url=url, run_jobs=False, run_relay=False), storage=storage)
    storage.close()


def post(path: bytes, body: bytes, *extra: bytes) -> bytes:
    head = [b"POST " + path + b" HTTP/1.1", b"host: test", b"content-type: application/json",
            b"content-length: " + str(len(body)).encode(), *extra]  # fmt: skip
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def exchange(app: Any, *requests: bytes, access_log: bool = False) -> tuple[bytes, bool]:
    """Feed ``requests`` to one connection in one piece; what came back, and whether the
    connection was closed."""

    async def scenario() -> tuple[bytes, bool]:
        config = Config(
            app=app,
            http=HttpProtocol,
            ws="none",
            server_header=False,
            proxy_headers=False,
            access_log=access_log,  # off, as ``stockroom serve`` runs
            log_level="warning",
        )
        config.load()
        protocol = HttpProtocol(config=config, server_state=ServerState(), app_state={})
        wire = Wire()
        protocol.connection_made(wire)
        protocol.data_received(b"".join(requests))
        for _ in range(200):  # until every task it started has answered
            await asyncio.sleep(0.005)
            if not protocol.tasks and not protocol.pipeline:
                break
        await asyncio.sleep(0)  # the turn's writes
        return wire.sent, wire.closed

    return asyncio.run(scenario())


def responses(sent: bytes) -> list[bytes]:
    """The responses in a connection's bytes, each head and body (every one has a length)."""
    found = []
    while sent:
        head, _, rest = sent.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        found.append(head + b"\r\n\r\n" + rest[:length])
        sent = rest[length:]
    return found


def asgi_only(app: Any) -> Any:
    """The same application, with no lean endpoints offered to the protocol."""

    async def plain(scope, receive, send):
        await app(scope, receive, send)

    return plain


SOLD_OUT = (
    b'{"inventoryItem": {"productId": "p", "quantity": 0,'
    b' "variantId": "00000000-0000-4000-8000-000000000001"}}'
)


@pytest.fixture
def lean_answers(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The paths of the requests the protocol answered itself."""
    answered: list[bytes] = []
    serve_lean = HttpProtocol._serve_lean

    async def counted(protocol, cycle, endpoint, headers):
        answered.append(cycle.scope["raw_path"])
        await serve_lean(protocol, cycle, endpoint, headers)

    monkeypatch.setattr(HttpProtocol, "_serve_lean", counted)
    return answered


def test_lean_answers_are_the_asgi_answers_byte_for_byte(app, lean_answers):
    created, _ = exchange(app, post(b"/stores/v3/inventory-items", SOLD_OUT))
    item = created.split(b'"id":"')[1].split(b'"')[0]
    requests = [
        post(
            DECREMENT,
            b'{"decrementData": [{"inventoryItemId": "' + item + b'", "decrementBy": 1}]}',
        ),  # 428
        post(b"/stores/v3/inventory-items/query", b'{"query": {}}'),  # 200
        post(b"/stores/v3/inventory-items/query", b'{"query": {"filter": {"nope": 1}}}'),  # 400
        post(DECREMENT, b"{not json"),  # 400
    ]
    for request in requests:
        lean, _ = exchange(app, request)
        plain, _ = exchange(asgi_only(app), request)
        assert lean == plain
    statuses = [exchange(app, request)[0].split(b" ")[1] for request in requests]
    assert statuses == [b"428", b"200", b"400", b"400"]
    assert len(lean_answers) == 1 + 2 * len(requests)  # the create, and every lean exchange


def test_pipelined_requests_are_answered_in_order_on_one_connection(app):
    first = post(b"/stores/v3/inventory-items/query", b'{"query": {"cursorPaging": {"limit": 1}}}')
    second = post(DECREMENT, b"{}")
    sent, closed = exchange(app, first, second, first)

    answers = responses(sent)
    assert [answer.split(b" ")[1] for answer in answers] == [b"200", b"400", b"200"]
    assert answers[0] == answers[2]
    assert not closed


def test_connection_close_is_honoured(app):
    sent, closed = exchange(app, post(DECREMENT, b"{}", b"connection: close"))

    assert b"\r\nconnection: close\r\n" in sent.split(b"\r\n\r\n")[0] + b"\r\n"
    assert closed


def test_bodies_too_large_or_in_chunks_go_the_asgi_way_and_are_answered(app, lean_answers):
    large = b'{"query": {}, "padding": "' + b"x" * 70_000 + b'"}'
    chunked = (b"POST /stores/v3/inventory-items/query HTTP/1.1\r\nhost: test\r\n"
               b"transfer-encoding: chunked\r\n\r\nd\r\n{\"query\": {}}\r\n0\r\n\r\n")  # fmt: skip
    for request in (post(b"/stores/v3/inventory-items/query", large), chunked):
        sent, _ = exchange(app, request)
        assert sent.split(b" ")[1] in (b"200", b"400"), sent[:200]
    assert lean_answers == []


def test_with_the_access_log_on_every_request_goes_the_asgi_way(app, lean_answers):
    sent, _ = exchange(app, post(DECREMENT, b"{}"), access_log=True)

    assert sent.split(b" ")[1] == b"400"
    assert lean_answers == []


def test_headers_are_read_as_the_asgi_way_reads_them(app, lean_answers):
    stores = (b"wix-site-id: a", b"wix-site-id: b")  # of a repeated header, the first counts
    exchange(app, post(b"/stores/v3/inventory-items", SOLD_OUT, stores[0]))
    query = post(b"/stores/v3/inventory-items/query", b'{"query": {}}', *stores)

    lean, _ = exchange(app, query)
    plain, _ = exchange(asgi_only(app), query)

    assert lean == plain
    assert b'"variantId":"00000000-0000-4000-8000-000000000001"' in lean
    assert len(lean_answers) == 2


def test_an_idempotency_key_is_honoured_the_same_either_way(app, lean_answers):
    in_stock = SOLD_OUT.replace(b'"quantity": 0', b'"quantity": 5')
    created, _ = exchange(app, post(b"/stores/v3/inventory-items", in_stock))
    item = created.split(b'"id":"')[1].split(b'"')[0]
    line = b'{"inventoryItemId": "' + item + b'", "decrementBy": 1}'
    body = b'{"decrementData": [' + line + b'], "returnEntity": true}'
    keyed = post(DECREMENT, body, b"idempotency-key: sale-1")

    first, _ = exchange(app, keyed)
    replayed, _ = exchange(asgi_only(app), keyed)
    replayed_lean, _ = exchange(app, keyed)
    malformed = post(DECREMENT, body, b"idempotency-key: " + b"k" * 256)

    assert first.split(b" ")[1] == b"200"
    assert b'"quantity":4' in first
    for again in (replayed, replayed_lean):
        assert b"idempotent-replayed: true" in again.split(b"\r\n\r\n")[0]
        assert again.split(b"\r\n\r\n")[1] == first.split(b"\r\n\r\n")[1]
    assert exchange(app, malformed)[0] == exchange(asgi_only(app), malformed)[0]
    assert exchange(app, malformed)[0].split(b" ")[1] == b"400"
