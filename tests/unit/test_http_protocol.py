"""A connection's writes within one turn of the event loop leave in one write, in order."""

import asyncio
import socket

from stockroom.cli.http import TurnWrites


class Counted:
    """A real socket transport that counts the writes reaching it."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        self.transport.write(data)

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def close(self) -> None:
        self.transport.close()


async def _connected() -> tuple[Counted, socket.socket]:
    ours, theirs = socket.socketpair()
    transport, _ = await asyncio.get_running_loop().create_connection(asyncio.Protocol, sock=ours)
    theirs.setblocking(False)
    return Counted(transport), theirs


async def _read_all(peer: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    received = b""
    while chunk := await loop.sock_recv(peer, 65536):
        received += chunk
    return received


def test_a_head_and_body_written_together_leave_in_one_write() -> None:
    async def scenario() -> tuple[int, bytes]:
        counted, peer = await _connected()
        writes = TurnWrites(counted, asyncio.get_running_loop())  # type: ignore[arg-type]
        writes.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        writes.write(b"{}")
        assert counted.writes == 0  # held until the turn ends
        await asyncio.sleep(0)
        first = counted.writes
        writes.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        writes.close()  # what is held goes out before the connection closes
        try:
            return first, await _read_all(peer)
        finally:
            peer.close()

    first, received = asyncio.run(scenario())
    assert first == 1
    assert received == (
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}HTTP/1.1 204 No Content\r\n\r\n"
    )


def test_nothing_is_written_to_a_connection_already_closing() -> None:
    async def scenario() -> int:
        counted, peer = await _connected()
        writes = TurnWrites(counted, asyncio.get_running_loop())  # type: ignore[arg-type]
        writes.write(b"late")
        counted.close()
        await asyncio.sleep(0)
        peer.close()
        return counted.writes

    assert asyncio.run(scenario()) == 0
