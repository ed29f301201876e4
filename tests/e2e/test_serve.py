"""``stockroom serve`` and the webhook relay it runs beside its workers: one relay process
whatever the number of workers, stopped with the server, never outliving it, started again
if it exits. (That the relay delivers is ``test_webhooks``'s part.)"""

import os
import signal
import time
from pathlib import Path

import pytest

from tests.live import LiveServer

pytestmark = pytest.mark.slow


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return raw.rpartition(")")[2].split()


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has exited


def _relays(parent: int) -> list[int]:
    """The live relay processes whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None or int(fields[1]) != parent or not _alive(int(entry.name)):
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if b"relay" in command:
            found.append(int(entry.name))
    return found


def _eventually(check, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s")


@pytest.fixture
def database(tmp_path):
    return f"sqlite:///{tmp_path / 'serve.db'}"


def test_one_relay_runs_beside_two_workers_and_stops_with_the_server(database, tmp_path):
    server = LiveServer(database, tmp_path / "server.log", args=["--workers", "2"])
    (relay,) = _eventually(lambda: _relays(server.pid))

    server.stop()

    assert not _alive(relay)  # stopped, and waited for, before the server exited


def test_a_killed_server_leaves_no_relay_behind(database, tmp_path):
    server = LiveServer(database, tmp_path / "server.log")
    (relay,) = _eventually(lambda: _relays(server.pid))

    server.kill()

    _eventually(lambda: not _alive(relay), timeout_s=10)


def test_a_relay_that_exits_is_started_again(database, tmp_path):
    server = LiveServer(database, tmp_path / "server.log")
    try:
        (first,) = _eventually(lambda: _relays(server.pid))
        os.kill(first, signal.SIGKILL)
        (second,) = _eventually(lambda: [pid for pid in _relays(server.pid) if pid != first])
        assert _alive(second)
    finally:
        server.stop()


def test_serve_runs_no_relay_when_told_not_to(database, tmp_path):
    server = LiveServer(database, tmp_path / "server.log", env={"STOCKROOM_RUN_RELAY": "false"})
    try:
        time.sleep(1)
        assert _relays(server.pid) == []
    finally:
        server.stop()
