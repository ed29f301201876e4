"""A real Stockroom server in a child process, for end-to-end and SDK tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``stockroom serve`` in a child process, stopped at the end of the session."""

    def __init__(
        self,
        database_url: str,
        log: Path,
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
        port: int | None = None,
    ) -> None:
        """Start serving ``database_url``; ``args`` are more ``serve`` options (``--workers``);
        ``port`` reuses a port (a restart), else a free one is chosen."""
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log = log.open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "stockroom", "serve", "--port", str(self.port),
             "--database", database_url, *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=os.environ | (env or {}),
        )  # fmt: skip
        self._wait_until_healthy(log)

    def _wait_until_healthy(self, log: Path) -> None:
        deadline = time.monotonic() + 60  # workers start slowly on a busy machine
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._log.close()
                raise RuntimeError(f"server exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()  # leave no server behind, workers included
        raise RuntimeError(f"server did not become healthy:\n{log.read_text()}")

    @property
    def pid(self) -> int:
        """The ``stockroom serve`` process's id."""
        return self._process.pid

    def kill(self) -> None:
        """Stop the server the hard way (SIGKILL), as a crash or power cut would."""
        self._process.kill()
        self._process.wait(timeout=15)
        self._log.close()

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=15)
        self._log.close()
