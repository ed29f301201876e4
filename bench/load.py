"""HTTP load with wrk: a C load generator (epoll, LuaJIT scripts in ``bench/lua``).

wrk was chosen over a Python client so that the load generator costs a fraction of the
server's CPU on this two-core machine, and over ``hey`` because its Lua hooks can build
each request (random carts, numbered bulk batches), count response statuses, and stop a
thread at a sold-out item. Every run is bounded by ``-d``; the latency it reports is
from sending a request to its response, per connection, closed loop (one request in
flight per connection, so ``clients`` = connections).
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from .procstat import sample
from .results import Stats

__all__ = ["LUA_DIR", "wrk"]

LUA_DIR: Final = Path(__file__).parent / "lua"
_SLACK_S: Final = 60
_POLL_S: Final = 0.01


def wrk(
    script: str,
    url: str,
    *,
    clients: int,
    duration_s: float,
    result_file: Path,
    env: Mapping[str, object] | None = None,
    threads: int | None = None,
    app_pids: Callable[[], list[int]] = list,
    db_pids: Callable[[], list[int]] = list,
) -> Stats:
    """Run ``lua/<script>`` against ``url`` and sample the server while it runs.

    ``threads`` defaults to one per core (at most one per connection). A script may end
    early by stopping every thread (``report.stop`` in Lua); wrk is then interrupted, and
    its duration is the time until then.
    """
    threads = threads or min(clients, os.cpu_count() or 1)
    result_file.unlink(missing_ok=True)
    for marker in result_file.parent.glob(f"{result_file.name}.stopped-*"):
        marker.unlink()
    command = ["wrk", "-c", str(clients), "-t", str(threads), "-d", f"{math.ceil(duration_s)}s",
               "--timeout", "60s", "-s", str(LUA_DIR / script), url]  # fmt: skip
    environment = os.environ | {
        "LUA_PATH": f"{LUA_DIR}/?.lua;;",
        "BENCH_RESULT": str(result_file),
        "THREADS": str(threads),
    }
    environment |= {key: str(value) for key, value in (env or {}).items()}
    with sample(app_pids, db_pids) as found:
        process = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            _interrupt_when_stopped(process, result_file, threads, duration_s + _SLACK_S)
            stdout, stderr = process.communicate(timeout=_SLACK_S)
        finally:
            if process.poll() is None:  # interrupted: leave nothing running
                process.kill()
                process.wait()
    if process.returncode != 0 or not result_file.exists():
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{stdout}\n{stderr}")
    result = json.loads(result_file.read_text())
    footprint = found[0]
    return Stats(
        ops=result["requests"],
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        errors=result["socket_errors"] + result["timeouts"],
        statuses=result["statuses"],
        cpu_pct=footprint.cpu_pct,
        db_cpu_pct=footprint.db_cpu_pct,
        rss_mb=footprint.rss_mb,
        machine_pct=footprint.machine_pct,
    )


def _interrupt_when_stopped(
    process: subprocess.Popen[str], result_file: Path, threads: int, limit_s: float
) -> None:
    """Wait for wrk; send it SIGINT (it then reports) once every thread has stopped."""
    deadline = time.monotonic() + limit_s
    while process.poll() is None:
        stopped = len(list(result_file.parent.glob(f"{result_file.name}.stopped-*")))
        if stopped >= threads or time.monotonic() > deadline:
            process.send_signal(signal.SIGINT)
            return
        time.sleep(_POLL_S)
