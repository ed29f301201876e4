"""CPU and memory of the serving processes, sampled from /proc while a load runs.

CPU is the growth of ``utime + stime`` over the wall time of the measurement, as a percent
of one core (this machine's ceiling is 100 x cores), summed over the processes. Memory is
the peak ``VmRSS`` seen of any one process (the target is per server worker).
PostgreSQL is counted as the backends connected to the benchmark's database and the WAL
writer; other databases on the same server (other people's tests) are left out, but the
machine's total busy time is reported beside, to show when something else competed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Footprint", "postgres_pids", "process_tree", "sample"]

_TICKS = os.sysconf("SC_CLK_TCK")
_INTERVAL_S = 0.2


@dataclass(frozen=True, slots=True)
class Footprint:
    cpu_pct: float
    db_cpu_pct: float
    rss_mb: float
    machine_pct: float
    """Every process's CPU on the machine (ours, the load generator's, anyone else's)."""


def _machine_busy_seconds() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / _TICKS


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    # After the command name: state is field 3, utime field 14 and stime field 15.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it (the server's workers, if any)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (parent := _parent(int(entry.name))) is not None:
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def postgres_pids(database: str) -> list[int]:
    """The PostgreSQL backends serving ``database`` (their title names it), and the server's
    own WAL writer, which every commit waits for."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if f" {database} " in title or title.rstrip().endswith("walwriter"):
                pids.append(int(entry.name))
    return pids


class _Sampler:
    def __init__(self, app_pids: Callable[[], list[int]], db_pids: Callable[[], list[int]]):
        self._app_pids = app_pids
        self._db_pids = db_pids
        self._stop = threading.Event()
        self._app_start: dict[int, float] = {}
        self._db_start: dict[int, float] = {}
        self._app_last: dict[int, float] = {}
        self._db_last: dict[int, float] = {}
        self.peak_rss_mb = 0.0
        self._started = False
        self._machine_start = _machine_busy_seconds()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _take(self, pids: list[int], start: dict[int, float], last: dict[int, float]) -> None:
        for pid in pids:
            seconds = _cpu_seconds(pid)
            if seconds is None:  # gone: keep its last sample
                continue
            # A process first seen after the first sample was born during the measurement.
            start.setdefault(pid, 0.0 if self._started else seconds)
            last[pid] = seconds

    def _tick(self) -> None:
        app = self._app_pids()
        self._take(app, self._app_start, self._app_last)
        self._take(self._db_pids(), self._db_start, self._db_last)
        self.peak_rss_mb = max([self.peak_rss_mb, *(_rss_mb(pid) for pid in app)])

    def _run(self) -> None:
        while not self._stop.wait(_INTERVAL_S):
            self._tick()

    def start(self) -> float:
        self._tick()
        self._started = True
        self._thread.start()
        return time.monotonic()

    def stop(self, started: float) -> Footprint:
        self._stop.set()
        self._thread.join()
        self._tick()
        wall = max(time.monotonic() - started, 1e-9)
        app = sum(self._app_last[p] - self._app_start[p] for p in self._app_last)
        db = sum(self._db_last[p] - self._db_start[p] for p in self._db_last)
        db_pct = 100 * db / wall if self._db_last else float("nan")
        machine = 100 * (_machine_busy_seconds() - self._machine_start) / wall
        return Footprint(
            100 * (app + (db if self._db_last else 0)) / wall, db_pct, self.peak_rss_mb, machine
        )


@contextmanager
def sample(
    app_pids: Callable[[], list[int]], db_pids: Callable[[], list[int]] = list
) -> Iterator[list[Footprint]]:
    """Sample while the block runs; the yielded list holds the footprint afterwards.

    A process that starts during the block (a new PostgreSQL backend) is counted from its
    birth; one that ends between two samples loses its last fifth of a second.
    """
    sampler = _Sampler(app_pids, db_pids)
    found: list[Footprint] = []
    started = sampler.start()
    try:
        yield found
    finally:
        found.append(sampler.stop(started))
