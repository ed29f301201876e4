"""The relay ``stockroom serve`` runs beside its workers: one process of its own.

The relay numbers events (on PostgreSQL) and delivers webhooks. Run as threads inside each
server process, it held that process's interpreter lock for the Python side of every
numbering batch, and requests waited behind it: a flash sale on PostgreSQL at 64 clients
had a p99 of 21-27 ms with the relay inside, 12-14 ms with none, and 16-19 ms with the relay
in a process of its own beside the server. So ``serve`` starts ``stockroom relay`` as a
child process once, whatever the number of workers, and stops it when it stops.

The child is restarted if it exits while the server runs (a database it could not reach at
start, say). If the server dies without stopping it (SIGKILL), the child notices within half
a second that its parent is gone, finishes the batch in hand and exits (``relay --exit-with``).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from typing import Final

__all__ = ["RelayProcess"]

log = logging.getLogger("stockroom.serve")

_STOP_TIMEOUT_S: Final = 30.0
"""How long a stopping relay may take to finish its batches before it is killed."""


class RelayProcess:
    """``stockroom relay`` in a child process, kept running until ``stop``."""

    def __init__(self, *, restart_after_s: float = 1.0) -> None:
        self._restart_after_s = restart_after_s
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._watcher = threading.Thread(target=self._watch, name="stockroom-relay-watch")

    def start(self) -> None:
        """Start the relay, and the thread that restarts it if it exits."""
        self._spawn()
        self._watcher.daemon = True
        self._watcher.start()

    def stop(self) -> None:
        """Ask the relay to finish its batches and exit (SIGTERM); kill it after 30 s."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _spawn(self) -> None:
        command = [sys.executable, "-m", "stockroom", "relay", "--exit-with", str(os.getpid())]
        with self._lock:
            if self._stopping.is_set():
                return
            self._process = subprocess.Popen(command)  # noqa: S603 - our own command

    def _watch(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                process = self._process
            if process is None:
                return
            code = process.wait()
            if self._stopping.wait(self._restart_after_s):
                return
            log.warning("the webhook relay exited with status %s; starting it again", code)
            self._spawn()
