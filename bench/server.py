"""``stockroom serve`` in a child process, on a port of its own, for one backend."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["Server", "post_json"]

_HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def post_json(
    url: str, body: Any, *, store_id: str | None = None, timeout: float = 120
) -> tuple[int, Any]:
    """POST a JSON body to the server; (status, decoded JSON body or None)."""
    headers = {"content-type": "application/json"}
    if store_id:
        headers["wix-site-id"] = store_id
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


class Server:
    """The API server under test: started by ``with``, stopped (SIGTERM) on exit."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://{_HOST}:{self.port}"
        self._database_url = database_url
        self._log_path = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Server:
        stockroom = Path(sys.executable).with_name("stockroom")
        command = [str(stockroom), "serve", "--host", _HOST, "--port", str(self.port),
                   "--database", self._database_url]  # fmt: skip
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self._log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self._log_path.read_text()}")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
