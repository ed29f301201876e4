"""A description of the machine and the software under test, for the report's header."""

from __future__ import annotations

import os
import platform
import subprocess
import timeit
from pathlib import Path

from .targets import PostgresTarget, SqliteTarget

__all__ = ["describe"]


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not installed"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0] if done.stdout or done.stderr else ""
    )


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _python_speed() -> str:
    """How fast this machine runs Python as the run begins: the best of three timings of a
    loop of ten million additions. Cores of one model name differ from machine to machine
    (and from minute to minute on a shared host) by a factor of two; this says which kind
    of run a report is, next to another."""
    best = min(timeit.repeat("for i in range(10_000_000): s += i", "s = 0", number=1, repeat=3))
    return f"a loop of 10M additions in {best:.2f} s (best of 3)"


def _source() -> str:
    """The code under test: the commit, and whether the work tree differs from it."""
    root = Path(__file__).parent.parent
    commit = _first_line(["git", "-C", str(root), "log", "-1", "--format=%h %ci"])
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "src"],
        capture_output=True, text=True, timeout=10, check=False,
    ).stdout.strip()  # fmt: skip
    return f"{commit}{' + uncommitted changes in src/' if dirty else ''}"


def describe() -> dict[str, str]:
    """Cores, memory, kernel, and the versions of everything in the measurement."""
    return {
        "CPU": f"{os.cpu_count()} cores, {_cpu_model()}",
        "Memory": f"{_memory_gib():.1f} GiB",
        "Kernel": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Python speed": _python_speed(),
        "SQLite": SqliteTarget.version(),
        "PostgreSQL": PostgresTarget.version(),
        "Load generator": _first_line(["wrk", "-v"]).split(" Copyright")[0],
        "pgbench": _first_line(["pgbench", "--version"]),
        "Stockroom": _source(),
    }
